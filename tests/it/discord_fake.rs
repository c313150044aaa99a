//! Proves the home-made fake Discord (`support/discord.rs`) against
//! serenity's own code: its fixtures parse into serenity's models, a real
//! serenity `Client` connects through its gateway and answers an
//! interaction, serenity's `Http` calls work against its REST routes,
//! serenity's ratelimiter waits out its 429s and reads its error codes, and
//! its signatures pass serenity's `Verifier`, and a poise framework
//! registers its commands and answers through it. A shape serenity cannot
//! parse fails these tests.

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{Value, json};
use serenity::all::{
    ActionRowComponent, ApplicationId, ButtonStyle, ChannelType, Client, ClientBuilder, Command,
    CommandDataOptionValue, CommandOptionType, ComponentInteractionDataKind, Context,
    CreateActionRow, CreateAttachment, CreateButton, CreateCommand, CreateCommandOption,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, EditInteractionResponse, EditMessage, EventHandler, GatewayIntents, GuildId,
    Interaction, Ready, UserId,
};
use serenity::http::HttpError;
use serenity::interactions_endpoint::Verifier;
use tokio::sync::mpsc;

use crate::support::discord::{
    self, APP_ID, Auth, EPHEMERAL, Failure, FakeDiscord, Invoker, Opt, Place, Signer,
};

const WAIT: Duration = Duration::from_secs(10);
const GUILD: Place = Place::Guild {
    guild_id: 900_000_000_000_000_001,
    channel_id: 900_000_000_000_000_002,
};
const DM: Place = Place::Dm {
    channel_id: 900_000_000_000_000_003,
};

fn parse(v: &Value) -> Interaction {
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("serenity cannot parse the fixture: {e}\n{v:#}"))
}

fn buy_button_row() -> Value {
    json!([{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Buy", "custom_id": "buy:1"},
        {"type": 3, "custom_id": "amount", "options": [
            {"label": "0.1 SOL", "value": "0.1"}, {"label": "1 SOL", "value": "1"}]}
    ]}])
}

