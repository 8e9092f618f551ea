//! ddns-tray: keeps DNS records pointing at this machine's public IP, as a tray app or a headless daemon.
//!
//! # Layout
//!
//! - `config`: the TOML file (`file`), validation into `Settings` with every problem named (`validate`), secrets (`secret`).
//! - `detect`: public-IP sources (http, cloudflare-trace, dns, interface, command) behind one trait; the `Detector` applies the policy and rejects non-public or malformed answers.
//! - `provider`: DNS providers (powerdns, rfc2136, webhook) behind one trait; `error` classifies failures for retry policy.
//! - `engine`: the tick / command / shutdown loop, one update round, backoff, and the Command / Event / Status types. No UI, files or environment.
//! - `store`: persisted runtime state (JSON, versioned, atomic writes, engine lock).
//! - `notify`: every user-visible sentence about engine events, the toast policy, the log notifier and desktop toasts.
//! - `ui`: the tray app (winit event loop, tray icon and menu) and `model`, the status-to-display functions.
//! - `service`: installing and controlling the OS service (systemd, launchd, Windows SCM).
//! - `app`: composition root: paths, real parts from settings, the start-up summary.
//! - `dns`: DNS messages over UDP/TCP to one server (shared by the dns source and the rfc2136 provider).
//! - `http`: HTTP clients, bounded body reads, Retry-After, URL-free error text.
//!
//! `main.rs` is the command line (clap) and maps errors to exit codes.

pub mod app;
pub mod config;
pub mod detect;
pub mod dns;
pub mod engine;
pub mod http;
pub mod notify;
pub mod provider;
pub mod service;
pub mod store;
pub mod ui;
