//! The settings window as a person uses it, through `egui_kittest` (AccessKit labels, clicks, typing).

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use super::*;
use crate::config::file::ConfigFile;
use crate::settings::load_str;

type State = (View, Vec<Request>);

/// The harness draws with the system's CJK font, as the window does, and panics on any character no font
/// has (kittest's default): a missing glyph fails the test instead of drawing a box.
fn harness(form: SettingsForm, status: Status) -> Harness<'static, State> {
    let font = super::super::fonts::find();
    assert!(
        font.is_some() || std::env::var("CI").as_deref() != Ok("true"),
        "CI must install a CJK font (scripts/test.sh installs fonts-wqy-microhei)"
    );
    let mut builder = Harness::builder().with_size(egui::vec2(1000.0, 800.0));
    if font.is_none() {
        eprintln!("no CJK font here: Chinese is drawn as boxes");
        builder = builder.allow_missing_glyphs();
    }
    let mut h = builder
        .with_context_setup(move |ctx| super::super::fonts::install(ctx, font))
        .build_ui_state(
            |ui, state: &mut State| {
                if let Some(r) = state.0.ui(ui) {
                    // The app reads the history file off the UI thread; here it is empty at once.
                    if r == Request::LoadHistory {
                        state.0.history = Load::Done(Ok(Vec::new()));
                    }
                    state.1.push(r);
                }
            },
            (View::new(form, status), Vec::new()),
        );
    h.run();
    h
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn form_of(text: &str) -> SettingsForm {
    let (file, _) = load_str(text, &no_env).unwrap_or_else(|e| panic!("{e:?}"));
    SettingsForm::from_file(&file)
}

/// Focuses the field labelled `label` and types `text` into it, as a person would.
fn type_into(h: &mut Harness<'static, State>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run();
    h.get_by_label(label).type_text(text);
    h.run();
}

/// Clicks the button labelled `label` (a page's name is also its heading: the button is meant).
fn click(h: &mut Harness<'static, State>, label: &str) {
    match h.query_by_role_and_label(egui::accesskit::Role::Button, label) {
        Some(button) => button.click(),
        None => h.get_by_label(label).click(),
    }
    h.run();
}

fn shows(h: &Harness<'static, State>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

const CLOUDFLARE: &str = "[[provider]]\nname = \"cf\"\nkind = \"cloudflare\"\ntoken = \"cf-token-0123456789abcdef\"\n[[record]]\nname = \"home.example.com\"\nprovider = \"cf\"\n";

#[test]
fn every_page_renders_with_its_heading() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    for page in Page::ALL {
        click(&mut h, &page.title());
        assert_eq!(h.state().0.page, page);
        let heading_and_button = h.query_all_by_label(&page.title()).count();
        assert!(heading_and_button >= 2, "{page:?}: no heading");
    }
    assert_eq!(
        h.state().1,
        [Request::LoadHistory],
        "opening History asks for the file once"
    );
}

#[test]
fn the_status_page_lists_records_from_an_engine_status() {
    let now = SystemTime::now();
    let status = Status {
        ipv4: Some("203.0.113.7".parse().unwrap()),
        last_update: Some(now - std::time::Duration::from_mins(3)),
        network_events: crate::engine::NetworkEvents::Watching,
        records: vec![
            crate::engine::RecordStatus {
                name: "home.example.com".into(),
                record_type: crate::config::RecordType::A,
                provider: "cf".into(),
                line: None,
                published: Some("203.0.113.7".parse().unwrap()),
                published_at: Some(now - std::time::Duration::from_mins(3)),
                phase: Phase::Ok,
                failures: 0,
                next_attempt: None,
                last_error: None,
                last_error_class: None,
                via: Vec::new(),
                held_until: None,
            },
            crate::engine::RecordStatus {
                name: "nas.example.com".into(),
                record_type: crate::config::RecordType::A,
                provider: "pod".into(),
                line: Some("电信".into()),
                published: None,
                published_at: None,
                phase: Phase::Failing,
                failures: 3,
                next_attempt: Some(now + std::time::Duration::from_mins(5)),
                last_error: Some("dnspod `pod`: credentials refused (AuthFailure)".into()),
                last_error_class: Some(crate::provider::ErrorClass::Auth),
                via: Vec::new(),
                held_until: None,
            },
        ],
        ..Status::default()
    };
    let mut h = harness(form_of(CLOUDFLARE), status);
    assert_eq!(h.state().0.page, Page::Status);
    for text in [
        "home.example.com A",
        "nas.example.com A",
        "pod [电信]",
        "203.0.113.7",
        "failing (3 failures)",
        "(3 min ago)",
        "(in 5 min)",
        // What the failure means, in the window's language (the provider's words are in its tooltip).
        "The key or token was refused: check it and what it may change",
        "Watching network changes",
    ] {
        assert!(shows(&h, text), "`{text}` is not on the Status page");
    }
    click(&mut h, "Update now");
    click(&mut h, "Pause");
    assert_eq!(h.state().1, [Request::UpdateNow, Request::TogglePause]);
}

