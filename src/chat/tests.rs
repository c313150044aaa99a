//! Chat-level tests: a real core (SQLite in memory, memory sessions, the
//! paper executor, a fixed clock) driven through [`ChatService::handle`]
//! the way a user drives it: commands, button presses (through the codec)
//! and typed answers. Every response is checked for unresolved locale keys
//! and for buttons that do not survive the 64-byte codec.

use std::sync::Arc;

use super::action::{Action, MAX_ACTION_BYTES};
use super::i18n;
use super::view::View;
use super::{ChatRequest, ChatResponse, ChatService, Input};
use crate::domain::ports::{Aftermath, Clock, KeyRecord, Store};
use crate::domain::{
    ChatKind, ChatRef, DecisionRecord, ExitReason, ExitState, Fill, IdempotencyKey, Intent,
    Lamports, Locale, Mode, NotifyKind, NotifyLevel, Platform, Position, Profile, ProfileSettings,
    RoundTrip, Section, Setting, SettingKind, SettingValue, Side, SkipReason, TokenAmount, UserRef,
    Verdict, WalletAddress,
};
use crate::engine::{Engine, EngineConfig};
use crate::exec::paper::PaperExecutor;
use crate::service::{Core, CoreParts, Executors, NoSubscriptions};
use crate::session::MemorySessions;

/// 2026-03-10 12:00 UTC.
const NOW: i64 = 1_773_144_000_000;
const DAY: i64 = 86_400_000;

struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        NOW
    }
}

#[derive(Debug, Clone, Copy)]
struct Who {
    id: i64,
    kind: ChatKind,
    lang: Option<&'static str>,
}

impl Who {
    const fn user(self) -> UserRef {
        UserRef::new(Platform::Telegram, self.id)
    }
}

const ANA: Who = Who {
    id: 1,
    kind: ChatKind::Private,
    lang: None,
};
/// Ana in a group chat.
const ANA_IN_GROUP: Who = Who {
    id: 1,
    kind: ChatKind::Group,
    lang: None,
};
const EVA: Who = Who {
    id: 2,
    kind: ChatKind::Private,
    lang: Some("es-AR"),
};

fn w(n: u8) -> WalletAddress {
    WalletAddress::from_bytes([n; 32])
}

struct Bot {
    core: Arc<Core>,
    chat: ChatService,
}

impl Bot {
    async fn new() -> Self {
        let store = crate::store::connect("sqlite::memory:").await.unwrap();
        let cfg = EngineConfig::default();
        let fees = cfg.fees;
        let core = Arc::new(Core::new(CoreParts {
            engine: Engine::new(cfg),
            store: Arc::new(store),
            sessions: Arc::new(MemorySessions::new()),
            feed: Arc::new(NoSubscriptions),
            clock: Arc::new(FixedClock),
            executors: Executors {
                paper: Arc::new(PaperExecutor::new(fees)),
                live: None,
            },
            defaults: ProfileSettings::default(),
            wall_clock: true,
            vault: Some(Arc::new(crate::vault::Vault::new(
                crate::vault::MasterKeys::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                    .unwrap(),
            ))),
            chain: None,
        }));
        let chat = ChatService::new(Arc::clone(&core), Some("alfabot".to_owned()));
        Self { core, chat }
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.core.store()
    }

    async fn send(&self, who: Who, input: Input) -> ChatResponse {
        self.send_as(who, input, false).await
    }

    /// As [`Self::send`]; `private_reply`: the platform shows the answer to
    /// the caller alone (a Discord interaction in a server).
    async fn send_as(&self, who: Who, input: Input, private_reply: bool) -> ChatResponse {
        let chat = match who.kind {
            ChatKind::Private => who.id,
            _ => -1_000,
        };
        let resp = self
            .chat
            .handle(ChatRequest {
                user: who.user(),
                chat: ChatRef::new(Platform::Telegram, chat),
                kind: who.kind,
                name: "Ana".to_owned(),
                language: who.lang.map(str::to_owned),
                input,
                private_reply,
            })
            .await;
        check(&resp);
        resp
    }

    async fn text(&self, who: Who, s: &str) -> ChatResponse {
        self.send(who, Input::Text(s.to_owned())).await
    }

    async fn press(&self, who: Who, a: &Action) -> ChatResponse {
        let data = a.encode();
        assert!(data.len() <= MAX_ACTION_BYTES, "{data}");
        self.send(who, Input::Button(data)).await
    }

    async fn profiles(&self, who: Who) -> Vec<Profile> {
        self.core.profiles(who.user()).await.unwrap()
    }

    async fn profile(&self, who: Who, name: &str) -> Profile {
        self.profiles(who)
            .await
            .into_iter()
            .find(|p| p.name.as_str() == name)
            .unwrap_or_else(|| panic!("no profile {name}"))
    }

    async fn settings(&self, p: &Profile) -> ProfileSettings {
        self.core.profile_of(p.user, p.id).await.unwrap().settings
    }

    /// Creates a profile as a user does: the button, then the name.
    async fn create(&self, who: Who, name: &str) -> Profile {
        self.press(who, &Action::NewProfile).await;
        let resp = self.text(who, name).await;
        assert!(
            resp.messages[0].text.contains(name),
            "{}",
            resp.messages[0].text
        );
        self.profile(who, name).await
    }
}

/// No key or placeholder left unresolved; every button survives the codec.
fn check(resp: &ChatResponse) {
    let keys = i18n::keys(Locale::En);
    let mut texts: Vec<&str> = resp.toast.iter().map(String::as_str).collect();
    for v in resp.messages.iter().chain(resp.edit.iter()) {
        texts.push(&v.text);
        for b in v.buttons.iter().flatten() {
            texts.push(&b.label);
            let data = b.action.encode();
            assert!(data.len() <= MAX_ACTION_BYTES, "{data}");
            assert_eq!(Action::decode(&data).as_ref(), Ok(&b.action), "{data}");
        }
        let count: usize = v.buttons.iter().map(Vec::len).sum();
        assert!(count <= 100, "Telegram takes at most 100 buttons: {count}");
        assert!(v.text.chars().count() <= 4_096, "too long for one message");
    }
    for text in texts {
        assert!(!text.contains('{') && !text.contains('}'), "{text}");
        for k in &keys {
            assert!(!text.contains(k), "key {k} left in {text}");
        }
    }
}

/// Every message, the edit and the toast, one after the other.
fn all(resp: &ChatResponse) -> String {
    let mut out: Vec<&str> = resp.messages.iter().map(|v| v.text.as_str()).collect();
    if let Some(v) = &resp.edit {
        out.push(&v.text);
    }
    if let Some(t) = &resp.toast {
        out.push(t);
    }
    out.join("\n---\n")
}

fn actions(v: &View) -> Vec<Action> {
    v.buttons
        .iter()
        .flatten()
        .map(|b| b.action.clone())
        .collect()
}

fn edited(resp: &ChatResponse) -> &View {
    resp.edit
        .as_ref()
        .unwrap_or_else(|| panic!("no edit: {resp:?}"))
}

