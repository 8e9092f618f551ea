//! ddns-tray: keeps DNS records pointing at this machine's public IP, as a tray app or a headless daemon.
//!
//! # Layout
//!
//! Floors, bottom up. A module may import modules of its own floor or below, never above (`layers.rs`
//! checks every source file in the test suite). Each kind (provider, notifier, detection source) owns its
//! struct, its table entry, its parsing, validation and secrets; its words are in the catalogues under its
//! kind.
//!
//! 1. **Vocabulary.**
//!    - `config`: plain types (`Family`, `RecordType`, `Issue`, `LineBind`, `Proxy`, `Ipv6Host`), the raw
//!      mirror of the file with kind tables as `{name, kind, fields}` (`file`), checks of single values and
//!      the `FieldCheck` kinds report through (`check`), the kind table entries (`kinds`), secrets
//!      (`secret`), and writing a file back keeping its comments (`edit`). Knows no kind.
//!    - `encode`: hex and percent-encoding.
//!    - `i18n`: the language in use and the `t!` lookup into `locales/en.toml` and `locales/zh-CN.toml`,
//!      served from static tables `build.rs` makes of them (`Catalogues`).
//!    - `platform`: what only one OS has (Windows security descriptors and named pipes, job objects, event
//!      log, adapter flags; a terminal's echo off while a secret is typed: `echo`; on Linux, the minimal
//!      init the binary becomes as a container's PID 1: `init`).
//! 2. **Wire.**
//!    - `dns`: DNS messages over UDP/TCP to one server.
//!    - `http`: HTTP clients (provider and alert calls through `proxy` or the OS's proxy setting; detection
//!      direct), bounded reads, Retry-After, URL-free error text; `template`: the user-defined request the
//!      webhook provider and notifier share.
//!    - `fsutil`: bounded reads of regular files only, appends and locks that never follow a link or block on
//!      a FIFO, atomic writes, owner-only directories.
//!    - `netwatch`: network-change and wake-from-sleep events (rtnetlink, whose headers it reads itself;
//!      Windows IP Helper; the macOS routing socket).
//!    - `logfile`: the daemon's daily log files.
//!    - `vault`: the service's own secret store (owner-only files; DPAPI on Windows), `{ store = … }`.
//! 3. **Kinds.**
//!    - `detect`: public-IP sources (http, cloudflare-trace, dns, interface, command, router) behind one
//!      trait, their settings and table (`settings`); the `Detector` applies the policy (`policy`: confirm,
//!      first, agree) and rejects non-public, malformed and CDN-owned answers (`answer`, `cdn`); the router
//!      source asks the gateway over NAT-PMP and `UPnP`, hears its announcements and subscribes to its
//!      `UPnP` events (`router`, `router/gena`); `reach` judges whether DDNS can reach this host at all
//!      (carrier-grade NAT, double NAT).
//!    - `provider`: DNS providers, one file each with its config, table entry, validation and secrets,
//!      generated into `ProviderKind` and `KINDS` by one `kinds!` list. The engine sees one trait; read-capable
//!      APIs implement `RecordApi` (or `SetApi` for whole-set APIs) for one reconciler (`reconcile`);
//!      write-only protocols a `Setter`. `error` classifies failures; `sign` holds the request signers.
//!    - `notifier`: the `[[notify]]` kinds, one file each, generated into `NotifierKind` and `NOTIFY_KINDS`
//!      by one `kinds!` list; `wire`: the bounded exchange they share.
//! 4. **Settings.** `settings`: `Settings` assembled from the kinds, the records and lines checked
//!    (`records`), `load`, `LoadError`. `import`: other clients' configs (ddns-go, ddclient, inadyn,
//!    ddns-updater, favonia/cloudflare-ddns) turned into our TOML, with what was carried, what was left
//!    out and why, and the secrets to store; text in, text out, for `cli::import` and the settings window.
//! 5. **State.** `store`: persisted runtime state (versioned JSON, atomic writes, the engine lock) and the
//!    settings-fingerprint key.
//! 6. **Engine.** `engine`: the tick / command / shutdown loop on the monotonic clock; one round (`round`:
//!    detection, provider calls concurrently, commands answered meanwhile), the per-record decisions
//!    (`decide`), what each record wants from detection and `[[line]]`s (`lines`), backoff, the flap guard and
//!    the write budget, the state and status it keeps (`state`), and the Command / Event / Status types. No
//!    UI, files or environment.
//! 7. **Sinks** that follow the engine.
//!    - `notify`: every sentence about engine events and the one policy for toasts and alerts; the log,
//!      desktop toasts, alert dispatch (`alerts`), and the status in words (`status`: icon state, tooltip,
//!      menu labels, local times).
//!    - `history`: the bounded event history in the data dir.
//!    - `metrics`: the `[metrics]` endpoint (Prometheus text, `/health`, `/status`).
//!    - `control`: the daemon's control endpoint (Unix socket / named pipe, JSON lines): the protocol
//!      (status, events, history, the config to view and change, handed back; problems carry their catalogue entry so a
//!      client writes them in its own language), the server with its `Backend` trait, the client and
//!      `follow` (how a tray watches a service).
//! 8. **Composition.**
//!    - `app`: paths, the real parts from settings, the sinks beside an engine, the daemon (`daemon`),
//!      what it serves a tray besides its engine (`backend`: history, the config masked, Save through it),
//!      signals (`signals`), the settings in words (`summary`).
//!    - `service`: installing and controlling the OS service (systemd, launchd, Windows SCM); `cli::service`
//!      also moves a tray's config into the service it installs (`--adopt`) and back (`--hand-back`).
//!    - `cli`: each command's handler and the rendering of its output (`init`: the first-run questions in a
//!      terminal; `import`; `health`); the localized `--help`.
//! 9. **GUI.** `ui`: the tray app (`tray`: event loop, icon and menu, work for the window off its thread,
//!    whose engine it shows), the settings window (`pages`: one file per page, drawn by one function the
//!    window and the kittest tests share, and the first-run `welcome` shown instead of them; `settings`: the form, its tables and Save; `window`: egui on
//!    winit/wgpu with AccessKit; `fonts`), single instance, start at login, and "Run unattended"
//!    (`unattended`: the setup into the system service and back, with rights asked the OS's way). Nothing
//!    below imports it.
//!
//! Features: `tray` (the tray app, default) and `full` (default; the headless daemon with everything is
//! `--no-default-features --features full`). `full` is `all-providers` (35 API provider kinds), `email` and
//! `import`; without it, `--no-default-features` is the small build for routers. A kind left out is a
//! `#[cfg]` on its line of the `kinds!` list and on its module, and its name in its family's
//! `FULL_BUILD_KINDS`, so a config naming it is told it needs the full build.
//!
//! `main.rs` parses the command line (clap), sets up logging, dispatches to `cli` or the tray, and maps
//! the outcome to an exit code. `fuzzing` (hidden) holds the entry points of the fuzz suite in `fuzz/`.

pub mod app;
pub mod cli;
pub mod config;
pub mod control;
pub mod detect;
pub mod dns;
pub mod encode;
pub mod engine;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod history;
pub mod http;
pub mod i18n;
#[cfg(feature = "import")]
pub mod import;
#[cfg(test)]
mod layers;
pub mod logfile;
pub mod metrics;
pub mod netwatch;
pub mod notifier;
pub mod notify;
pub mod platform;
pub mod provider;
pub mod service;
pub mod settings;
pub mod store;
pub mod ui;
pub mod vault;

// The catalogues in locales/ (en, zh-CN), compiled in as static tables (`i18n::Catalogues`, made by build.rs);
// `i18n::t!` looks strings up in the language in use. rust-i18n's own loader is pointed at a folder that
// holds no catalogue: it would copy every string into a `HashMap` at start.
rust_i18n::i18n!(
    "locales/served-by-catalogues",
    fallback = "en",
    backend = crate::i18n::Catalogues
);