/// Behind carrier-grade NAT the Status page says so in one sentence with its reason, and its state is
/// "published, but not reachable".
#[test]
fn the_status_page_says_when_a_nat_keeps_the_internet_out() {
    let now = SystemTime::now();
    let status = Status {
        ipv4: Some("203.0.113.7".parse().unwrap()),
        last_check: Some(now),
        reach: Some(crate::detect::reach::Reach::CarrierGrade {
            router: "100.64.7.8".parse().unwrap(),
        }),
        records: vec![crate::engine::RecordStatus {
            name: "home.example.com".into(),
            record_type: crate::config::RecordType::A,
            provider: "cf".into(),
            line: None,
            published: Some("203.0.113.7".parse().unwrap()),
            published_at: Some(now),
            phase: Phase::Ok,
            failures: 0,
            next_attempt: None,
            last_error: None,
            last_error_class: None,
            via: Vec::new(),
            held_until: None,
        }],
        ..Status::default()
    };
    let h = harness(form_of(CLOUDFLARE), status);
    for text in [
        "published, but not reachable from the internet",
        "Your router's internet address 100.64.7.8 is carrier-grade NAT (100.64.0.0/10)",
    ] {
        assert!(
            h.query_all_by_label_contains(text).next().is_some(),
            "`{text}` is not on the Status page"
        );
    }
}

#[test]
fn adding_a_provider_asks_the_kind_first_and_shows_only_its_fields() {
    let mut h = harness(
        SettingsForm::from_file(&ConfigFile::default()),
        Status::default(),
    );
    assert_eq!(h.state().0.page, Page::Providers, "a new user starts here");
    click(&mut h, "Add provider");
    assert!(shows(&h, "Which DNS service?"));
    type_into(&mut h, "Search", "阿里");
    assert!(shows(&h, "Alibaba Cloud DNS"));
    assert!(!shows(&h, "Cloudflare"), "the search filters the list");
    h.get_by_label_contains("Alibaba Cloud DNS").click();
    h.run();
    // Only AliDNS's fields, with its credential help and where to make the key.
    for label in [
        "Name *",
        "Access key ID *",
        "Access key secret *",
        "Line",
        "API endpoint",
    ] {
        assert!(h.query_by_label(label).is_some(), "{label} missing");
    }
    for other in ["API token *", "SecretId *", "Proxied"] {
        assert!(
            h.query_by_label(other).is_none(),
            "{other} is another kind's"
        );
    }
    assert!(shows(&h, "AliyunDNSFullAccess"));
    assert!(shows(&h, "Create it here: https://"));
    // The secret is masked until "Show".
    type_into(&mut h, "Access key ID *", "LTAI5tExampleKeyId01");
    type_into(
        &mut h,
        "Access key secret *",
        "ExampleSecretValue0123456789ab",
    );
    assert!(!shows(&h, "ExampleSecretValue0123456789ab"), "masked");
    click(&mut h, "OK");
    let form = &h.state().0.form;
    assert_eq!(form.providers.len(), 1);
    assert_eq!(form.providers[0].name, "alidns");
    assert_eq!(
        form.providers[0].fields["access_key_secret"],
        "ExampleSecretValue0123456789ab"
    );
    assert!(h.state().0.dirty());
    assert!(shows(&h, "Unsaved changes"));
}

/// Regression: help was looked up by field name only, so the deSEC (and `DuckDNS`, Gandi, Hetzner, dynv6)
/// token showed Cloudflare's help, and `PowerDNS's` key Porkbun's. Each kind's dialog shows its own words.
#[test]
fn each_kind_shows_its_own_field_help() {
    for (search, kind, field, own, foreign) in [
        ("deSEC", "deSEC", "API token *", "API token", "Cloudflare"),
        (
            "DuckDNS",
            "DuckDNS",
            "API token *",
            "account token",
            "Cloudflare",
        ),
        ("PowerDNS", "PowerDNS", "API key *", "pdns.conf", "Porkbun"),
    ] {
        let mut h = harness(
            SettingsForm::from_file(&ConfigFile::default()),
            Status::default(),
        );
        click(&mut h, "Add provider");
        type_into(&mut h, "Search", search);
        h.get_by_label_contains(kind).click();
        h.run();
        assert!(h.query_by_label(field).is_some(), "{kind}: {field} missing");
        assert!(shows(&h, own), "{kind}: its own help for {field}");
        assert!(
            !shows(&h, foreign),
            "{kind}: {foreign}'s help is shown in its dialog"
        );
    }
}