/// A value a user could type for each typed setting, different from the
/// default (the match lists every setting, so a new one must be added).
fn typed_value(s: Setting, key: WalletAddress, black: WalletAddress) -> String {
    use Setting as S;
    match s {
        S::Wallet => key.to_string(),
        S::Blacklist => black.to_string(),
        S::Slippage => "2.5%".into(),
        S::PriorityFee => "0.0002".into(),
        S::Latency => "250".into(),
        S::BuySol => "0.25".into(),
        S::BuyPct => "20%".into(),
        S::MinBuy => "0.05".into(),
        S::MaxBuy => "0.5".into(),
        S::MaxPerTrade => "2".into(),
        S::KellyFraction => "25%".into(),
        S::KellyCap => "3%".into(),
        S::Bankroll => "20".into(),
        S::LeaderCap => "1".into(),
        S::DailyCap => "2".into(),
        S::MaxOpen => "3".into(),
        S::DailyLossLimit => "5%".into(),
        S::LeaderMin => "0.2".into(),
        S::LeaderMax => "5".into(),
        S::McapMin => "30".into(),
        S::McapMax => "300".into(),
        S::AgeMin => "30s".into(),
        S::AgeMax => "2h".into(),
        S::ProgressMin => "5%".into(),
        S::ProgressMax => "80%".into(),
        S::MinScore => "0.5".into(),
        S::ImpactMax => "2%".into(),
        S::StopLoss => "30%".into(),
        S::Tp1 => "40%".into(),
        S::MaxHold => "10m".into(),
        S::Ladder => "50:25 100:50".into(),
        S::ConsensusWindow => "60s".into(),
        S::ConsensusThreshold => "3".into(),
        S::ConsensusMinScore => "0.6".into(),
        S::Mode
        | S::BuyMode
        | S::Kelly
        | S::Adaptive
        | S::FirstBuyOnly
        | S::Sellability
        | S::CopySells
        | S::Trailing
        | S::BreakEven
        | S::Signal
        | S::NotifyOnly
        | S::Paused
        | S::StopEntry => unreachable!("{s:?} is pressed, not typed"),
    }
}

#[tokio::test]
async fn creates_a_profile_through_buttons_and_a_typed_name() {
    let bot = Bot::new().await;
    let resp = bot.text(ANA, "/copytrader").await;
    let list = &resp.messages[0];
    assert!(
        list.text
            .contains("Your copytrader profiles (1 of at most 10)")
    );
    assert!(
        list.text.contains("• main ⭐ · paper · 0 wallet(s)"),
        "{}",
        list.text
    );
    let main = bot.profile(ANA, "main").await;
    assert_eq!(
        actions(list),
        [Action::Profile(main.id), Action::NewProfile]
    );
    assert_eq!(list.buttons[0][0].label, "main ⭐ · paper · 👥 0");
    // The aliases open the same list.
    for alias in ["/profiles", "/ct@alfabot"] {
        assert_eq!(bot.text(ANA, alias).await.messages[0].text, list.text);
    }

    let ask = bot.press(ANA, &Action::NewProfile).await;
    assert!(
        ask.messages[0]
            .text
            .contains("Send a name for the new profile")
    );
    let bad = bot.text(ANA, "a;b").await;
    assert_eq!(
        bad.messages[0].text,
        "A profile name may use only letters, digits, spaces, - and _.\nSend another name, or /cancel."
    );
    let long = bot.text(ANA, &"x".repeat(25)).await;
    assert!(
        long.messages[0]
            .text
            .starts_with("A profile name has 1 to 24 characters.")
    );
    let taken = bot.text(ANA, "MAIN").await;
    assert!(
        taken.messages[0]
            .text
            .starts_with("You already have a profile with that name."),
        "{}",
        taken.messages[0].text
    );
    let made = bot.text(ANA, "degen 2").await;
    assert_eq!(
        made.messages[0].text,
        "✅ Profile “degen 2” created with the default settings. It is now your active profile."
    );
    let page = &made.messages[1];
    assert!(
        page.text.starts_with("📁 degen 2 ⭐ · paper"),
        "{}",
        page.text
    );
    let degen = bot.profile(ANA, "degen 2").await;
    let stored = bot.store().get_user(ANA.user()).await.unwrap().unwrap();
    assert_eq!(stored.active_profile, Some(degen.id));
    // The question is answered: text is text again.
    assert!(
        bot.text(ANA, "hello").await.messages[0]
            .text
            .contains("/help")
    );
    let list = bot.text(ANA, "/copytrader").await.messages[0].text.clone();
    assert!(list.contains("• main · paper"), "{list}");
    assert!(list.contains("• degen 2 ⭐ · paper"), "{list}");
}

#[tokio::test]
async fn the_profile_page_renames_and_makes_active() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let main = bot.profile(ANA, "main").await;
    let second = bot.create(ANA, "second").await;

    let page = bot.press(ANA, &Action::Profile(main.id)).await;
    let view = edited(&page);
    for want in [
        "📁 main · paper",
        "💰 0.1 SOL per buy",
        "🚪 stop loss 25% · first take-profit 20% · max hold 15 min",
        "🛡 max open 10 · daily cap off · daily loss limit 10%",
        "🗳 signal: every followed wallet",
        "👥 0 wallet(s) followed",
    ] {
        assert!(view.text.contains(want), "{want:?} in {}", view.text);
    }
    let acts = actions(view);
    for section in Section::ALL {
        assert!(acts.contains(&Action::Section {
            profile: main.id,
            section
        }));
    }
    for a in [
        Action::Wallets {
            profile: main.id,
            page: 0,
        },
        Action::Quick {
            profile: main.id,
            setting: Setting::Paused,
        },
        Action::Quick {
            profile: main.id,
            setting: Setting::StopEntry,
        },
        Action::Activate(main.id),
        Action::Rename(main.id),
        Action::Delete(main.id),
        Action::Profiles,
    ] {
        assert!(acts.contains(&a), "{a:?}");
    }
    // The active profile has no "make active".
    let page = bot.press(ANA, &Action::Profile(second.id)).await;
    assert!(!actions(edited(&page)).contains(&Action::Activate(second.id)));

    let made = bot.press(ANA, &Action::Activate(main.id)).await;
    assert_eq!(
        made.toast.as_deref(),
        Some("⭐ “main” is now your active profile.")
    );
    assert!(edited(&made).text.starts_with("📁 main ⭐"));
    let track = bot.text(ANA, &format!("/track {}", w(9))).await;
    assert!(track.messages[0].text.contains("in profile “main”"));

    bot.press(ANA, &Action::Rename(main.id)).await;
    let taken = bot.text(ANA, "Second").await;
    assert!(taken.messages[0].text.contains("already have a profile"));
    let renamed = bot.text(ANA, "alpha").await;
    assert_eq!(
        renamed.messages[0].text,
        "✅ The profile is now called “alpha”."
    );
    assert!(renamed.messages[1].text.starts_with("📁 alpha ⭐"));
    assert_eq!(
        bot.core
            .profile_of(ANA.user(), main.id)
            .await
            .unwrap()
            .name
            .as_str(),
        "alpha"
    );
    let back = bot.press(ANA, &Action::Profiles).await;
    assert!(
        edited(&back)
            .text
            .contains("• alpha ⭐ · paper · 1 wallet(s)")
    );
}