#[test]
fn every_fixture_parses_into_the_right_serenity_interaction() {
    let ada = Invoker::new(42).locale("ru");

    let guild_cmd = discord::slash_command(
        GUILD,
        &ada,
        "copy",
        &[
            Opt::string("wallet", "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"),
            Opt::integer("slippage_bps", 150),
            Opt::number("sol", 0.25),
        ],
    );
    let Interaction::Command(c) = parse(&guild_cmd) else {
        panic!("a slash command must parse as Interaction::Command");
    };
    assert_eq!(c.data.name, "copy");
    assert_eq!(c.data.id.get(), discord::command_id("copy"));
    assert_eq!(c.guild_id, Some(GuildId::new(900_000_000_000_000_001)));
    assert_eq!(c.channel_id.get(), 900_000_000_000_000_002);
    assert_eq!(
        c.user.id,
        UserId::new(42),
        "serenity fills user from member"
    );
    assert!(c.member.is_some());
    assert_eq!(c.locale, "ru");
    assert_eq!(c.guild_locale.as_deref(), Some("en-US"));
    assert!(c.app_permissions.is_some());
    assert_eq!(c.application_id, ApplicationId::new(APP_ID));
    assert_eq!(c.version, 1);
    let values: Vec<_> = c
        .data
        .options
        .iter()
        .map(|o| (o.name.as_str(), &o.value))
        .collect();
    assert_eq!(
        values,
        [
            (
                "wallet",
                &CommandDataOptionValue::String(
                    "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU".into()
                )
            ),
            ("slippage_bps", &CommandDataOptionValue::Integer(150)),
            ("sol", &CommandDataOptionValue::Number(0.25)),
        ]
    );

    let dm_cmd = discord::slash_command(DM, &ada, "start", &[]);
    let Interaction::Command(c) = parse(&dm_cmd) else {
        panic!("a DM slash command must parse as Interaction::Command");
    };
    assert_eq!(c.guild_id, None);
    assert!(c.member.is_none());
    assert_eq!(c.user.id, UserId::new(42));
    assert_eq!(
        c.channel.as_ref().map(|ch| ch.kind),
        Some(ChannelType::Private)
    );
    assert_eq!(c.channel_id.get(), 900_000_000_000_000_003);

    let ac = discord::autocomplete(
        DM,
        &ada,
        "copy",
        &[
            Opt::string("wallet", "7xK").focused(),
            Opt::integer("slippage_bps", 50),
        ],
    );
    let Interaction::Autocomplete(a) = parse(&ac) else {
        panic!("type 4 must parse as Interaction::Autocomplete");
    };
    let focused = a.data.autocomplete().expect("a focused option");
    assert_eq!((focused.name, focused.value), ("wallet", "7xK"));

    let message = discord::bot_message(
        900_000_000_000_000_002,
        "Copy this trade?",
        &buy_button_row(),
    );
    let press = discord::button_press(GUILD, &ada, &message, "buy:1");
    let Interaction::Component(b) = parse(&press) else {
        panic!("a button press must parse as Interaction::Component");
    };
    assert_eq!(b.data.custom_id, "buy:1");
    assert!(matches!(b.data.kind, ComponentInteractionDataKind::Button));
    assert_eq!(b.message.content, "Copy this trade?");
    assert_eq!(b.message.components.len(), 1);

    let pick = discord::select_choice(DM, &ada, &message, "amount", &["1"]);
    let Interaction::Component(s) = parse(&pick) else {
        panic!("a select must parse as Interaction::Component");
    };
    let ComponentInteractionDataKind::StringSelect { values } = &s.data.kind else {
        panic!("expected a string select, got {:?}", s.data.kind);
    };
    assert_eq!(values, &["1"]);

    let modal = discord::modal_submit(GUILD, &ada, "limits", &[("max_sol", "2.5"), ("note", "")]);
    let Interaction::Modal(m) = parse(&modal) else {
        panic!("a modal submit must parse as Interaction::Modal");
    };
    assert_eq!(m.data.custom_id, "limits");
    let inputs: Vec<(String, Option<String>)> = m
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .map(|c| match c {
            ActionRowComponent::InputText(t) => (t.custom_id.clone(), t.value.clone()),
            other => panic!("expected a text input, got {other:?}"),
        })
        .collect();
    assert_eq!(
        inputs,
        [
            ("max_sol".to_owned(), Some("2.5".to_owned())),
            ("note".to_owned(), Some(String::new()))
        ]
    );
}

enum Seen {
    Ready(Box<Ready>),
    Answered(Result<(), String>),
}

struct Recorder(mpsc::UnboundedSender<Seen>);

#[serenity::async_trait]
impl EventHandler for Recorder {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let _ = self.0.send(Seen::Ready(Box::new(ready)));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Command(cmd) = interaction {
            let reply = CreateInteractionResponseMessage::new()
                .content(format!("pong {}", cmd.data.name))
                .ephemeral(true);
            let r = cmd
                .create_response(&ctx.http, CreateInteractionResponse::Message(reply))
                .await
                .map_err(|e| e.to_string());
            let _ = self.0.send(Seen::Answered(r));
        }
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("the serenity client reported nothing in time")
        .expect("the client's handler is gone")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_client_connects_through_the_gateway_and_answers_an_interaction() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(250);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let intents = GatewayIntents::non_privileged();
    let mut client: Client = ClientBuilder::new_with_http(fake.http_builder().build(), intents)
        .event_handler(Recorder(tx))
        .await
        .expect("client builds against the fake");
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    let Seen::Ready(ready) = next(&mut rx).await else {
        panic!("READY must come first");
    };
    assert_eq!(ready.user.id.get(), APP_ID);
    assert_eq!(ready.application.id.get(), APP_ID);
    assert_eq!(ready.resume_gateway_url, fake.gateway_url());
    let gateway = fake.calls_to(&Method::GET, "/gateway");
    assert_eq!(gateway.len(), 1, "ClientBuilder asks GET /gateway once");
    assert!(
        gateway[0].tls,
        "with the ratelimiter on, REST goes to discord.com"
    );
    assert_eq!(gateway[0].auth, Auth::Bot { valid: true });
    let identify = &fake.identifies()[0];
    assert!(identify.token_valid);
    assert_eq!(identify.intents, intents.bits());
    assert_eq!(identify.shard, Some(json!([0, 1])));
    assert!(identify.properties["os"].is_string());
    assert!(identify.at >= gateway[0].at);
    assert!(
        fake.gateway_uris()[0].contains("v=10"),
        "{:?}",
        fake.gateway_uris()
    );
    assert!(
        fake.gateway_frames()
            .iter()
            .all(|f| f["d"]["token"].is_null() || f["d"]["token"] == "<redacted>"),
        "tokens are never recorded"
    );