#[test]
fn cloudflare_proxied_is_a_checkbox_and_a_missing_field_stops_ok() {
    let mut h = harness(
        SettingsForm::from_file(&ConfigFile::default()),
        Status::default(),
    );
    click(&mut h, "Add provider");
    type_into(&mut h, "Search", "cloud");
    h.get_by_label_contains("Cloudflare").click();
    h.run();
    click(&mut h, "OK");
    assert!(
        shows(&h, "Fill in: API token"),
        "the required token is named"
    );
    assert!(h.state().0.form.providers.is_empty());
    type_into(&mut h, "API token *", "cf-token-0123456789abcdef");
    h.get_by_label("Proxied").click();
    h.run();
    click(&mut h, "OK");
    let p = &h.state().0.form.providers[0];
    assert_eq!(p.fields["proxied"], "true");
    let toml = h.state().0.form.to_toml();
    assert!(
        toml.contains("proxied = true"),
        "a boolean, not text:\n{toml}"
    );
}

#[test]
fn a_record_is_added_in_a_dialog_and_the_ttl_takes_only_digits() {
    let mut form = form_of(CLOUDFLARE);
    form.records.clear();
    let mut h = harness(form, Status::default());
    click(&mut h, "Records");
    click(&mut h, "Add record");
    type_into(&mut h, "Name", "vpn.example.com");
    type_into(&mut h, "TTL", "1a2x0");
    assert!(
        h.query_by_label("Line").is_none(),
        "Cloudflare has no lines"
    );
    click(&mut h, "OK");
    let r = &h.state().0.form.records[0];
    assert_eq!(
        (r.name.as_str(), r.provider.as_str(), r.ttl.as_str()),
        ("vpn.example.com", "cf", "120")
    );
    assert!(shows(&h, "vpn.example.com"));
}

#[test]
fn invalid_input_is_shown_at_the_field() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    click(&mut h, "General");
    type_into(&mut h, "Check every", "x");
    assert!(shows(&h, "is not a duration"), "checked as it is typed");
    // What only validation knows is shown after Save, next to the field and on the list.
    h.state_mut().0.form.interval = "10s".into();
    h.state_mut().0.form.records[0].ttl = "30".into();
    let mut form = h.state().0.form.clone();
    assert!(form.validate(&no_env).is_none());
    h.state_mut().0.form = form;
    h.run();
    assert!(shows(&h, "10s is too short"));
    click(&mut h, "Records");
    assert!(
        shows(&h, "ttl: "),
        "the record's problem is on its row: {:?}",
        h.state().0.form.errors
    );
}

#[test]
fn closing_with_unsaved_changes_asks_first() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    assert_eq!(
        h.state_mut().0.close_requested(),
        Some(Request::Close),
        "nothing changed"
    );
    click(&mut h, "General");
    type_into(&mut h, "Check every", "10m");
    assert_eq!(h.state_mut().0.close_requested(), None);
    h.run();
    assert!(shows(&h, "You changed settings that are not saved yet."));
    click(&mut h, "Keep editing");
    assert!(!h.state().0.close_prompt);
    h.state_mut().0.close_requested();
    h.run();
    click(&mut h, "Save and close");
    assert_eq!(h.state().1.last(), Some(&Request::Save));
    assert!(h.state().0.close_after_save);
    h.state_mut().0.close_requested();
    h.run();
    click(&mut h, "Discard");
    assert_eq!(h.state().1.last(), Some(&Request::Close));
}

#[test]
fn comments_and_layout_survive_a_save_from_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let original = r#"# My ddns-tray config (hand-written)
interval = "5m"   # check often

# Cloudflare, the token lives in the keyring of my laptop
[[provider]]
name = "cf"
kind = "cloudflare"
token = "cf-token-0123456789abcdef"  # rotate in March

[[provider]]
name = "pdns"
kind = "powerdns"
url = "http://127.0.0.1:8081"
api_key = { env = "PDNS_KEY" }  # from systemd

# the house
[[record]]
name = "home.example.com"
provider = "cf"
ttl = 300 # five minutes