#[tokio::test]
async fn every_setting_is_reachable_and_changes() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let p = bot.profile(ANA, "main").await;
    // Live mode needs one of the user's keys as its wallet.
    let key = w(42);
    bot.store()
        .add_key(&KeyRecord {
            user: ANA.user(),
            wallet: key,
            sealed: "sealed".into(),
            created_ms: NOW,
            exported_ms: None,
            archived_ms: None,
        })
        .await
        .unwrap();

    // Every setting has a button on the page of its section, which the
    // profile page opens.
    let page = bot.press(ANA, &Action::Profile(p.id)).await;
    let sections = actions(edited(&page));
    for section in Section::ALL {
        let open = Action::Section {
            profile: p.id,
            section,
        };
        assert!(sections.contains(&open));
        let resp = bot.press(ANA, &open).await;
        let view = edited(&resp);
        let buttons = actions(view);
        for setting in Setting::in_section(section) {
            assert!(
                buttons.contains(&Action::Setting {
                    profile: p.id,
                    setting
                }),
                "{setting:?}"
            );
        }
        assert_eq!(buttons.last(), Some(&Action::Profile(p.id)));
    }

    // Each one changes, pressed or typed. The wallet comes first (live mode
    // needs it) and the mode last.
    let mut order: Vec<Setting> = vec![Setting::Wallet];
    order.extend(
        Setting::ALL
            .iter()
            .copied()
            .filter(|s| !matches!(s, Setting::Wallet | Setting::Mode)),
    );
    order.push(Setting::Mode);
    assert_eq!(order.len(), Setting::ALL.len());
    for setting in order {
        let before = setting.read(&bot.settings(&p).await);
        let press = Action::Setting {
            profile: p.id,
            setting,
        };
        let resp = bot.press(ANA, &press).await;
        if setting.kind() == SettingKind::Typed {
            assert!(resp.edit.is_none());
            assert!(
                resp.messages[0]
                    .text
                    .contains("Send the new value, or /cancel."),
                "{setting:?}: {}",
                all(&resp)
            );
            let value = typed_value(setting, key, w(77));
            let done = bot.text(ANA, &value).await;
            assert!(
                done.messages[0].text.starts_with('✅'),
                "{setting:?} {value}: {}",
                all(&done)
            );
            assert!(
                done.messages[1]
                    .text
                    .starts_with(&super::settings::section(Locale::En, setting.section())),
                "{}",
                done.messages[1].text
            );
        } else {
            assert!(
                resp.toast.as_deref().unwrap_or_default().starts_with('✅'),
                "{setting:?}: {}",
                all(&resp)
            );
            assert!(
                edited(&resp)
                    .text
                    .contains(&super::settings::name(Locale::En, setting))
            );
        }
        let after = setting.read(&bot.settings(&p).await);
        assert_ne!(before, after, "{setting:?} did not change");
    }
    let s = bot.settings(&p).await;
    assert_eq!(s.mode, Mode::Live);
    assert_eq!(s.wallet, Some(key));
    assert_eq!(s.buy_sol, Lamports(250_000_000));
    assert_eq!(s.blacklist, vec![w(77)]);
    assert!(s.paused && s.stop_entry && s.kelly);

    // The switches on the profile page edit the profile page.
    let resp = bot
        .press(
            ANA,
            &Action::Quick {
                profile: p.id,
                setting: Setting::Paused,
            },
        )
        .await;
    assert_eq!(resp.toast.as_deref(), Some("✅ Paused: off"));
    assert!(edited(&resp).text.starts_with("📁 main"));
    assert!(!bot.settings(&p).await.paused);
    assert!(actions(edited(&resp)).contains(&Action::Quick {
        profile: p.id,
        setting: Setting::Paused
    }));
    assert!(
        edited(&resp)
            .buttons
            .iter()
            .flatten()
            .any(|b| b.label == "⏸ Pause"),
        "pause offered again"
    );
}

#[tokio::test]
async fn a_refused_value_keeps_the_old_one_and_asks_again() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let p = bot.profile(ANA, "main").await;
    let buy = Action::Setting {
        profile: p.id,
        setting: Setting::BuySol,
    };
    let ask = bot.press(ANA, &buy).await;
    assert_eq!(
        ask.messages[0].text,
        "✏️ SOL per buy is now 0.1 SOL.\nSOL spent on each copied buy: 0.1, 0.25.\nSend the new value, or /cancel."
    );
    let bad = bot.text(ANA, "lots").await;
    assert_eq!(
        bad.messages[0].text,
        "“lots” is not an amount of SOL, such as 0.25.\nThe old value is kept.\nSend another value, or /cancel."
    );
    let zero = bot.text(ANA, "0").await;
    assert!(
        zero.messages[0].text.contains("out of range"),
        "{}",
        all(&zero)
    );
    assert_eq!(bot.settings(&p).await.buy_sol, Lamports(100_000_000));
    // Still asking: the next value is taken.
    let ok = bot.text(ANA, "0.3 SOL").await;
    assert_eq!(ok.messages[0].text, "✅ SOL per buy is now 0.3 SOL.");
    assert_eq!(bot.settings(&p).await.buy_sol, Lamports(300_000_000));

    // A rule across settings.
    bot.press(
        ANA,
        &Action::Setting {
            profile: p.id,
            setting: Setting::MaxBuy,
        },
    )
    .await;
    bot.text(ANA, "1").await;
    bot.press(
        ANA,
        &Action::Setting {
            profile: p.id,
            setting: Setting::MinBuy,
        },
    )
    .await;
    let over = bot.text(ANA, "2").await;
    assert!(
        over.messages[0]
            .text
            .starts_with("Minimum buy would be above Maximum buy.\nThe old value is kept."),
        "{}",
        all(&over)
    );
    assert_eq!(bot.settings(&p).await.min_buy, Lamports(0));

    // /cancel ends the question, and so does any other command.
    assert_eq!(
        bot.text(ANA, "/cancel").await.messages[0].text,
        "✖ Cancelled."
    );
    assert!(
        bot.text(ANA, "0.5").await.messages[0]
            .text
            .contains("/help")
    );
    assert_eq!(
        bot.text(ANA, "/cancel").await.messages[0].text,
        "There is nothing to cancel."
    );
    bot.press(ANA, &buy).await;
    bot.text(ANA, "/status").await;
    assert!(
        bot.text(ANA, "0.5").await.messages[0]
            .text
            .contains("/help")
    );
    // So does another button.
    bot.press(ANA, &buy).await;
    bot.press(ANA, &Action::Profile(p.id)).await;
    assert!(
        bot.text(ANA, "0.5").await.messages[0]
            .text
            .contains("/help")
    );
    assert_eq!(bot.settings(&p).await.buy_sol, Lamports(300_000_000));

    // A switch that is refused: live without a wallet.
    let live = bot
        .press(
            ANA,
            &Action::Setting {
                profile: p.id,
                setting: Setting::Mode,
            },
        )
        .await;
    assert!(live.edit.is_none());
    assert!(
        live.toast
            .as_deref()
            .unwrap()
            .starts_with("Live mode needs a wallet first"),
        "{}",
        all(&live)
    );
    assert_eq!(bot.settings(&p).await.mode, Mode::Paper);
    // A wallet that is not one of the user's keys.
    bot.press(
        ANA,
        &Action::Setting {
            profile: p.id,
            setting: Setting::Wallet,
        },
    )
    .await;
    let stranger = bot.text(ANA, &w(5).to_string()).await;
    assert!(
        stranger.messages[0]
            .text
            .starts_with("That wallet is not one of your keys"),
        "{}",
        all(&stranger)
    );
    assert_eq!(bot.settings(&p).await.wallet, None);
}

