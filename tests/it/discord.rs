//! End to end on Discord, as a user: the real `alfabot` binary against the
//! home-made fake Discord (`support::discord`: REST, gateway and callbacks,
//! shaped as Discord sends them and parsed by serenity itself) and a local
//! PumpPortal websocket playing real recorded pump.fun trades. The same
//! flows as the Telegram test, over the gateway and over signed HTTP
//! interactions.

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{Value, json};

use crate::e2e::{data_file, percentile, pick_leader, trades_processed};
use crate::support::app::AppProcess;
use crate::support::discord::{
    APP_ID, Callback, EPHEMERAL, Failure, FakeDiscord, Invoker, Opt, Place, Signer, StoredMessage,
    TOKEN, autocomplete, bot_message, button_press, modal_submit, select_choice, slash_command,
};
use crate::support::market::{market_span_ms, pump_market};
use crate::support::pumpportal::FakePumpPortal;

const USER: u64 = 710_000_000_000_000_001;
const OTHER: u64 = 710_000_000_000_000_002;
const GUILD: Place = Place::Guild {
    guild_id: 720_000_000_000_000_001,
    channel_id: 730_000_000_000_000_001,
};
const WAIT: Duration = Duration::from_secs(15);

/// Every `custom_id` and select option value of a message's components.
fn actions(components: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for row in components.as_array().into_iter().flatten() {
        for c in row["components"].as_array().into_iter().flatten() {
            if let Some(id) = c["custom_id"].as_str() {
                out.push(id.to_owned());
            }
            for o in c["options"].as_array().into_iter().flatten() {
                if let Some(v) = o["value"].as_str() {
                    out.push(v.to_owned());
                }
            }
        }
    }
    out
}

/// Opens (or finds) a user's DM channel, as Discord would for the bot.
async fn dm_channel(fake: &FakeDiscord, user: u64) -> u64 {
    let dm: Value = reqwest::Client::new()
        .post(format!("{}/api/v10/users/@me/channels", fake.url()))
        .header("Authorization", format!("Bot {TOKEN}"))
        .json(&json!({ "recipient_id": user.to_string() }))
        .send()
        .await
        .expect("create DM")
        .json()
        .await
        .expect("DM channel");
    dm["id"].as_str().unwrap().parse().unwrap()
}

/// Where interactions go: pushed through the gateway, or posted signed to
/// the app's endpoint.
enum Way<'a> {
    Gateway,
    Http {
        app: &'a AppProcess,
        signer: &'a Signer,
    },
}

impl Way<'_> {
    /// Delivers an interaction; over HTTP returns the response body.
    async fn deliver(&self, fake: &FakeDiscord, i: &Value) -> Option<Value> {
        match self {
            Way::Gateway => {
                fake.push_interaction(i);
                None
            }
            Way::Http { app, signer } => {
                fake.remember_interaction(i);
                let body = serde_json::to_vec(i).unwrap();
                let mut req = reqwest::Client::new()
                    .post(format!("{}/discord/interactions", app.http))
                    .header("content-type", "application/json");
                for (k, v) in signer.headers(&body) {
                    req = req.header(k, v);
                }
                let resp = req.body(body).send().await.expect("post interaction");
                assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
                let answer: Value = resp.json().await.expect("interaction response");
                // Discord acts on the answer as on a callback: the fake
                // learns it the same way.
                let forwarded = reqwest::Client::new()
                    .post(format!(
                        "{}/api/v10/interactions/{}/{}/callback",
                        fake.url(),
                        i["id"].as_str().unwrap(),
                        i["token"].as_str().unwrap()
                    ))
                    .json(&answer)
                    .send()
                    .await
                    .expect("forward the answer");
                assert!(forwarded.status().is_success(), "{}", forwarded.status());
                Some(answer)
            }
        }
    }

    /// The first answer to an interaction, as Discord saw it.
    async fn first(&self, fake: &FakeDiscord, i: &Value) -> (u64, Value) {
        let answer = self.deliver(fake, i).await;
        match answer {
            Some(body) => (body["type"].as_u64().unwrap(), body["data"].clone()),
            None => {
                let id: u64 = i["id"].as_str().unwrap().parse().unwrap();
                let cb: Callback = fake.wait_for_callback(id, WAIT).await;
                (cb.kind, cb.data)
            }
        }
    }
}