# the lab
[[record]]
name = "lab.example.com"
provider = "pdns"
"#;
    std::fs::write(&path, original).unwrap();
    let env = |v: &str| (v == "PDNS_KEY").then(|| "key-value-123".to_owned());
    let (file, _) = load_str(original, &env).unwrap();
    let mut h = harness(SettingsForm::from_file(&file), Status::default());
    click(&mut h, "General");
    type_into(&mut h, "Check every", "0");
    h.state_mut().0.form.interval = "10m".into();
    click(&mut h, "Records");
    h.state_mut().0.form.records.remove(0);
    h.run();
    click(&mut h, "Save");
    assert_eq!(h.state().1.last(), Some(&Request::Save));
    let mut form = h.state().0.form.clone();
    super::super::settings::save(
        &mut form,
        &path,
        &env,
        &super::super::settings::tests::NoKeyring,
    )
    .unwrap_or_else(|| panic!("{:?}", form.errors));
    let written = std::fs::read_to_string(&path).unwrap();
    for kept in [
        "# My ddns-tray config (hand-written)",
        "interval = \"10m\"   # check often",
        "# Cloudflare, the token lives in the keyring of my laptop",
        "token = \"cf-token-0123456789abcdef\"  # rotate in March",
        "api_key = { env = \"PDNS_KEY\" }  # from systemd",
        "# the lab",
    ] {
        assert!(written.contains(kept), "`{kept}` was lost:\n{written}");
    }
    assert!(!written.contains("home.example.com"), "{written}");
    assert!(!written.contains("key-value-123"), "{written}");
    let (_, settings) = load_str(&written, &env).unwrap();
    assert_eq!(settings.interval, std::time::Duration::from_mins(10));
    assert_eq!(settings.records.len(), 1);
}

/// The language is process-wide: run by nextest (one process per test), as the README's test command does.
#[test]
fn the_window_speaks_chinese() {
    if std::env::var_os("NEXTEST").is_none() {
        eprintln!("skipping: changes the process's language; run with cargo nextest");
        return;
    }
    rust_i18n::set_locale("zh-CN");
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    for page in ["状态", "记录", "服务商", "IP 检测", "告警", "历史", "常规"] {
        click(&mut h, page);
    }
    assert!(shows(&h, "检测间隔"));
    click(&mut h, "服务商");
    click(&mut h, "添加服务商");
    assert!(shows(&h, "使用哪家 DNS 服务？"));
    type_into(&mut h, "搜索", "阿里云解析");
    h.get_by_label_contains("阿里云").click();
    h.run();
    assert!(shows(&h, "AliyunDNSFullAccess"));
    assert!(h.query_by_label("AccessKey ID *").is_some());
    rust_i18n::set_locale("en");
}

#[test]
fn pages_are_reached_from_the_keyboard() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num2);
    h.run();
    assert_eq!(h.state().0.page, Page::Records);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num7);
    h.run();
    assert_eq!(h.state().0.page, Page::General);
    // Tab moves through the sidebar and on into the page's fields, each labelled for screen readers.
    let mut presses = 0;
    while !h.get_by_label("Check every").is_focused() {
        presses += 1;
        assert!(presses <= 12, "Tab never reached the first field");
        h.key_press(egui::Key::Tab);
        h.run();
    }
    h.get_by_label("Check every").type_text("10m");
    h.run();
    assert_eq!(h.state().0.form.interval, "10m");
}

#[test]
fn an_alert_is_added_by_service_with_its_events_and_secret_in_the_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    click(&mut h, "Alerts");
    assert!(shows(&h, "No alerts are set up"));
    click(&mut h, "Add alert");
    assert!(shows(&h, "Where should alerts go?"));
    type_into(&mut h, "Search", "企业微信");
    h.get_by_label_contains("WeCom group robot").click();
    h.run();
    // Only WeCom's field, masked, with what to make and where.
    assert!(h.query_by_label("URL *").is_some());
    for other in ["Chat ID *", "To *", "Signing secret"] {
        assert!(
            h.query_by_label(other).is_none(),
            "{other} is another service's"
        );
    }
    assert!(shows(
        &h,
        "Create it here: https://developer.work.weixin.qq.com"
    ));
    let url =
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2af5aaa01";
    type_into(&mut h, "URL *", url);
    h.get_by_label("recoveries").click();
    h.run();
    type_into(&mut h, "At most per hour", "5");
    click(&mut h, "OK");
    assert!(shows(&h, "address changes, failures; at most 5 an hour"));
    let n = &h.state().0.form.notifiers[0];
    assert_eq!(
        (n.entry.name.as_str(), n.entry.kind.as_str()),
        ("wecom", "wecom")
    );
    assert_eq!(n.events, ["change", "failure"]);
    // Send test uses the settings as filled in.
    click(&mut h, "Send test");
    assert_eq!(h.state().1.last(), Some(&Request::TestAlert(0)));
    let target = h.state().0.form.notifier_target(0, &no_env).unwrap();
    assert_eq!(target.max_per_hour, 5);
    // Saved: the webhook address (it holds the key) goes to the keyring, the rest to the file.
    let keyring = super::super::settings::tests::MemKeyring::default();
    let mut form = h.state().0.form.clone();
    let settings = super::super::settings::save(&mut form, &path, &keyring, &keyring)
        .unwrap_or_else(|| panic!("{:?}", form.errors));
    assert_eq!(settings.notify.len(), 1);
    assert_eq!(
        settings.notify[0].events,
        [
            crate::notifier::Category::Change,
            crate::notifier::Category::Failure
        ]
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.contains("693a91f6"), "{written}");
    assert!(
        written.contains("keyring = \"notify/wecom/url\""),
        "{written}"
    );
    assert_eq!(keyring.0.lock().unwrap()["notify/wecom/url"], url);
    // Removed and saved: its keyring entry goes too.
    form.notifiers.clear();
    super::super::settings::save(&mut form, &path, &keyring, &keyring).unwrap();
    let left: Vec<String> = keyring.0.lock().unwrap().keys().cloned().collect();
    assert_eq!(
        left,
        ["cf/token"],
        "the provider's token stays, the alert's entry is gone"
    );
}