#[tokio::test]
async fn overrides_on_a_followed_wallet() {
    let bot = Bot::new().await;
    bot.text(ANA, &format!("/track {}", w(9))).await;
    let p = bot.profile(ANA, "main").await;
    let fid = bot.core.follows(ANA.user()).await.unwrap()[0].id;

    let wallets = bot
        .press(
            ANA,
            &Action::Wallets {
                profile: p.id,
                page: 0,
            },
        )
        .await;
    let view = edited(&wallets);
    assert!(view.text.contains(&format!("1. {}", w(9))), "{}", view.text);
    assert_eq!(
        actions(view),
        [Action::Followed(fid), Action::Profile(p.id)]
    );

    let page = bot.press(ANA, &Action::Followed(fid)).await;
    let view = edited(&page);
    let acts = actions(view);
    for &s in Setting::ALL {
        let edit = Action::Override {
            follow: fid,
            setting: s,
        };
        assert_eq!(acts.contains(&edit), s.overridable(), "{s:?}");
    }
    assert!(
        view.text.contains("• SOL per buy: 0.1 SOL"),
        "{}",
        view.text
    );
    assert!(acts.contains(&Action::Unfollow(fid)));

    let edit = |setting| Action::Override {
        follow: fid,
        setting,
    };
    let ask = bot.press(ANA, &edit(Setting::BuySol)).await;
    assert!(
        ask.messages[0]
            .text
            .starts_with("✏️ SOL per buy is now 0.1 SOL.")
    );
    let done = bot.text(ANA, "0.5").await;
    assert_eq!(
        done.messages[0].text,
        format!("✅ SOL per buy is now 0.5 SOL for {}.", w(9).short())
    );
    assert!(done.messages[1].text.contains("• SOL per buy: 0.5 SOL ✏️"));
    assert!(actions(&done.messages[1]).contains(&Action::ClearOverride {
        follow: fid,
        setting: Setting::BuySol
    }));
    let toggled = bot.press(ANA, &edit(Setting::Trailing)).await;
    assert_eq!(
        toggled.toast.as_deref(),
        Some("✅ Trailing stops: off for this wallet")
    );
    let (_, f) = bot.core.follow_of(ANA.user(), fid).await.unwrap();
    assert_eq!(
        f.overrides.0.get(&Setting::BuySol),
        Some(&SettingValue::Sol(Lamports(500_000_000)))
    );
    assert_eq!(
        f.overrides.0.get(&Setting::Trailing),
        Some(&SettingValue::Bool(false))
    );
    // The profile itself is unchanged.
    assert_eq!(bot.settings(&p).await.buy_sol, Lamports(100_000_000));

    bot.press(ANA, &edit(Setting::StopLoss)).await;
    let bad = bot.text(ANA, "200%").await;
    assert!(
        bad.messages[0].text.contains("out of range")
            && bad.messages[0].text.contains("The old value is kept."),
        "{}",
        all(&bad)
    );
    bot.text(ANA, "/cancel").await;
    // Not overridable (a crafted button): refused with words.
    let no = bot.press(ANA, &edit(Setting::Bankroll)).await;
    assert_eq!(
        no.toast.as_deref(),
        Some("Bankroll is set for the whole profile, not per wallet.")
    );

    let cleared = bot
        .press(
            ANA,
            &Action::ClearOverride {
                follow: fid,
                setting: Setting::BuySol,
            },
        )
        .await;
    assert_eq!(
        cleared.toast.as_deref(),
        Some("↺ SOL per buy: the profile's 0.1 SOL again")
    );
    let (_, f) = bot.core.follow_of(ANA.user(), fid).await.unwrap();
    assert_eq!(f.overrides.0.len(), 1);
    let list = bot
        .press(
            ANA,
            &Action::Wallets {
                profile: p.id,
                page: 0,
            },
        )
        .await;
    assert!(edited(&list).text.contains("· 1 own setting(s)"));

    let gone = bot.press(ANA, &Action::Unfollow(fid)).await;
    assert_eq!(
        gone.toast.as_deref(),
        Some(format!("✖ {} removed from “main”.", w(9).short()).as_str())
    );
    assert!(edited(&gone).text.contains("follows no wallets yet"));
    assert!(bot.core.follows(ANA.user()).await.unwrap().is_empty());
    let stale = bot.press(ANA, &Action::Followed(fid)).await;
    assert_eq!(
        stale.toast.as_deref(),
        Some("That profile or wallet is not there any more.")
    );
}

#[tokio::test]
async fn many_wallets_page_through() {
    let bot = Bot::new().await;
    for n in 1..=45u8 {
        bot.text(ANA, &format!("/track {}", w(n))).await;
    }
    let p = bot.profile(ANA, "main").await;
    let first = bot
        .press(
            ANA,
            &Action::Wallets {
                profile: p.id,
                page: 0,
            },
        )
        .await;
    let acts = actions(edited(&first));
    let wallets = acts
        .iter()
        .filter(|a| matches!(a, Action::Followed(_)))
        .count();
    assert_eq!(wallets, super::profiles::WALLETS_PAGE);
    assert!(acts.contains(&Action::Wallets {
        profile: p.id,
        page: 2
    }));
    let last = bot
        .press(
            ANA,
            &Action::Wallets {
                profile: p.id,
                page: 2,
            },
        )
        .await;
    assert!(edited(&last).text.contains(&format!("45. {}", w(45))));
}

fn position(p: &Profile, mint: WalletAddress, tokens: u64) -> Position {
    Position {
        profile: p.id,
        user: p.user,
        mint,
        leader: w(9),
        mode: Mode::Paper,
        tokens: TokenAmount(tokens),
        cost: Lamports(if tokens > 0 { 100_000_000 } else { 0 }),
        realized_pnl: 0,
        bought_sol: Lamports(100_000_000),
        bought_tokens: TokenAmount(1_000_000_000),
        sold_sol: Lamports(0),
        opened_ms: NOW - 60_000,
        updated_ms: NOW - 60_000,
        exit: ExitState::default(),
    }
}

fn fill(p: &Profile, key: &str, mint: WalletAddress, leader: WalletAddress, side: Side) -> Fill {
    Fill {
        profile: p.id,
        user: p.user,
        mint,
        leader,
        key: IdempotencyKey::from_stored(key.to_owned()),
        side,
        mode: Mode::Paper,
        sol: Lamports(100_000_000),
        tokens: TokenAmount(1_000_000_000),
        fee: Lamports(1_000_000),
        realized_pnl: 0,
        reason: None,
        tx: None,
        timestamp_ms: NOW - 60_000,
    }
}

