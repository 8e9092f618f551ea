//! ddns-tray: keeps DNS records pointing at this machine's public IP, as a tray app or a headless daemon.
//!
//! # Layout
//!
//! - `config`: the TOML file (`file`), validation into `Settings` with every problem named (`validate`), secrets (`secret`).
//! - `detect`: public-IP sources (http, cloudflare-trace, dns, interface, command, router) behind one trait; the `Detector` applies the policy (`confirm`: a change needs a second operator; `first`; `agree`) and rejects non-public, malformed and CDN-owned answers (`cdn`: Cloudflare's published ranges); one `Detector` per `[[line]]` sends the sources through that uplink.
//! - `provider`: DNS providers, one file each with its config, validation and secrets. The engine sees one trait; behind it the read-capable APIs implement a small record API and share one reconciler (`reconcile`: lines, duplicates, parsed comparison, no write when equal); write-only protocols implement a blind setter. `error` classifies failures for retry policy; `sign` holds the request signers.
//! - `engine`: the tick / command / shutdown loop on the monotonic clock, one update round (providers concurrently, commands answered meanwhile; writes already sent outlive a pause), backoff, the flap guard and the per-record write budget, and the Command / Event / Status types. No UI, files or environment.
//! - `store`: persisted runtime state (JSON, versioned with migration, atomic writes, engine lock), the settings-fingerprint key (in the data dir), and the bounded event `history` (rotated by entries and size; a big round summarised).
//! - `fsutil`: bounded reads that refuse non-regular files, appends and locks that never follow a link or block on a FIFO, atomic writes, owner-only directories, stale temp-file cleanup.
//! - `logfile`: the daemon's daily log files (owner-only, 7 kept, opened through `fsutil`).
//! - `netwatch`: network-change events (rtnetlink, Windows IP Helper callbacks, the macOS routing socket) and wake-from-sleep detection, reported to the app, which hands them to the engine.
//! - `notify`: every user-visible sentence about engine events and the one policy for toasts and alerts; the log notifier, desktop toasts, and the `[[notify]]` alerts (`kinds`: chat robots, push services, webhooks, heartbeats; `email`; `alerts`: dispatch, rate limit, `notify test`).
//! - `metrics`: the `[metrics]` endpoint (Prometheus text, health, status JSON) fed by the engine's events and status.
//! - `ui`: the tray app (winit event loop, tray icon and menu, work for the window off its thread), the settings window (`pages`: the sidebar pages and dialogs, drawn by one function the window and the kittest tests share; `settings`: the form, its validation and Save into the user's file with `toml_edit`; `window`: egui on winit/wgpu with AccessKit, drawn only when egui asks; `fonts`: a system CJK font), single instance, start at login, and `model`, the status-to-display functions (local times).
//! - `service`: installing and controlling the OS service (systemd, launchd, Windows SCM).
//! - `control`: the daemon's control endpoint (Unix socket / named pipe, JSON lines): status, watch, update, pause, resume, reload, for tray apps and `ddns-tray ctl`.
//! - `app`: composition root: paths, real parts from settings, the start-up summary.
//! - `platform`: what only one OS has (Windows security descriptors, job objects, event log, adapter flags), kept out of the core.
//! - `dns`: DNS messages over UDP/TCP to one server (shared by the dns source and the rfc2136 provider).
//! - `i18n`: the language in use (config `language`, else the OS locale) and the `t!` lookup into the English and Simplified Chinese catalogues in `locales/`.
//! - `http`: HTTP clients (provider and alert calls through `proxy` or the OS's proxy setting; detection direct), bounded body reads, Retry-After, URL-free error text that names a refusing proxy.
//!
//! - `fuzzing` (hidden): the entry points of the fuzz suite in `fuzz/`.
//!
//! `main.rs` is the command line (clap) and maps errors to exit codes.

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

// The catalogues in locales/ (en, zh-CN), compiled in; `i18n::t!` looks strings up in the language in use.
rust_i18n::i18n!("locales", fallback = "en");