    let cmd = discord::slash_command(GUILD, &Invoker::new(42), "ping", &[]);
    let pushed = Instant::now();
    assert_eq!(fake.push_interaction(&cmd), 1);
    let Seen::Answered(answered) = next(&mut rx).await else {
        panic!("expected the handler's answer");
    };
    answered.expect("create_response succeeds against the fake");
    let id: u64 = cmd["id"].as_str().unwrap().parse().unwrap();
    let callback = fake.wait_for_callback(id, WAIT).await;
    assert_eq!(callback.kind, 4);
    assert!(callback.at >= pushed);
    assert_eq!(callback.flags(), EPHEMERAL);
    assert!(callback.ephemeral());
    let original = fake
        .original_response(cmd["token"].as_str().unwrap())
        .expect("the response is the @original message");
    assert_eq!(original.content(), "pong ping");
    assert_eq!(original.channel_id, 900_000_000_000_000_002);

    // Heartbeats are acknowledged: serenity keeps its one connection.
    let frames = || fake.gateway_frames();
    let deadline = Instant::now() + WAIT;
    while frames().iter().filter(|f| f["op"] == 1).count() < 3 {
        assert!(Instant::now() < deadline, "no heartbeats: {:#?}", frames());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        fake.gateway_uris().len(),
        1,
        "an unacknowledged heartbeat reconnects"
    );