/// Records a closed round trip of `cost` lamports with `pnl`.
async fn close_trip(
    bot: &Bot,
    p: &Profile,
    n: u8,
    leader: WalletAddress,
    closed_ms: i64,
    pnl: i64,
) {
    let cost: u64 = 1_000_000_000;
    let proceeds = u64::try_from(i64::try_from(cost).unwrap() + pnl).unwrap();
    let mint = w(100 + n);
    let mut f = fill(p, &format!("trip{n}"), mint, leader, Side::Sell);
    f.sol = Lamports(proceeds);
    f.realized_pnl = pnl;
    f.reason = Some(ExitReason::TakeProfit);
    f.timestamp_ms = closed_ms;
    let mut pos = position(p, mint, 0);
    pos.leader = leader;
    pos.realized_pnl = pnl;
    pos.bought_sol = Lamports(cost);
    pos.sold_sol = Lamports(proceeds);
    let trip = RoundTrip {
        profile: p.id,
        user: p.user,
        leader,
        mint,
        mode: Mode::Paper,
        opened_ms: closed_ms - 60_000,
        closed_ms,
        cost: Lamports(cost),
        proceeds: Lamports(proceeds),
        pnl,
        exit: ExitReason::TakeProfit,
    };
    assert!(
        bot.store()
            .record_fill(&f, &pos, Some(&trip), &Aftermath::default())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn delete_asks_to_confirm_and_refuses_the_last_profile_and_open_positions() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let main = bot.profile(ANA, "main").await;

    let ask = bot.press(ANA, &Action::Delete(main.id)).await;
    let view = edited(&ask);
    assert!(
        view.text
            .starts_with("🗑 Delete “main” and its 0 followed wallet(s)?")
    );
    assert_eq!(
        actions(view),
        [Action::DeleteConfirmed(main.id), Action::Profile(main.id)]
    );
    let last = bot.press(ANA, &Action::DeleteConfirmed(main.id)).await;
    assert_eq!(
        last.toast.as_deref(),
        Some("Your last profile cannot be deleted.")
    );
    assert!(edited(&last).text.starts_with("📁 main"));
    assert_eq!(bot.profiles(ANA).await.len(), 1);

    let spare = bot.create(ANA, "spare").await;
    // An open position in main (stored, then loaded as at a restart).
    let mint = w(50);
    bot.store()
        .record_fill(
            &fill(&main, "open1", mint, w(9), Side::Buy),
            &position(&main, mint, 1_000_000_000),
            None,
            &Aftermath::default(),
        )
        .await
        .unwrap();
    bot.core.restore().await.unwrap();
    let open = bot.press(ANA, &Action::DeleteConfirmed(main.id)).await;
    assert_eq!(
        open.toast.as_deref(),
        Some("The profile still has 1 open position(s); close them first.")
    );
    assert_eq!(bot.profiles(ANA).await.len(), 2);

    // Somebody else's profile is not reachable, whatever the button says.
    bot.text(EVA, "/start").await;
    for a in [
        Action::Profile(main.id),
        Action::DeleteConfirmed(spare.id),
        Action::Setting {
            profile: main.id,
            setting: Setting::Paused,
        },
    ] {
        let resp = bot.press(EVA, &a).await;
        assert_eq!(
            resp.toast.as_deref(),
            Some("Ese perfil o esa billetera ya no están."),
            "{a:?}"
        );
    }
    assert_eq!(bot.profiles(ANA).await.len(), 2);
    assert!(!bot.settings(&main).await.paused);

    let done = bot.press(ANA, &Action::DeleteConfirmed(spare.id)).await;
    assert_eq!(done.toast.as_deref(), Some("🗑 “spare” deleted."));
    let list = edited(&done);
    assert!(!list.text.contains("spare"));
    // The deleted profile was the active one: the first takes over.
    assert!(list.text.contains("• main ⭐"), "{}", list.text);
    assert_eq!(bot.profiles(ANA).await.len(), 1);
}

#[tokio::test]
async fn pause_resume_and_stop_entries_act_on_the_active_profile() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let main = bot.profile(ANA, "main").await;
    let text = |r: ChatResponse| r.messages[0].text.clone();

    assert_eq!(
        text(bot.text(ANA, "/pause").await),
        "⏸ “main” is paused: nothing is copied, exits included. /resume to go on."
    );
    assert!(bot.settings(&main).await.paused);
    assert!(text(bot.text(ANA, "/pause").await).contains("already paused"));
    assert_eq!(
        text(bot.text(ANA, "/resume").await),
        "▶️ “main” copies again."
    );
    assert!(text(bot.text(ANA, "/resume").await).contains("is not paused"));
    assert!(!bot.settings(&main).await.paused);

    assert!(text(bot.text(ANA, "/stopentry").await).starts_with("⛔ “main” takes no new entries"));
    assert!(bot.settings(&main).await.stop_entry);
    assert_eq!(
        text(bot.text(ANA, "/stopentry").await),
        "✅ “main” takes new entries."
    );
    assert!(text(bot.text(ANA, "/stopentry ON").await).starts_with("⛔"));
    assert!(text(bot.text(ANA, "/stopentry on").await).starts_with("⛔"));
    assert_eq!(
        text(bot.text(ANA, "/stopentry maybe").await),
        "“maybe” is neither on nor off.\nUse /stopentry on, /stopentry off, or /stopentry alone to switch."
    );
    assert!(bot.settings(&main).await.stop_entry);
    bot.text(ANA, "/pause").await;
    assert!(text(bot.text(ANA, "/resume").await).ends_with("/stopentry off allows them."));
    assert!(text(bot.text(ANA, "/stopentry off").await).starts_with("✅"));

    // Only the active profile.
    let other = bot.create(ANA, "other").await;
    bot.text(ANA, "/pause").await;
    assert!(bot.settings(&other).await.paused);
    assert!(!bot.settings(&main).await.paused);
    let status = text(bot.text(ANA, "/status").await);
    assert!(status.contains("⏸ paused"), "{status}");
}

#[tokio::test]
async fn why_lists_decisions_newest_first_and_filters_by_address() {
    let bot = Bot::new().await;
    let empty = bot.text(ANA, "/why").await;
    assert!(empty.messages[0].text.starts_with("No copy decisions yet."));
    let main = bot.profile(ANA, "main").await;
    let (m1, m2, l1, l2) = (w(11), w(12), w(21), w(22));
    let rec = |mint, leader, side, at_ms, verdict| DecisionRecord {
        profile: main.id,
        user: ANA.user(),
        leader,
        mint,
        side,
        signature: None,
        at_ms,
        verdict,
    };
    let key = IdempotencyKey::from_stored("k".into());
    bot.store()
        .log_decisions(&[
            rec(
                m1,
                l2,
                Side::Buy,
                NOW - DAY,
                Verdict::Rejected {
                    key: key.clone(),
                    reason: SkipReason::Slippage {
                        expected: 1_000,
                        got: 900,
                    },
                },
            ),
            rec(
                m1,
                l1,
                Side::Buy,
                NOW - 60_000,
                Verdict::Skipped {
                    reason: SkipReason::Paused,
                },
            ),
            rec(
                m2,
                l1,
                Side::Buy,
                NOW - 30_000,
                Verdict::Placed {
                    key: key.clone(),
                    intent: Intent::Copy,
                    sol: Lamports(100_000_000),
                    tokens: TokenAmount(0),
                },
            ),
            rec(
                m2,
                l1,
                Side::Sell,
                NOW - 10_000,
                Verdict::Placed {
                    key,
                    intent: Intent::Exit(ExitReason::StopLoss),
                    sol: Lamports(0),
                    tokens: TokenAmount(2_500_000_000),
                },
            ),
        ])
        .await
        .unwrap();

    let all_of = bot.text(ANA, "/why").await.messages[0].text.clone();
    let lines: Vec<&str> = all_of.lines().collect();
    assert_eq!(lines[0], "🔍 Your last 4 copy decision(s), newest first:");
    assert_eq!(
        lines[1],
        format!("11:59 UTC · main · sell {} ← {}", m2.short(), l1.short())
    );
    assert_eq!(
        lines[2],
        "   ✅ order placed: selling 2,500 tokens because the stop loss was hit"
    );
    assert_eq!(lines[4], "   ✅ order placed: buying with 0.1 SOL");
    assert_eq!(lines[6], "   ⏭ skipped: the profile is paused");
    assert!(
        lines[7].starts_with("2026-03-09 12:00 UTC · main · buy"),
        "{}",
        lines[7]
    );
    assert_eq!(
        lines[8],
        "   ⚠️ not executed: the price moved 10% against the order, more than the slippage allows"
    );

    let about_m1 = bot.text(ANA, &format!("/why {m1}")).await.messages[0]
        .text
        .clone();
    assert!(about_m1.starts_with(&format!("🔍 Your last 2 copy decision(s) about {m1}")));
    let about_l2 = bot.text(ANA, &format!("/why {l2}")).await.messages[0]
        .text
        .clone();
    assert!(
        about_l2.starts_with("🔍 Your last 1 copy decision(s)"),
        "{about_l2}"
    );
    let none = bot.text(ANA, &format!("/why {}", w(99))).await.messages[0]
        .text
        .clone();
    assert_eq!(none, format!("No copy decisions about {} yet.", w(99)));
    let bad = bot.text(ANA, "/why not-a-mint").await.messages[0]
        .text
        .clone();
    assert!(bad.contains("character “-” at position 4"), "{bad}");
    // Another user sees none of them.
    assert!(
        bot.text(EVA, "/why").await.messages[0]
            .text
            .starts_with("Aún no hay decisiones")
    );
}