#[test]
fn mail_recipients_are_one_line_and_a_list_in_the_file() {
    let text = "[[notify]]\nname = \"mail\"\nkind = \"email\"\nserver = \"smtp://127.0.0.1:2525\"\nfrom = \"ddns-tray <a@example.com>\"\nto = [\"b@example.com\", \"c@example.com\"]\nmax_per_hour = 3\n";
    let form = form_of(text);
    assert_eq!(
        form.notifiers[0].entry.fields["to"],
        "b@example.com, c@example.com"
    );
    let mut h = harness(form, Status::default());
    click(&mut h, "Alerts");
    click(&mut h, "Edit");
    assert_eq!(
        h.get_by_label("To *").value().as_deref(),
        Some("b@example.com, c@example.com")
    );
    type_into(&mut h, "To *", ", d@example.com");
    click(&mut h, "OK");
    let (_, settings) = load_str(&h.state().0.form.to_toml(), &no_env).unwrap();
    let crate::notifier::NotifierKind::Email(mail) = &settings.notify[0].kind else {
        panic!()
    };
    assert_eq!(mail.to, ["b@example.com", "c@example.com", "d@example.com"]);
    assert_eq!(settings.notify[0].max_per_hour, 3);
}

#[test]
fn detect_now_shows_each_sources_answer_and_latency() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    click(&mut h, "Detection");
    click(&mut h, "Detect now");
    assert_eq!(h.state().1.last(), Some(&Request::DetectNow));
    h.state_mut().0.detect = Load::Done(Ok(vec![Detected {
        family: Family::V4,
        sources: vec![
            SourceReport {
                source: "http http://127.0.0.1:8080/ip".into(),
                ip: Some("198.51.100.7".parse().unwrap()),
                error: None,
                latency_ms: 12,
                operator: "127.0.0.1".into(),
                router_said: None,
            },
            SourceReport {
                source: "dns 127.0.0.1:5353".into(),
                ip: None,
                error: Some("no answer within 5 s".into()),
                latency_ms: 5000,
                operator: "127.0.0.1".into(),
                router_said: None,
            },
        ],
        conclusion: Ok("198.51.100.7".parse().unwrap()),
        reach: Some(crate::detect::reach::Reach::NoPublic {
            how: "NAT-PMP result 3".into(),
        }),
    }]));
    h.run();
    assert!(
        h.query_all_by_label_contains(
            "Your router says it has no public address (NAT-PMP result 3)"
        )
        .next()
        .is_some(),
        "the NAT finding is not shown"
    );
    for text in [
        "IPv4: 198.51.100.7",
        "http http://127.0.0.1:8080/ip",
        "12 ms",
        "no answer within 5 s",
        "5000 ms",
    ] {
        assert!(shows(&h, text), "`{text}` not shown");
    }
}

#[test]
fn history_lists_what_happened_newest_first_in_local_time() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    click(&mut h, "History");
    let entry = |at: &str, event: &str, new: Option<&str>, error: Option<&str>| Entry {
        at: at.into(),
        event: event.into(),
        record: Some("home.example.com A".into()),
        family: None,
        old: None,
        new: new.map(|n| n.parse().unwrap()),
        error: error.map(str::to_owned),
        failure: None,
        omitted: None,
    };
    h.state_mut().0.history = Load::Done(Ok(vec![
        entry(
            "2026-11-30T08:00:00Z",
            "failed",
            None,
            Some("credentials refused"),
        ),
        entry("2026-11-30T09:30:00Z", "updated", Some("203.0.113.9"), None),
    ]));
    h.run();
    let updated = model::date_time(humantime::parse_rfc3339("2026-11-30T09:30:00Z").unwrap());
    assert!(shows(&h, &updated), "local time {updated}");
    assert!(shows(&h, "credentials refused") && shows(&h, "203.0.113.9"));
    let rows: Vec<String> = h
        .query_all_by_label_contains("2026-11-30")
        .map(|n| n.accesskit_node().value().unwrap_or_default())
        .collect();
    assert_eq!(rows.first(), Some(&updated), "newest first: {rows:?}");
}