    // A dropped connection is resumed, not re-identified, and still works.
    fake.close_gateway(4000);
    let deadline = Instant::now() + WAIT;
    while !frames().iter().any(|f| f["op"] == 6) {
        assert!(Instant::now() < deadline, "no Resume: {:#?}", frames());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fake.wait_ready(WAIT).await;
    let again = discord::slash_command(DM, &Invoker::new(43), "again", &[]);
    let deadline = Instant::now() + WAIT;
    while fake.push_interaction(&again) == 0 {
        assert!(
            Instant::now() < deadline,
            "the resumed session never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Seen::Answered(answered) = next(&mut rx).await else {
        panic!("expected the handler's answer after resuming");
    };
    answered.expect("answer after resume");
    assert_eq!(fake.identifies().len(), 1, "resumed, not re-identified");

    shards.shutdown_all().await;
    let _ = tokio::time::timeout(WAIT, running).await;
}

#[tokio::test]
async fn serenity_http_messages_commands_and_interaction_webhooks() {
    let fake = FakeDiscord::start().await;
    let http = fake
        .http_builder()
        .application_id(ApplicationId::new(APP_ID))
        .build();

    // What serenity and poise ask at start-up.
    let app = http.get_current_application_info().await.unwrap();
    assert_eq!(app.id.get(), APP_ID);
    assert!(app.owner.is_some(), "poise reads the owner");
    let me = http.get_current_user().await.unwrap();
    assert_eq!((me.id.get(), me.bot), (APP_ID, true));
    let bot_gateway = http.get_bot_gateway().await.unwrap();
    assert_eq!(
        (bot_gateway.url, bot_gateway.shards),
        (fake.gateway_url(), 1)
    );

    let dm = UserId::new(42).create_dm_channel(&http).await.unwrap();
    assert_eq!(dm.kind, ChannelType::Private);
    assert_eq!(dm.recipient.id, UserId::new(42));
    assert_eq!(Some(dm.id.get()), fake.dm_channel(42));
    let again = UserId::new(42).create_dm_channel(&http).await.unwrap();
    assert_eq!(again.id, dm.id, "one DM channel per recipient");

    let sent = dm
        .id
        .send_message(
            &http,
            CreateMessage::new()
                .content("Copy this trade?")
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("buy:1")
                        .label("Buy")
                        .style(ButtonStyle::Success),
                ])]),
        )
        .await
        .unwrap();
    assert_eq!(sent.content, "Copy this trade?");
    let stored = fake.message(sent.id.get()).unwrap();
    assert_eq!(stored.custom_ids(), ["buy:1"]);
    assert_eq!(stored.channel_id, dm.id.get());

    let edited = dm
        .id
        .edit_message(
            &http,
            sent.id,
            EditMessage::new().content("Bought").components(vec![]),
        )
        .await
        .unwrap();
    assert!(edited.edited_timestamp.is_some());
    let stored = fake.message(sent.id.get()).unwrap();
    assert_eq!((stored.content(), stored.edits), ("Bought", 1));
    assert!(stored.custom_ids().is_empty());

    dm.id.delete_message(&http, sent.id).await.unwrap();
    assert!(fake.message(sent.id.get()).unwrap().deleted);
    assert_eq!(fake.messages(dm.id.get()).len(), 1);

    // A file goes as multipart: the JSON rides in `payload_json`.
    let with_file = dm
        .id
        .send_message(
            &http,
            CreateMessage::new()
                .content("report")
                .add_file(CreateAttachment::bytes(b"pnl,1".to_vec(), "pnl.csv")),
        )
        .await
        .unwrap();
    assert_eq!(with_file.attachments[0].filename, "pnl.csv");
    let call = fake
        .wait_for_call(WAIT, |c| {
            c.is(&Method::POST, "/channels/*/messages") && !c.parts.is_empty()
        })
        .await;
    assert_eq!(call.json.as_ref().unwrap()["content"], "report");
    assert!(call.headers["content-type"].starts_with("multipart/form-data"));
    assert!(call.headers["user-agent"].starts_with("DiscordBot"));
    assert!(
        call.parts
            .iter()
            .any(|p| p.filename.as_deref() == Some("pnl.csv") && p.data == b"pnl,1")
    );

    let price = CreateCommand::new("price")
        .description("Token price")
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "mint", "Token mint")
                .required(true),
        );
    let global = Command::set_global_commands(&http, vec![price.clone()])
        .await
        .unwrap();
    assert_eq!(global[0].name, "price");
    assert_eq!(global[0].options[0].name, "mint");
    assert_eq!(fake.global_commands().len(), 1);
    let guild = GuildId::new(7)
        .set_commands(&http, vec![price])
        .await
        .unwrap();
    assert_eq!(guild[0].guild_id, Some(GuildId::new(7)));
    assert_eq!(fake.guild_commands(7)[0]["name"], "price");

    // Deferred answer, then PATCH @original, a follow-up and its deletion.
    let cmd = discord::slash_command(
        DM,
        &Invoker::new(42),
        "price",
        &[Opt::string("mint", "So1")],
    );
    fake.remember_interaction(&cmd);
    let Interaction::Command(cmd) = parse(&cmd) else {
        unreachable!()
    };
    cmd.defer_ephemeral(&http).await.unwrap();
    let callbacks = fake.callbacks();
    assert_eq!((callbacks.len(), callbacks[0].kind), (1, 5));
    let loading = fake.original_response(&cmd.token).unwrap();
    assert_eq!(loading.flags(), EPHEMERAL | 128, "ephemeral and loading");
    let done = cmd
        .edit_response(
            &http,
            EditInteractionResponse::new().content("1 SOL = 1 SOL"),
        )
        .await
        .unwrap();
    assert_eq!(done.content, "1 SOL = 1 SOL");
    let original = fake.original_response(&cmd.token).unwrap();
    assert_eq!(
        (original.content(), original.flags()),
        ("1 SOL = 1 SOL", EPHEMERAL)
    );
    assert_eq!(cmd.get_response(&http).await.unwrap().id, done.id);
    let follow = cmd
        .create_followup(
            &http,
            CreateInteractionResponseFollowup::new().content("more"),
        )
        .await
        .unwrap();
    assert_eq!(follow.webhook_id.map(|w| w.get()), Some(APP_ID));
    let stored = fake.message(follow.id.get()).unwrap();
    assert_eq!(
        stored.interaction_token.as_deref(),
        Some(cmd.token.as_str())
    );
    cmd.delete_followup(&http, follow.id).await.unwrap();
    assert!(fake.message(follow.id.get()).unwrap().deleted);
    let twice = cmd.defer(&http).await.unwrap_err();
    assert!(
        twice.to_string().contains("already been acknowledged"),
        "{twice}"
    );

    // Unknown routes answer 404 at once, in Discord's error shape.
    let started = Instant::now();
    let err = http
        .get_guild_with_counts(GuildId::new(7))
        .await
        .unwrap_err();
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(resp)) = err else {
        panic!("expected an HTTP error, got {err:?}");
    };
    assert_eq!((resp.status_code.as_u16(), resp.error.code), (404, 0));
    assert!(started.elapsed() < Duration::from_secs(2));
    let unknown = fake.calls().pop().unwrap();
    assert_eq!(
        (unknown.route.as_str(), unknown.query.as_deref()),
        ("/guilds/7", Some("&with_counts=true"))
    );
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.tls && c.auth == Auth::Bot { valid: true })
    );
}