#[tokio::test]
async fn profit_and_daily_from_round_trips() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let main = bot.profile(ANA, "main").await;

    let empty = bot.text(ANA, "/profit").await.messages[0].text.clone();
    assert_eq!(
        empty,
        "💹 Results of “main” (paper)\nPnL: realized 0.0 SOL · unrealized 0.0 SOL\nNo closed round trips yet: results appear once a copied position is closed."
    );
    let daily = bot.text(ANA, "/daily").await.messages[0].clone();
    assert_eq!(daily.text.lines().count(), 1 + 7 + 1);
    assert!(daily.text.contains("2026-03-10: no closed trades"));
    assert!(daily.text.contains("2026-03-04: no closed trades"));
    assert!(daily.buttons.is_empty(), "no other profile");

    close_trip(&bot, &main, 1, w(31), NOW - 3_600_000, 500_000_000).await;
    close_trip(&bot, &main, 2, w(32), NOW - DAY, -200_000_000).await;
    close_trip(&bot, &main, 3, w(31), NOW - 60_000, 100_000_000).await;

    let r = bot.text(ANA, "/profit MAIN").await.messages[0].text.clone();
    for want in [
        "PnL: realized +0.4 SOL · unrealized 0.0 SOL".to_owned(),
        "Round trips: 3 (2 W / 1 L) · win rate 67%".to_owned(),
        "Profit factor: 3.00 (gross profit ÷ gross loss)".to_owned(),
        "Max drawdown: 0.2 SOL".to_owned(),
        format!(
            "Best: {} +0.5 SOL (+50%), copying {}",
            w(101).short(),
            w(31).short()
        ),
        format!(
            "Worst: {} -0.2 SOL (-20%), copying {}",
            w(102).short(),
            w(32).short()
        ),
        format!("1. {} · 2 trip(s) · 2 W · +0.6 SOL", w(31).short()),
        format!("2. {} · 1 trip(s) · 0 W · -0.2 SOL", w(32).short()),
    ] {
        assert!(r.contains(&want), "{want:?} in\n{r}");
    }
    let d = bot.text(ANA, "/daily").await.messages[0].text.clone();
    assert!(
        d.contains("2026-03-10: 2 trip(s) · 2 W / 0 L · PnL +0.6 SOL · volume 2.0 SOL"),
        "{d}"
    );
    assert!(d.contains("2026-03-09: 1 trip(s) · 0 W / 1 L · PnL -0.2 SOL · volume 1.0 SOL"));
    assert!(
        d.ends_with("Total: 3 trip(s) · PnL +0.4 SOL · volume 3.0 SOL"),
        "{d}"
    );

    // With a second profile: reports name it, buttons switch, in place.
    let spare = bot.create(ANA, "my spare").await;
    let other = bot.text(ANA, "/profit").await.messages[0].clone();
    assert!(other.text.starts_with("💹 Results of “my spare”"));
    assert_eq!(actions(&other), [Action::Profit(main.id)]);
    assert_eq!(other.buttons[0][0].label, "💹 main");
    let switched = bot.press(ANA, &Action::Profit(main.id)).await;
    assert!(edited(&switched).text.contains("Round trips: 3"));
    assert_eq!(actions(edited(&switched)), [Action::Profit(spare.id)]);
    let named = bot.text(ANA, "/profit my   SPARE").await.messages[0]
        .text
        .clone();
    assert!(named.starts_with("💹 Results of “my spare”"), "{named}");
    let unknown = bot.text(ANA, "/profit nope").await.messages[0].text.clone();
    assert_eq!(
        unknown,
        "You have no profile named “nope”. Your profiles: main, my spare."
    );
    let daily = bot.text(ANA, "/daily main").await.messages[0].clone();
    assert!(
        daily
            .text
            .starts_with("📅 The last 7 days of “main” (paper), UTC:")
    );
    assert_eq!(actions(&daily), [Action::Daily(spare.id)]);
    let switched = bot.press(ANA, &Action::Daily(spare.id)).await;
    assert!(edited(&switched).text.contains("“my spare”"));
    assert!(
        bot.text(ANA, "/daily nope").await.messages[0]
            .text
            .contains("no profile named")
    );
}

async fn fills_level(bot: &Bot) -> NotifyLevel {
    bot.store()
        .get_user(ANA.user())
        .await
        .unwrap()
        .unwrap()
        .notify
        .level(NotifyKind::Fills)
}

#[tokio::test]
async fn notify_cycles_each_kind_and_saves_it() {
    let bot = Bot::new().await;
    let view = bot.text(ANA, "/notify").await.messages[0].clone();
    assert!(
        view.text
            .contains("📝 Copies: 🔔 on\n   a copy filled, or an order could not be executed")
    );
    assert_eq!(actions(&view), NotifyKind::ALL.map(Action::Notify).to_vec());
    let press = Action::Notify(NotifyKind::Fills);
    for (want, label) in [
        (NotifyLevel::Silent, "📝 Copies: 🔕 silent"),
        (NotifyLevel::Off, "📝 Copies: 🚫 off"),
        (NotifyLevel::On, "📝 Copies: 🔔 on"),
    ] {
        let resp = bot.press(ANA, &press).await;
        assert_eq!(resp.toast.as_deref(), Some(label));
        assert!(
            edited(&resp)
                .buttons
                .iter()
                .flatten()
                .any(|b| b.label == label)
        );
        assert_eq!(fills_level(&bot).await, want);
    }
    // Other kinds are untouched.
    bot.press(ANA, &Action::Notify(NotifyKind::Tiers)).await;
    let prefs = bot
        .store()
        .get_user(ANA.user())
        .await
        .unwrap()
        .unwrap()
        .notify;
    assert_eq!(prefs.level(NotifyKind::Tiers), NotifyLevel::Silent);
    assert_eq!(prefs.level(NotifyKind::Alerts), NotifyLevel::On);
}

#[tokio::test]
async fn group_chats_get_private_only_replies() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let main = bot.profile(ANA, "main").await;
    for cmd in [
        "copytrader",
        "pause",
        "resume",
        "stopentry",
        "why",
        "profit",
        "daily",
        "notify",
    ] {
        let resp = bot.text(ANA_IN_GROUP, &format!("/{cmd}@alfabot")).await;
        assert_eq!(
            resp.messages[0].text,
            format!("🔒 /{cmd} shows personal data, so it only works in a private chat with me.")
        );
    }
    assert!(!bot.settings(&main).await.paused);
    for (a, cmd) in [
        (Action::Copytrader, "copytrader"),
        (Action::Profile(main.id), "copytrader"),
        (
            Action::Quick {
                profile: main.id,
                setting: Setting::Paused,
            },
            "copytrader",
        ),
        (Action::Followed(1), "copytrader"),
        (Action::Profit(main.id), "profit"),
        (Action::Daily(main.id), "daily"),
        (Action::Notify(NotifyKind::Alerts), "notify"),
    ] {
        let resp = bot.press(ANA_IN_GROUP, &a).await;
        assert!(resp.messages.is_empty() && resp.edit.is_none(), "{a:?}");
        assert_eq!(
            resp.toast,
            Some(format!(
                "🔒 /{cmd} shows personal data, so it only works in a private chat with me."
            ))
        );
    }
    assert!(!bot.settings(&main).await.paused);
    // Plain talk in a group is not answered, even with a question open in
    // the private chat.
    bot.press(ANA, &Action::NewProfile).await;
    assert_eq!(
        bot.text(ANA_IN_GROUP, "hello").await,
        ChatResponse::default()
    );
    assert_eq!(bot.profiles(ANA).await.len(), 1);
    bot.text(ANA, "from private").await;
    assert_eq!(bot.profiles(ANA).await.len(), 2);
}