#[test]
fn a_secret_is_masked_until_show() {
    let mut form = form_of(CLOUDFLARE);
    form.providers[0]
        .fields
        .insert("token".into(), "cf-token-0123456789abcdef".into());
    let mut h = harness(form, Status::default());
    click(&mut h, "Providers");
    click(&mut h, "Edit");
    assert!(!shows(&h, "cf-token-0123456789abcdef"));
    click(&mut h, "Show");
    assert!(
        h.get_by_label("API token *").value().as_deref() == Some("cf-token-0123456789abcdef"),
        "shown in clear after Show"
    );
    click(&mut h, "Hide");
    assert!(!shows(&h, "cf-token-0123456789abcdef"));
}

/// The window on a service's config for a user who may not change it: the secret shows as hidden in the
/// service's config (never its value), Save does nothing, and the window says why and what to do.
#[test]
fn a_service_config_opens_read_only_with_the_reason() {
    let masked = crate::settings::masked(CLOUDFLARE).unwrap();
    let file = crate::config::file::parse(&masked).unwrap().file;
    let mut form = SettingsForm::from_file(&file);
    assert!(!masked.contains("cf-token-0123456789abcdef"), "{masked}");
    let why = "Only root and members of the group `ddns-tray` may change the service's settings";
    form.message = Some(why.into());
    let mut h = harness(form, Status::default());
    h.state_mut().0.read_only = Some(why.into());
    h.state_mut().0.page = Page::Providers;
    h.run();
    assert!(shows(&h, why));
    let token = &h.state().0.form.providers[0].kept["token"];
    assert_eq!(
        crate::ui::settings::kept_source(token),
        "written in the service's config (hidden)"
    );
    assert!(!shows(&h, "cf-token-0123456789abcdef"));
    click(&mut h, "Save");
    assert!(
        !h.state().1.contains(&Request::Save),
        "Save asked for on a read-only config"
    );
    assert_eq!(h.state_mut().0.close_requested(), Some(Request::Close));
}

/// Clicks the welcome's Test: the spinner turns until the app answers, so the frames are stepped.
fn press_test(h: &mut Harness<'static, State>, label: &str) {
    h.query_by_role_and_label(egui::accesskit::Role::Button, label)
        .unwrap()
        .click();
    h.run_steps(3);
}

/// The first run, from an empty config to a saved record: the kind searched and picked, the credential
/// typed, Test asked of the app (a refusal keeps the credential step and says why), the domain picked from
/// the list the provider gave, the record's name, Save; then the window shows its pages on Status.
#[test]
fn the_welcome_goes_from_an_empty_config_to_a_saved_record() {
    let mut h = harness(
        SettingsForm::from_file(&ConfigFile::default()),
        Status::default(),
    );
    h.state_mut().0.start_welcome();
    h.run();
    assert!(shows(&h, "Welcome to ddns-tray"));
    type_into(&mut h, "Search", "cloudfl");
    h.get_by_label_contains("Cloudflare").click();
    h.run();
    assert!(shows(&h, "2. Your Cloudflare credential"));
    assert!(shows(&h, "Zone > DNS > Edit"), "what to create");
    type_into(&mut h, "API token *", "cf-token-0123456789abcdef");
    press_test(&mut h, "Test and list my domains");
    assert_eq!(h.state().1, [Request::WelcomeZones]);
    assert_eq!(
        h.state().0.welcome_row().map(|r| (r.name, r.kind)),
        Some(("cloudflare".to_owned(), "cloudflare".to_owned()))
    );
    // The provider refuses: the reason, and the credential step stays.
    h.state_mut().0.welcome_zones(Err(
        "the API token was refused: Invalid access token (9109)".into(),
    ));
    h.run();
    assert!(shows(
        &h,
        "The provider did not accept it: the API token was refused"
    ));
    assert!(h.query_by_label("API token *").is_some());
    press_test(&mut h, "Test and list my domains");
    h.state_mut()
        .0
        .welcome_zones(Ok(Some(vec!["example.com".into(), "example.net".into()])));
    h.run();
    assert!(shows(
        &h,
        "domains this credential can see (2): example.com, example.net"
    ));
    type_into(
        &mut h,
        "Name under example.com (empty: example.com itself)",
        "home",
    );
    assert!(shows(
        &h,
        "ddns-tray will keep home.example.com pointing at this computer's public address."
    ));
    click(&mut h, "Save and start");
    assert_eq!(
        h.state().1,
        [Request::WelcomeZones, Request::WelcomeZones, Request::Save]
    );
    let form = h.state().0.form.clone();
    assert_eq!(form.providers.len(), 1);
    assert_eq!(form.providers[0].kind, "cloudflare");
    assert_eq!(
        form.providers[0].fields["token"],
        "cf-token-0123456789abcdef"
    );
    assert_eq!(form.records.len(), 1);
    assert_eq!(form.records[0].name, "home.example.com");
    assert_eq!(form.records[0].provider, "cloudflare");
    // The form the welcome made loads as a config.
    form.provider_target(&form.providers[0], &no_env).unwrap();
    h.state_mut().0.saved(form);
    h.run();
    assert_eq!(h.state().0.page, Page::Status);
    assert!(!shows(&h, "Welcome to ddns-tray"));
    // It ends by offering to run unattended.
    click(&mut h, "Run unattended (as a system service)");
    assert_eq!(h.state().1.last(), Some(&Request::RunUnattended));
}