/// Runs a slash command and returns its filled-in answer (the deferred
/// placeholder, once edited) and whether it was ephemeral.
async fn command(
    fake: &FakeDiscord,
    way: &Way<'_>,
    place: Place,
    who: &Invoker,
    name: &str,
    opts: &[Opt],
) -> (StoredMessage, bool) {
    let i = slash_command(place, who, name, opts);
    let (kind, data) = way.first(fake, &i).await;
    assert_eq!(kind, 5, "a command is deferred first: {data}");
    let ephemeral = data["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0;
    let token = i["token"].as_str().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(m) = fake.original_response(token)
            && m.edits > 0
        {
            return (m, ephemeral);
        }
        assert!(Instant::now() < deadline, "/{name} was never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Presses a button (or picks a menu option when the token is in a menu)
/// on a message; returns the first answer's type and data.
async fn press(
    fake: &FakeDiscord,
    way: &Way<'_>,
    place: Place,
    who: &Invoker,
    message: &Value,
    data: &str,
) -> (u64, Value) {
    let menu = message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        .find(|c| {
            c["options"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| o["value"] == data))
        });
    let i = match menu {
        Some(m) => select_choice(
            place,
            who,
            message,
            m["custom_id"].as_str().unwrap(),
            &[data],
        ),
        None => button_press(place, who, message, data),
    };
    way.first(fake, &i).await
}

/// A message object for a component fixture from an update's data.
fn updated(channel: u64, data: &Value) -> Value {
    bot_message(
        channel,
        data["content"].as_str().unwrap_or_default(),
        &data["components"],
    )
}

/// Messages the outbox sent to a channel (not interaction answers).
fn dms(fake: &FakeDiscord, channel: u64) -> Vec<StoredMessage> {
    fake.messages(channel)
        .into_iter()
        .filter(|m| m.interaction_token.is_none())
        .collect()
}

async fn wait_dm(
    fake: &FakeDiscord,
    channel: u64,
    from: usize,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> StoredMessage {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(m) = dms(fake, channel)
            .into_iter()
            .skip(from)
            .find(|m| check(m.content()))
        {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} by DM; got: {:#?}",
            dms(fake, channel)
                .iter()
                .map(StoredMessage::content)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends the synthetic market so the board ranks wallets.
async fn play_market(pp: &FakePumpPortal, app: &AppProcess) {
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let (tokens, crowd) = (12, 25);
    let market = pump_market(
        now_ms - market_span_ms(tokens, crowd) - 60_000,
        tokens,
        crowd,
    );
    pp.wait_for("the feed's connection", WAIT, |p| {
        p.new_token_subscribers() > 0
    })
    .await;
    let before = trades_processed(&app.http).await;
    for e in &market.events {
        assert_eq!(
            pp.send_raw(&alfabot::feed::frame::recorded_frame(e).to_string()),
            1
        );
    }
    let want = before + market.events.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(20);
    while trades_processed(&app.http).await < want {
        assert!(
            Instant::now() < deadline,
            "trades not processed; log:\n{}",
            app.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn base_env(
    fake: &FakeDiscord,
    pp: &FakePumpPortal,
    dir: &std::path::Path,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("discord.db").display()),
        ),
        ("DISCORD_BOT_TOKEN", TOKEN.to_owned()),
        ("DISCORD_API_URL", fake.url()),
        ("ALFABOT_FEED", "pumpportal".to_owned()),
        ("PUMPPORTAL_WS_URL", pp.url()),
        ("ALFABOT_CONSOLE", "off".to_owned()),
        ("ALFABOT_ANALYTICS_MIN_OUTCOMES", "1".to_owned()),
        ("ALFABOT_ANALYTICS_FLUSH_SECS", "1".to_owned()),
    ]
}

/// In a server: `/wallet` answers the caller alone, a key is created
/// there, and its export is refused to the caller alone, pointing to a
/// DM. Returns the export button's data.
async fn export_is_refused_in_a_server(fake: &FakeDiscord, way: &Way<'_>, who: &Invoker) -> String {
    let (keys, eph) = command(fake, way, GUILD, who, "wallet", &[]).await;
    assert!(eph, "{}", keys.content());
    let (kind, created) = press(fake, way, GUILD, who, &keys.object, "wn").await;
    assert_eq!(kind, 4, "{created}");
    let (keys, _) = command(fake, way, GUILD, who, "wallet", &[]).await;
    let export = actions(&keys.object["components"])
        .into_iter()
        .find(|a| a.starts_with("we:"))
        .expect("an export button");
    let (kind, refused) = press(fake, way, GUILD, who, &keys.object, &export).await;
    assert_eq!(kind, 4);
    assert!(
        refused["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0,
        "{refused}"
    );
    assert!(
        refused["content"]
            .as_str()
            .unwrap()
            .contains("direct message"),
        "{refused}"
    );
    export
}

/// Presses `data` on `message` and expects the message updated in place
/// to a text holding `want`; returns the update.
async fn press_updates(
    fake: &FakeDiscord,
    way: &Way<'_>,
    place: Place,
    who: &Invoker,
    message: &Value,
    data: &str,
    want: &str,
) -> Value {
    let (kind, update) = press(fake, way, place, who, message, data).await;
    assert_eq!(kind, 7, "{data} updates in place: {update}");
    assert!(
        update["content"].as_str().unwrap().contains(want),
        "{want:?} in {update}"
    );
    update
}

/// The profile's id from `/copytrader`, and its filters page after
/// turning the sellability check off (the recorded tokens launched before
/// the app started, so no one was seen selling them).
async fn settings_through_components(
    fake: &FakeDiscord,
    way: &Way<'_>,
    place: Place,
    channel: u64,
    who: &Invoker,
) -> String {
    let (list, _) = command(fake, way, place, who, "copytrader", &[]).await;
    let data = actions(&list.object["components"])
        .into_iter()
        .find(|a| a.starts_with("p:"))
        .expect("a profile button");
    let id = data.trim_start_matches("p:").to_owned();
    let page = press_updates(fake, way, place, who, &list.object, &data, "📁").await;
    assert!(
        page["content"].as_str().unwrap().starts_with("📁"),
        "the profile replaces the list: {page}"
    );
    let filters = press_updates(
        fake,
        way,
        place,
        who,
        &updated(channel, &page),
        &format!("pg:{id}:flt"),
        "Sellability check: on",
    )
    .await;
    press_updates(
        fake,
        way,
        place,
        who,
        &updated(channel, &filters),
        &format!("ps:{id}:sell"),
        "Sellability check: off",
    )
    .await;
    // A typed value: a form, then its answer.
    let (kind, buy) = press(
        fake,
        way,
        place,
        who,
        &updated(channel, &page),
        &format!("pg:{id}:buy"),
    )
    .await;
    assert_eq!(kind, 7, "{buy}");
    let (kind, form) = press(
        fake,
        way,
        place,
        who,
        &updated(channel, &buy),
        &format!("ps:{id}:bsol"),
    )
    .await;
    assert_eq!(kind, 9, "a typed value is asked in a form: {form}");
    assert_eq!(form["custom_id"], "~modal");
    let field = &form["components"][0]["components"][0];
    assert_eq!(field["custom_id"], "~value");
    assert!(field["placeholder"].as_str().is_some_and(|p| !p.is_empty()));
    // A bad value is refused with the reason, and asked again.
    let bad = modal_submit(place, who, "~modal", &[("~value", "lots")]);
    let (kind, refused) = way.first(fake, &bad).await;
    assert_eq!(kind, 4, "{refused}");
    assert!(
        actions(&refused["components"]).contains(&"~answer".to_owned()),
        "{refused}"
    );
    let good = modal_submit(place, who, "~modal", &[("~value", "0.25")]);
    let (kind, saved) = way.first(fake, &good).await;
    assert_eq!(kind, 4, "{saved}");
    assert!(
        saved["content"].as_str().unwrap().contains("0.25"),
        "{saved}"
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_user_tracks_a_wallet_and_gets_alerts_and_paper_copies_by_dm() {
    let events = alfabot::feed::read_replay(data_file()).expect("read recorded trades");
    let (wallet, trades) = pick_leader(&events);
    let fake = FakeDiscord::start().await;
    let pp = FakePumpPortal::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = AppProcess::start(dir.path(), &base_env(&fake, &pp, dir.path())).await;
    let way = Way::Gateway;

    // Commands registered from the chat layer's list: Telegram's menu.
    let put = fake
        .wait_for_call(WAIT, |c| c.is(&Method::PUT, "/applications/*/commands"))
        .await;
    let names: Vec<String> = put
        .json
        .as_ref()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    let telegram: Vec<String> = alfabot::telegram::menu()
        .into_iter()
        .map(|c| c.command)
        .collect();
    assert_eq!(names, telegram, "the same commands on both platforms");
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.identifies().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no gateway session; log:\n{}",
            app.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fake.wait_ready(Duration::from_secs(30)).await;
    play_market(&pp, &app).await;

    let who = Invoker::new(USER);
    let dm = dm_channel(&fake, USER).await;
    let place = Place::Dm { channel_id: dm };

    // /start → the welcome menu, not ephemeral in a DM.
    let (welcome, eph) = command(&fake, &way, place, &who, "start", &[]).await;
    assert!(
        welcome.content().contains("Welcome to alfabot"),
        "{}",
        welcome.content()
    );
    assert!(!eph);
    assert_eq!(
        actions(&welcome.object["components"]),
        ["ct", "l", "s", "h"]
    );

    // /alfa → the board; a timeframe button updates it in place; ➕ on a
    // row (rows beyond five buttons are a menu) follows.
    let (board, _) = command(&fake, &way, place, &who, "alfa", &[]).await;
    assert!(board.content().starts_with("🏆"), "{}", board.content());
    let acts = actions(&board.object["components"]);
    let follow = acts
        .iter()
        .find(|a| a.starts_with("f:"))
        .expect("a ➕ row")
        .clone();
    let page = acts
        .iter()
        .find(|a| a.starts_with("a:score:7d"))
        .expect("a timeframe button")
        .clone();
    press_updates(&fake, &way, place, &who, &board.object, &page, "7d").await;
    let (kind, toast) = press(&fake, &way, place, &who, &board.object, &follow).await;
    assert_eq!(kind, 4, "{toast}");
    assert!(
        toast["content"].as_str().unwrap().contains("Following"),
        "{toast}"
    );
    // /untrack through a typed option, then the leader of the test.
    let followed = follow.trim_start_matches("f:");
    let (m, _) = command(
        &fake,
        &way,
        place,
        &who,
        "untrack",
        &[Opt::string("wallet", followed)],
    )
    .await;
    assert!(m.content().contains("Stopped tracking"), "{}", m.content());

    let profile = settings_through_components(&fake, &way, place, dm, &who).await;
    assert!(!profile.is_empty());

    // A bad wallet gets a clear error; then /track.
    let (m, _) = command(
        &fake,
        &way,
        place,
        &who,
        "track",
        &[Opt::string("wallet", "not-a-wallet")],
    )
    .await;
    assert!(m.content().contains("position 4"), "{}", m.content());
    let (m, _) = command(
        &fake,
        &way,
        place,
        &who,
        "track",
        &[Opt::string("wallet", &wallet)],
    )
    .await;
    assert!(
        m.content().contains("Tracking") && m.content().contains(&wallet),
        "{}",
        m.content()
    );
    // A second user who closed their DMs follows too.
    let other = Invoker::new(OTHER);
    let other_dm = dm_channel(&fake, OTHER).await;
    let (m, _) = command(
        &fake,
        &way,
        Place::Dm {
            channel_id: other_dm,
        },
        &other,
        "track",
        &[Opt::string("wallet", &wallet)],
    )
    .await;
    assert!(m.content().contains("Tracking"), "{}", m.content());
    pp.wait_for("the wallet's subscription", WAIT, |p| {
        p.subscriptions().contains(&wallet)
    })
    .await;
    fake.fail_next(
        Method::POST,
        &format!("/channels/{other_dm}/messages"),
        Failure::CannotDm,
        1,
    );
    // The first alert to the user meets a 429: waited out, then sent.
    fake.fail_next(
        Method::POST,
        &format!("/channels/{dm}/messages"),
        Failure::RateLimited {
            retry_after: 0.5,
            global: false,
        },
        1,
    );

    // The wallet trades: each frame → an alert by DM, and for a copy the
    // paper fill.
    let mut latencies = Vec::new();
    let mut seen = dms(&fake, dm).len();
    let mut sold = 0;
    for (n, ev) in trades.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let sent = pp.send_trade(ev).expect("the app is subscribed");
        let mint = ev.mint.to_string();
        let alert = wait_dm(&fake, dm, seen, "alert", |c| {
            c.contains(&wallet) && c.contains(&mint)
        })
        .await;
        let call = fake
            .calls_to(&Method::POST, &format!("/channels/{dm}/messages"))
            .into_iter()
            .filter(|c| c.status == 200)
            .find(|c| {
                c.json
                    .as_ref()
                    .is_some_and(|j| j["content"] == alert.content())
            })
            .expect("the alert's call");
        if n > 0 {
            latencies.push(i64::try_from(call.at.duration_since(sent.at).as_millis()).unwrap());
        }
        if alert.content().contains("copying with") || alert.content().contains("selling") {
            let verb = if ev.side == alfabot::domain::Side::Buy {
                "bought"
            } else {
                "sold"
            };
            let fill = wait_dm(&fake, dm, seen, "paper fill", |c| {
                c.contains(&format!("Paper copy (main): {verb}")) && c.contains(&mint)
            })
            .await;
            if verb == "sold" {
                assert!(
                    fill.content().contains("realized PnL"),
                    "{}",
                    fill.content()
                );
                sold += 1;
            }
        }
        if n == 0 {
            assert!(
                alert.content().contains("copying with 0.25 SOL"),
                "{}",
                alert.content()
            );
            // /status privately, and in a server only to the caller.
            let (status, _) = command(&fake, &way, place, &who, "status", &[]).await;
            assert!(status.content().contains(&mint), "{}", status.content());
            let (status, eph) = command(&fake, &way, GUILD, &who, "status", &[]).await;
            assert!(eph, "personal answers in a server are ephemeral");
            assert!(status.content().contains(&mint), "{}", status.content());
        }
        seen = dms(&fake, dm).len();
    }
    assert!(sold > 0, "a leader sell was copied on paper");
    let rate_limited = fake
        .calls_to(&Method::POST, &format!("/channels/{dm}/messages"))
        .iter()
        .filter(|c| c.status == 429)
        .count();
    assert_eq!(rate_limited, 1, "one 429, waited out");
    // The closed DM: refused once and parked, never retried.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let to_other = fake.calls_to(&Method::POST, &format!("/channels/{other_dm}/messages"));
    let refused: Vec<_> = to_other.iter().filter(|c| c.status == 403).collect();
    assert_eq!(refused.len(), 1, "one refusal");
    let body = refused[0].json.clone();
    assert_eq!(
        to_other.iter().filter(|c| c.json == body).count(),
        1,
        "the refused message is parked at once, never sent again"
    );
    assert!(to_other.len() > 1, "the user's later messages still go out");

    // Reports.
    let (m, _) = command(&fake, &way, place, &who, "profit", &[]).await;
    assert!(m.content().contains("Results of “main”"), "{}", m.content());
    let (m, _) = command(&fake, &way, place, &who, "why", &[]).await;
    assert!(m.content().contains("copy decision"), "{}", m.content());

    latencies.sort_unstable();
    let line = format!(
        "Discord alert latency (frame sent → DM at the fake's REST), {} alerts: median {} ms, p99 {} ms, max {} ms\n",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    eprintln!("{line}");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("discord-latency.txt");
    std::fs::write(out, line).expect("write the latency figures");

    // Secrets: refused in a server, behind a confirmation in a DM, and
    // the DM holding the key deleted after its minute.
    let export = export_is_refused_in_a_server(&fake, &way, &who).await;
    let (keys, _) = command(&fake, &way, place, &who, "wallet", &[]).await;
    assert!(
        actions(&keys.object["components"]).contains(&export),
        "the key is listed in the DM"
    );
    let (kind, confirm) = press(&fake, &way, place, &who, &keys.object, &export).await;
    assert_eq!(kind, 4, "{confirm}");
    assert!(
        confirm["content"]
            .as_str()
            .unwrap()
            .contains("Anyone who sees"),
        "{confirm}"
    );
    let yes = format!("wey:{}", export.trim_start_matches("we:"));
    let pressed = Instant::now();
    let (kind, shown) = press(&fake, &way, place, &who, &updated(dm, &confirm), &yes).await;
    assert_eq!(kind, 7, "the confirmation loses its buttons: {shown}");
    // The secret comes as a follow-up in the DM.
    let secret = fake
        .wait_for_call(WAIT, |c| {
            c.is(&Method::POST, "/webhooks/*/*") && c.at >= pressed
        })
        .await;
    let log = app.log_text();
    assert!(
        !log.contains("could not send a follow-up"),
        "{}",
        log.lines()
            .filter(|l| l.contains("follow-up") || l.contains("expir"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let deleted = fake
        .wait_for_call(Duration::from_secs(75), |c| {
            c.is(&Method::DELETE, &format!("/channels/{dm}/messages/*")) && c.status < 300
        })
        .await;
    assert!(deleted.at.duration_since(secret.at) >= Duration::from_secs(59));
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_over_signed_http_interactions() {
    let fake = FakeDiscord::start().await;
    let pp = FakePumpPortal::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let signer = Signer::from_seed(7);
    let mut env = base_env(&fake, &pp, dir.path());
    env.push(("DISCORD_PUBLIC_KEY", signer.public_key_hex()));
    env.push(("DISCORD_APPLICATION_ID", APP_ID.to_string()));
    env.push(("DISCORD_GUILD_ID", "720000000000000001".to_owned()));
    let app = AppProcess::start(dir.path(), &env).await;
    let way = Way::Http {
        app: &app,
        signer: &signer,
    };
    fake.wait_for_call(WAIT, |c| {
        c.is(&Method::PUT, "/applications/*/guilds/*/commands")
    })
    .await;
    let url = format!("{}/discord/interactions", app.http);
    let client = reqwest::Client::new();

    // PING → PONG, signed; anything unsigned, tampered, signed by another
    // key or stale → 401.
    let ping = serde_json::to_vec(&json!({"id": "1", "application_id": APP_ID.to_string(), "type": 1, "token": "t", "version": 1})).unwrap();
    let post = |body: Vec<u8>, headers: Vec<(&'static str, String)>| {
        let mut r = client.post(&url).header("content-type", "application/json");
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.body(body).send()
    };
    let r = post(ping.clone(), signer.headers(&ping).to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"type": 1}));
    assert_eq!(post(ping.clone(), vec![]).await.unwrap().status(), 401);
    let mut tampered = ping.clone();
    tampered[10] ^= 1;
    assert_eq!(
        post(tampered, signer.headers(&ping).to_vec())
            .await
            .unwrap()
            .status(),
        401
    );
    let other = Signer::from_seed(8);
    assert_eq!(
        post(ping.clone(), other.headers(&ping).to_vec())
            .await
            .unwrap()
            .status(),
        401
    );
    let stale = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 400)
        .to_string();
    let stale_headers = vec![
        ("X-Signature-Ed25519", signer.sign(&stale, &ping)),
        ("X-Signature-Timestamp", stale),
    ];
    assert_eq!(
        post(ping.clone(), stale_headers).await.unwrap().status(),
        401
    );
    assert!(
        fake.identifies().is_empty(),
        "no gateway when interactions come over HTTP"
    );

    play_market(&pp, &app).await;
    let who = Invoker::new(USER);
    let dm = dm_channel(&fake, USER).await;
    let place = Place::Dm { channel_id: dm };
    let (welcome, _) = command(&fake, &way, place, &who, "start", &[]).await;
    assert!(
        welcome.content().contains("alfabot"),
        "{}",
        welcome.content()
    );
    let (board, _) = command(
        &fake,
        &way,
        place,
        &who,
        "alfa",
        &[Opt::string("metric", "pnl"), Opt::string("window", "7d")],
    )
    .await;
    assert!(board.content().starts_with("🏆"), "{}", board.content());
    let page = actions(&board.object["components"])
        .into_iter()
        .find(|a| a.starts_with("a:pnl:7d:1"))
        .expect("a next-page button");
    let (kind, next) = press(&fake, &way, place, &who, &board.object, &page).await;
    assert_eq!(kind, 7, "{next}");
    settings_through_components(&fake, &way, place, dm, &who).await;

    // Suggestions while typing: a wallet option offers the top of /alfa
    // (then, once followed, the follow first); a profile option the
    // user's profiles.
    let typing = |name: &str, opt: Opt| autocomplete(place, &who, name, &[opt.focused()]);
    let (kind, offered) = way
        .first(&fake, &typing("score", Opt::string("wallet", "")))
        .await;
    assert_eq!(kind, 8, "{offered}");
    let top: Vec<String> = offered["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap().to_owned())
        .collect();
    assert!(!top.is_empty() && top.len() <= 25, "{offered}");
    assert!(
        offered["choices"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("#1 "),
        "{offered}"
    );
    let (m, _) = command(
        &fake,
        &way,
        place,
        &who,
        "track",
        &[Opt::string("wallet", &top[3])],
    )
    .await;
    assert!(m.content().contains("Tracking"), "{}", m.content());
    let (_, offered) = way
        .first(&fake, &typing("untrack", Opt::string("wallet", "")))
        .await;
    assert_eq!(
        offered["choices"][0]["value"], top[3],
        "the follow comes first: {offered}"
    );
    assert!(
        offered["choices"][0]["name"]
            .as_str()
            .unwrap()
            .contains("main")
    );
    let narrowed = &top[3][..6];
    let (_, offered) = way
        .first(&fake, &typing("untrack", Opt::string("wallet", narrowed)))
        .await;
    assert!(
        offered["choices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["value"].as_str().unwrap().contains(narrowed)
                || c["name"].as_str().unwrap().contains(narrowed)),
        "only what matches {narrowed:?}: {offered}"
    );
    let (_, offered) = way
        .first(&fake, &typing("profit", Opt::string("profile", "ma")))
        .await;
    assert_eq!(
        offered["choices"],
        json!([{"name": "main", "value": "main"}])
    );

    let (status, eph) = command(&fake, &way, GUILD, &who, "status", &[]).await;
    assert!(eph, "{}", status.content());
    export_is_refused_in_a_server(&fake, &way, &who).await;
    drop(app);
}