#[tokio::test]
async fn spanish_users_get_spanish_replies() {
    let bot = Bot::new().await;
    let list = bot.text(EVA, "/copytrader").await.messages[0].text.clone();
    assert!(
        list.starts_with("🤖 Tus perfiles de copytrader (1 de 10 como mucho)"),
        "{list}"
    );
    assert!(
        list.contains("• main ⭐ · papel · 0 billetera(s)"),
        "{list}"
    );
    let ask = bot.press(EVA, &Action::NewProfile).await;
    assert!(
        ask.messages[0]
            .text
            .starts_with("✏️ Envía un nombre para el nuevo perfil")
    );
    let bad = bot.text(EVA, "x;y").await;
    assert_eq!(
        bad.messages[0].text,
        "Un nombre de perfil solo puede usar letras, dígitos, espacios, - y _.\nEnvía otro nombre, o /cancel."
    );
    assert_eq!(
        bot.text(EVA, "/cancel").await.messages[0].text,
        "✖ Cancelado."
    );
    let p = bot.profile(EVA, "main").await;
    let page = bot.press(EVA, &Action::Profile(p.id)).await;
    assert!(edited(&page).text.contains("💰 0.1 SOL por compra"));
    bot.press(
        EVA,
        &Action::Setting {
            profile: p.id,
            setting: Setting::BuySol,
        },
    )
    .await;
    let bad = bot.text(EVA, "mucho").await;
    assert_eq!(
        bad.messages[0].text,
        "«mucho» no es una cantidad de SOL, como 0.25.\nSe mantiene el valor anterior.\nEnvía otro valor, o /cancel."
    );
    let paused = bot.text(EVA, "/pause").await.messages[0].text.clone();
    assert!(paused.starts_with("⏸ «main» está en pausa"), "{paused}");
    let notify = bot.text(EVA, "/notify").await.messages[0].text.clone();
    assert!(notify.contains("📝 Copias: 🔔 activada"), "{notify}");
    let profit = bot.text(EVA, "/profit").await.messages[0].text.clone();
    assert!(
        profit.starts_with("💹 Resultados de «main» (papel)"),
        "{profit}"
    );
    let daily = bot.text(EVA, "/daily").await.messages[0].text.clone();
    assert!(
        daily.contains("2026-03-10: sin operaciones cerradas"),
        "{daily}"
    );
    let help = bot.text(EVA, "/help").await.messages[0].text.clone();
    assert!(
        help.contains("/stopentry [on|off] — detiene o permite"),
        "{help}"
    );
}

#[tokio::test]
async fn welcome_opens_the_copytrader_and_help_lists_the_new_commands() {
    let bot = Bot::new().await;
    let welcome = bot.text(ANA, "/start").await.messages[0].clone();
    assert_eq!(welcome.buttons[0][0].label, "🤖 Copytrader");
    assert_eq!(welcome.buttons[0][0].action, Action::Copytrader);
    let opened = bot.press(ANA, &Action::Copytrader).await;
    assert!(opened.edit.is_none(), "the welcome stays");
    assert!(
        opened.messages[0]
            .text
            .starts_with("🤖 Your copytrader profiles")
    );
    let help = bot.text(ANA, "/help").await.messages[0].text.clone();
    for want in [
        "/copytrader — your copytrader profiles",
        "   (also /profiles, /ct)",
        "/stopentry [on|off] — stop or allow new entries",
        "/why [mint or wallet] — why copies were made or skipped",
        "/profit [profile name] — a profile's results",
        "/daily [profile name] — a profile's last 7 days (UTC)",
        "/notify — choose which notifications you get",
        "/cancel — cancel the question I asked you",
    ] {
        assert!(help.contains(want), "{want:?} in\n{help}");
    }
}

// ---------------------------------------------------------------- /wallet --

#[tokio::test]
async fn wallet_keys_are_created_imported_exported_and_deleted_privately() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let r = bot.text(ANA, "/wallet").await;
    assert!(
        r.messages[0].text.contains("no wallet key yet"),
        "{}",
        all(&r)
    );
    let group = bot.text(ANA_IN_GROUP, "/wallet").await;
    assert!(
        group.messages[0].text.contains("private chat"),
        "{}",
        all(&group)
    );

    // Create: a fresh key, sealed in the store, never in the reply.
    let r = bot.press(ANA, &Action::NewKey).await;
    let stored = bot.store().keys_of(ANA.user()).await.unwrap();
    assert_eq!(stored.len(), 1);
    let created = stored[0].wallet;
    assert!(all(&r).contains(&created.to_string()));
    assert!(!all(&r).contains(&stored[0].sealed));

    // Import: the message holding the key is deleted, whatever it held.
    let (addr, secret) = crate::vault::keys::generate();
    let text = crate::vault::keys::export_base58(&secret);
    let r = bot.press(ANA, &Action::ImportKey).await;
    assert!(all(&r).contains("Send the secret key"), "{}", all(&r));
    let r = bot.text(ANA, &text).await;
    assert!(r.delete_input, "the secret's message is deleted");
    assert!(all(&r).contains(&addr.to_string()), "{}", all(&r));
    assert!(!all(&r).contains(text.as_str()));
    // A bad key: deleted too, with the reason.
    bot.press(ANA, &Action::ImportKey).await;
    let r = bot.text(ANA, "[1, 2, 3]").await;
    assert!(r.delete_input);
    assert!(all(&r).contains("has 3 bytes"), "{}", all(&r));
    // The same key again: refused.
    bot.press(ANA, &Action::ImportKey).await;
    let r = bot.text(ANA, &text).await;
    assert!(
        r.delete_input && all(&r).contains("already stored"),
        "{}",
        all(&r)
    );

    // A secret pasted anywhere else is taken down with a warning.
    let r = bot.text(ANA, &text).await;
    assert!(r.delete_input && all(&r).contains("looked like a secret key"));
    let r = bot.text(ANA_IN_GROUP, &text).await;
    assert!(
        r.delete_input && all(&r).contains("move the funds"),
        "{}",
        all(&r)
    );

    // Export: a warning and a confirmation first, then a message that
    // deletes itself.
    let r = bot.press(ANA, &Action::Export(addr)).await;
    assert!(all(&r).contains("Anyone who sees"), "{}", all(&r));
    assert!(!all(&r).contains(text.as_str()));
    let r = bot.press(ANA, &Action::ExportConfirmed(addr)).await;
    let shown = &r.messages[0];
    assert!(shown.text.contains(text.as_str()), "the secret is shown");
    assert_eq!(shown.expires_s, Some(super::wallet::EXPORT_EXPIRES_S));
    let r = bot
        .press(ANA_IN_GROUP, &Action::ExportConfirmed(addr))
        .await;
    assert!(r.messages.is_empty() && r.toast.unwrap().contains("private chat"));
    // Another user cannot export it.
    let r = bot.press(EVA, &Action::ExportConfirmed(addr)).await;
    assert!(r.messages.is_empty(), "{}", all(&r));

    // Use a key in the active profile; then it cannot be deleted, nor
    // archived.
    let r = bot.press(ANA, &Action::UseKey(addr)).await;
    assert!(r.toast.unwrap().contains("signs with"));
    let main = bot.profile(ANA, "main").await;
    assert_eq!(bot.settings(&main).await.wallet, Some(addr));
    let r = bot.press(ANA, &Action::DeleteKey(addr)).await;
    assert!(edited(&r).text.contains("“main” signs with"), "{}", all(&r));
    assert_eq!(actions(edited(&r)), vec![Action::KeysHere]);
    let r = bot.press(ANA, &Action::ArchiveKey(addr)).await;
    assert!(r.toast.unwrap().contains("main"));

    // The created key was never exported and no RPC node says its balance:
    // deleting it could lose funds, so it is refused with the ways out.
    let r = bot.press(ANA, &Action::DeleteKey(created)).await;
    let refused = edited(&r);
    assert!(refused.text.contains("never exported"), "{}", refused.text);
    assert!(refused.text.contains("Export it first"), "{}", refused.text);
    assert_eq!(
        actions(refused),
        vec![
            Action::Export(created),
            Action::ArchiveKey(created),
            Action::KeysHere
        ]
    );
    let r = bot.press(ANA, &Action::DeleteKeyConfirmed(created)).await;
    assert!(edited(&r).text.contains("never exported"), "checked again");
    assert_eq!(bot.store().keys_of(ANA.user()).await.unwrap().len(), 2);

    // Exported: now it asks, naming the wallet, balance and backup.
    bot.press(ANA, &Action::ExportConfirmed(created)).await;
    let r = bot.press(ANA, &Action::DeleteKey(created)).await;
    let question = edited(&r);
    for want in [
        &created.to_string(),
        "Balance: unknown",
        "exported on 2026-03-10",
        "for 7 day(s)",
    ] {
        assert!(
            question.text.contains(want),
            "{want:?} in {}",
            question.text
        );
    }
    assert_eq!(
        actions(question),
        vec![
            Action::DeleteKeyConfirmed(created),
            Action::KeysHere,
            Action::ArchiveKey(created)
        ]
    );
    assert_eq!(bot.store().keys_of(ANA.user()).await.unwrap().len(), 2);
    // "Keep it": the list again, the key in it.
    let r = bot.press(ANA, &Action::KeysHere).await;
    assert!(edited(&r).text.contains(&created.to_string()));
    // "Yes": deleted, restorable from the list.
    let r = bot.press(ANA, &Action::DeleteKeyConfirmed(created)).await;
    assert!(
        r.toast
            .as_deref()
            .unwrap()
            .contains("restores it until 2026-03-17"),
        "{}",
        all(&r)
    );
    let list = edited(&r);
    assert!(list.text.contains("Recently deleted"), "{}", list.text);
    assert!(actions(list).contains(&Action::RestoreKey(created)));
    assert!(!actions(list).contains(&Action::Export(created)));
    assert_eq!(bot.store().keys_of(ANA.user()).await.unwrap().len(), 1);
    let r = bot.press(ANA, &Action::RestoreKey(created)).await;
    assert!(r.toast.as_deref().unwrap().contains("restored"));
    assert!(actions(edited(&r)).contains(&Action::Export(created)));
    assert_eq!(bot.store().keys_of(ANA.user()).await.unwrap().len(), 2);

    // Archive: hidden behind a count, back with one press.
    let r = bot.press(ANA, &Action::ArchiveKey(created)).await;
    assert!(r.toast.as_deref().unwrap().contains("archived"));
    let list = edited(&r);
    assert!(!actions(list).contains(&Action::Export(created)));
    assert!(list.text.contains("1 archived key(s)"), "{}", list.text);
    assert!(actions(list).contains(&Action::ArchivedKeys));
    let r = bot.press(ANA, &Action::ArchivedKeys).await;
    let archived = edited(&r);
    assert!(archived.text.contains(&created.to_string()));
    assert_eq!(
        actions(archived),
        vec![
            Action::UnarchiveKey(created),
            Action::DeleteKey(created),
            Action::KeysHere
        ]
    );
    // An archived key cannot be set for a profile.
    let r = bot.press(ANA, &Action::UseKey(created)).await;
    assert!(r.toast.unwrap().contains("archived"), "refused");
    let r = bot.press(ANA, &Action::UnarchiveKey(created)).await;
    assert!(r.toast.as_deref().unwrap().contains("back in your list"));
    assert!(actions(edited(&r)).contains(&Action::Export(created)));

    // Spanish.
    let r = bot.text(EVA, "/wallet").await;
    assert!(all(&r).contains("Aún no tienes"), "{}", all(&r));
}