/// A provider whose API cannot list domains: the full name is typed; both families make two records and
/// turn IPv6 on. In Chinese, the welcome's words are Chinese.
#[test]
fn the_welcome_asks_the_full_name_when_the_provider_cannot_list() {
    if std::env::var_os("NEXTEST").is_none() {
        eprintln!("skipping: changes the process's language; run with cargo nextest");
        return;
    }
    rust_i18n::set_locale("zh-CN");
    let mut h = harness(
        SettingsForm::from_file(&ConfigFile::default()),
        Status::default(),
    );
    h.state_mut().0.start_welcome();
    h.run();
    assert!(shows(&h, "欢迎使用 ddns-tray"));
    type_into(&mut h, "搜索", "duckdns");
    h.get_by_label_contains("DuckDNS").click();
    h.run();
    type_into(&mut h, "API 令牌 *", "01234567-89ab-cdef-0123-456789abcdef");
    press_test(&mut h, "测试并列出我的域名");
    h.state_mut().0.welcome_zones(Ok(None));
    h.run();
    assert!(shows(&h, "该服务商无法列出你的域名"));
    type_into(&mut h, "完整域名", "myhome.duckdns.org");
    click(&mut h, "两者");
    click(&mut h, "保存并开始");
    let form = &h.state().0.form;
    let names: Vec<(&str, &str)> = form
        .records
        .iter()
        .map(|r| (r.name.as_str(), r.record_type.as_str()))
        .collect();
    assert_eq!(
        names,
        [("myhome.duckdns.org", "A"), ("myhome.duckdns.org", "AAAA")]
    );
    assert!(form.ipv4 && form.ipv6);
    rust_i18n::set_locale("en");
}

/// A failure in the history reads as a sentence in the window's language (its class), not the provider's
/// raw answer; a detail longer than the window is cut with an ellipsis inside the window, whole on hover.
#[test]
fn history_errors_read_as_sentences_and_long_cells_stay_inside_the_window() {
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    click(&mut h, "History");
    let raw = format!(
        "dnspod `pod`: HTTP 501 Not Implemented: <!DOCTYPE HTML> <html><body>{}</body></html>",
        "Error response ".repeat(20)
    );
    h.state_mut().0.history = Load::Done(Ok(vec![
        Entry {
            at: "2026-11-30T08:00:00Z".into(),
            event: "failed".into(),
            record: Some("nas.example.test A".into()),
            family: None,
            old: None,
            new: None,
            error: Some(raw.clone()),
            failure: Some(crate::provider::ErrorClass::Transient),
            omitted: None,
        },
        Entry {
            at: "2026-11-30T09:00:00Z".into(),
            event: "failed".into(),
            record: Some("home.example.test A".into()),
            family: None,
            old: None,
            new: None,
            error: Some(format!("webhook `hook`: {}", "refused ".repeat(40))),
            failure: None,
            omitted: None,
        },
    ]));
    h.run();
    let why = crate::notify::why(crate::provider::ErrorClass::Transient);
    assert!(shows(&h, &why), "the meaning, in words");
    assert!(!shows(&h, "<!DOCTYPE"), "no markup");
    let width = h.ctx.content_rect().width();
    for node in h.query_all_by_label_contains("webhook `hook`") {
        let right = node.accesskit_node().bounding_box().unwrap().x1;
        assert!(
            right <= f64::from(width),
            "cut inside the window: {right} > {width}"
        );
    }
}