#[tokio::test]
async fn serenity_ratelimiter_waits_out_a_429_and_callers_read_error_codes() {
    let fake = FakeDiscord::start().await;
    let http = fake.http_builder().build();
    let channel = UserId::new(42).create_dm_channel(&http).await.unwrap().id;
    let route = "/channels/*/messages";

    fake.fail_next(
        Method::POST,
        route,
        Failure::RateLimited {
            retry_after: 0.4,
            global: false,
        },
        1,
    );
    let started = Instant::now();
    let sent = channel
        .send_message(&http, CreateMessage::new().content("after the limit"))
        .await
        .expect("serenity retries after a 429");
    assert_eq!(sent.content, "after the limit");
    let posts = fake.calls_to(&Method::POST, route);
    let statuses: Vec<u16> = posts.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [429, 200], "exactly one retry");
    let waited = posts[1].at - posts[0].at;
    // serenity sleeps for the Retry-After header, which Discord rounds up.
    assert!(
        waited >= Duration::from_millis(400),
        "retried after {waited:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    // How a caller tells "this user refuses DMs" from other failures.
    fake.fail_next(Method::POST, route, Failure::CannotDm, 1);
    let err = channel
        .send_message(&http, CreateMessage::new().content("hello"))
        .await
        .unwrap_err();
    let resp = unsuccessful(&err);
    assert_eq!(resp.status_code.as_u16(), 403);
    assert_eq!(resp.error.code, 50007);
    assert_eq!(resp.error.message, "Cannot send messages to this user");

    fake.fail_next(Method::POST, route, Failure::server_error(), 1);
    let err = channel
        .send_message(&http, CreateMessage::new().content("hello"))
        .await
        .unwrap_err();
    let resp = unsuccessful(&err);
    assert_eq!(resp.status_code.as_u16(), 500, "5xx are not retried");

    // Without the ratelimiter, requests take the proxy URL and a 429 is
    // the caller's to handle.
    let bare = fake.http_builder().ratelimiter_disabled(true).build();
    fake.fail_next(
        Method::POST,
        route,
        Failure::RateLimited {
            retry_after: 0.1,
            global: false,
        },
        1,
    );
    let err = channel
        .send_message(&bare, CreateMessage::new().content("x"))
        .await
        .unwrap_err();
    let resp = unsuccessful(&err);
    assert_eq!(resp.status_code.as_u16(), 429);
    assert!(
        !fake.calls().last().unwrap().tls,
        "went through the proxy URL"
    );
    assert_eq!(fake.messages(channel.get()).len(), 1);
}