#[tokio::test]
async fn answers_shown_to_the_caller_alone_may_be_personal_but_never_secret() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    let eph = |s: &str| Input::Text(s.to_owned());
    // In a group, seen by all: refused.
    let r = bot.send_as(ANA_IN_GROUP, eph("/status"), false).await;
    assert!(all(&r).contains("private chat"), "{}", all(&r));
    // The same request shown to Ana alone: answered.
    let r = bot.send_as(ANA_IN_GROUP, eph("/status"), true).await;
    assert!(!all(&r).contains("private chat"), "{}", all(&r));
    let r = bot
        .send_as(ANA_IN_GROUP, eph(&format!("/track {}", w(7))), true)
        .await;
    assert!(all(&r).contains(&w(7).to_string()), "{}", all(&r));
    assert_eq!(bot.core.follows(ANA.user()).await.unwrap().len(), 1);
    // Keys may be listed there, but never typed or shown.
    let r = bot.send_as(ANA_IN_GROUP, eph("/wallet"), true).await;
    assert!(!r.messages.is_empty());
    for a in [
        Action::ImportKey,
        Action::Export(w(7)),
        Action::ExportConfirmed(w(7)),
    ] {
        let r = bot
            .send_as(ANA_IN_GROUP, Input::Button(a.encode()), true)
            .await;
        assert!(r.messages.is_empty() && r.edit.is_none(), "{a:?}");
        assert!(r.toast.unwrap().contains("direct message"), "{a:?}");
    }
    // A question asked by a press says so, for platforms with forms.
    let r = bot.press(ANA, &Action::NewProfile).await;
    assert!(r.asks);
    let r = bot.text(ANA, &"x".repeat(40)).await;
    assert!(r.asks, "a refused answer asks again: {}", all(&r));
    let r = bot.text(ANA, "second").await;
    assert!(!r.asks, "{}", all(&r));
}

/// Key buttons carry a wallet address anyone could type into callback
/// data: pressed by someone else, they find nothing and change nothing.
#[tokio::test]
async fn key_buttons_naming_anothers_wallet_do_nothing_to_it() {
    let bot = Bot::new().await;
    bot.text(ANA, "/start").await;
    bot.text(EVA, "/start").await;
    bot.press(ANA, &Action::NewKey).await;
    bot.press(ANA, &Action::NewKey).await;
    let keys = bot.store().keys_of(ANA.user()).await.unwrap();
    let (kept, deleted) = (keys[0].wallet, keys[1].wallet);
    bot.press(ANA, &Action::ExportConfirmed(deleted)).await;
    bot.press(ANA, &Action::DeleteKeyConfirmed(deleted)).await;
    let before = (
        bot.store().keys_of(ANA.user()).await.unwrap(),
        bot.store().deleted_keys_of(ANA.user(), NOW).await.unwrap(),
    );
    assert_eq!((before.0.len(), before.1.len()), (1, 1));

    for a in [
        Action::DeleteKey(kept),
        Action::DeleteKeyConfirmed(kept),
        Action::ArchiveKey(kept),
        Action::UnarchiveKey(kept),
        Action::RestoreKey(deleted),
        Action::Export(kept),
        Action::ExportConfirmed(kept),
        Action::UseKey(kept),
    ] {
        let r = bot.press(EVA, &a).await;
        assert!(
            r.messages.is_empty() && r.edit.is_none(),
            "{a:?}: {}",
            all(&r)
        );
        assert!(
            r.toast
                .as_deref()
                .is_some_and(|t| !t.contains(&kept.to_string())),
            "{a:?}: {}",
            all(&r)
        );
    }
    assert_eq!(
        (
            bot.store().keys_of(ANA.user()).await.unwrap(),
            bot.store().deleted_keys_of(ANA.user(), NOW).await.unwrap(),
        ),
        before,
        "Ana's keys are untouched"
    );
    assert!(bot.store().keys_of(EVA.user()).await.unwrap().is_empty());
}