/// "Import from another client…" on the welcome: a ddns-go config fills the form (its secrets typed into
/// the provider's fields, for Save to store), the Records page opens with what was imported and what was
/// left out; a file that is no client's config keeps the welcome, with the reason.
#[test]
fn the_welcome_imports_another_clients_config() {
    let mut h = harness(
        SettingsForm::from_file(&ConfigFile::default()),
        Status::default(),
    );
    h.state_mut().0.start_welcome();
    h.run();
    click(&mut h, "Import from another client…");
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/import/ddns-go/aliyun-lines-ipv6-iface.yaml"
    );
    type_into(&mut h, "Its config file", sample);
    h.query_by_role_and_label(egui::accesskit::Role::Button, "Import")
        .unwrap()
        .click();
    h.run_steps(3);
    assert_eq!(h.state().1, [Request::WelcomeImport]);
    let path = h.state().0.welcome_import_path().unwrap();
    let imported = crate::ui::settings::import_file(std::path::Path::new(&path));
    h.state_mut().0.welcome_imported(imported);
    h.run();
    assert_eq!(h.state().0.page, Page::Records);
    let form = h.state().0.form.clone();
    assert!(
        form.providers.iter().any(|p| p.kind == "alidns"),
        "{form:?}"
    );
    let ali = form.providers.iter().find(|p| p.kind == "alidns").unwrap();
    assert!(
        ali.fields
            .get("access_key_secret")
            .is_some_and(|v| !v.is_empty()),
        "the secret is typed in, for Save to store"
    );
    assert!(!form.records.is_empty());
    assert!(
        form.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Imported from ddns-go:")),
        "{:?}",
        form.message
    );
    assert!(h.state().0.dirty(), "nothing saved until Save");

    let mut h = harness(
        SettingsForm::from_file(&ConfigFile::default()),
        Status::default(),
    );
    h.state_mut().0.start_welcome();
    h.run();
    let not_a_config = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let refused = crate::ui::settings::import_file(std::path::Path::new(not_a_config));
    h.state_mut().0.welcome_imported(refused);
    click(&mut h, "Import from another client…");
    assert!(
        shows(&h, "is not a config of ddns-go, ddclient"),
        "the reason"
    );
    assert!(shows(&h, "Welcome to ddns-tray"));
}

/// General's "Run unattended": asked for only when the settings are saved and have a record (what moves is
/// the file as saved); while the app works on it the window says so; a refusal reads in the window; while
/// the service runs the settings, it offers to stop instead, and not to a user who may not change them.
#[test]
fn general_offers_to_run_unattended_and_to_stop() {
    let run = "Run unattended (as a system service)";
    let mut h = harness(form_of(CLOUDFLARE), Status::default());
    click(&mut h, &Page::General.title());
    h.state_mut().0.form.interval = "10m".into();
    h.run();
    assert!(shows(&h, "Save your changes first"));
    click(&mut h, run);
    assert!(h.state().1.is_empty(), "{:?}", h.state().1);

    let base = h.state().0.form.clone();
    h.state_mut().0.saved(base);
    h.run();
    assert!(!shows(&h, "Save your changes first"));
    click(&mut h, run);
    assert_eq!(h.state().1, [Request::RunUnattended]);
    h.state_mut().0.unattended = Load::Running;
    h.run_steps(2); // the spinner keeps repainting
    assert!(shows(&h, "Waiting for the administrator prompt"));
    h.state_mut().0.unattended = Load::Done(Err(
        "The administrator prompt was dismissed; nothing was changed.".into(),
    ));
    h.run();
    assert!(shows(&h, "dismissed; nothing was changed"));

    // No record yet: nothing to run unattended.
    let mut empty = harness(form_of(""), Status::default());
    click(&mut empty, &Page::General.title());
    assert!(shows(&empty, "Add a record first"));
    click(&mut empty, run);
    assert!(empty.state().1.is_empty());

    // The service runs these settings.
    h.state_mut().0.runs_as = RunsAs::Service;
    h.state_mut().0.unattended = Load::Idle;
    h.state_mut().1.clear();
    h.run();
    assert!(h.query_by_label(run).is_none());
    click(&mut h, "Stop running unattended");
    assert_eq!(h.state().1, [Request::StopUnattended]);
    // A user the service keeps out cannot take its settings.
    h.state_mut().0.read_only = Some("read-only".into());
    h.state_mut().1.clear();
    h.run();
    click(&mut h, "Stop running unattended");
    assert!(h.state().1.is_empty());
    // Another daemon: nothing offered.
    h.state_mut().0.runs_as = RunsAs::Other;
    h.run();
    assert!(!shows(&h, "Run unattended"));
}