#[test]
fn signatures_pass_serenity_verifier_and_tampering_fails() {
    let signer = Signer::from_seed(7);
    assert_eq!(
        signer.public_key_hex(),
        Signer::from_seed(7).public_key_hex(),
        "seeded"
    );
    let body = serde_json::to_vec(&discord::slash_command(
        GUILD,
        &Invoker::new(1),
        "ping",
        &[],
    ))
    .unwrap();
    let [(sig_name, sig), (ts_name, ts)] = signer.headers(&body);
    assert_eq!(
        (sig_name, ts_name),
        ("X-Signature-Ed25519", "X-Signature-Timestamp")
    );

    let verifier = Verifier::new(&signer.public_key_hex());
    assert!(verifier.verify(&sig, &ts, &body).is_ok());
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert!(verifier.verify(&sig, &ts, &tampered).is_err());
    assert!(
        verifier.verify(&sig, "1", &body).is_err(),
        "timestamp is signed"
    );
    let other = Verifier::new(&Signer::from_seed(8).public_key_hex());
    assert!(other.verify(&sig, &ts, &body).is_err());
    assert!(
        verifier
            .verify(&signer.sign("1", b"{}"), "1", b"{}")
            .is_ok()
    );
}

type PoiseError = Box<dyn std::error::Error + Send + Sync>;

/// Answers privately.
#[poise::command(slash_command)]
async fn ping(ctx: poise::Context<'_, (), PoiseError>) -> Result<(), PoiseError> {
    let reply = poise::CreateReply::default()
        .content("pong")
        .ephemeral(true);
    ctx.send(reply).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poise_registers_its_commands_and_answers_a_slash_command() {
    let fake = FakeDiscord::start().await;
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ping()],
            ..Default::default()
        })
        .setup(|ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                Ok(())
            })
        })
        .build();
    let mut client = ClientBuilder::new_with_http(
        fake.http_builder().build(),
        GatewayIntents::non_privileged(),
    )
    .framework(framework)
    .await
    .expect("client builds against the fake");
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    fake.wait_for_call(WAIT, |c| c.is(&Method::PUT, "/applications/*/commands"))
        .await;
    let registered = fake.global_commands();
    assert_eq!(registered[0]["name"], "ping");
    assert_eq!(registered[0]["description"], "Answers privately.");
    assert!(
        !fake
            .calls_to(&Method::GET, "/oauth2/applications/@me")
            .is_empty(),
        "poise looks up the owners"
    );

    let cmd = discord::slash_command(GUILD, &Invoker::new(42), "ping", &[]);
    assert_eq!(fake.push_interaction(&cmd), 1);
    let id: u64 = cmd["id"].as_str().unwrap().parse().unwrap();
    let callback = fake.wait_for_callback(id, WAIT).await;
    assert_eq!((callback.kind, callback.ephemeral()), (4, true));
    assert_eq!(callback.data["content"], "pong");

    shards.shutdown_all().await;
    let _ = tokio::time::timeout(WAIT, running).await;
}

/// The answer of a request Discord refused.
fn unsuccessful(err: &serenity::Error) -> &serenity::http::ErrorResponse {
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(resp)) = err else {
        panic!("expected an unsuccessful request, got {err:?}");
    };
    resp
}
