//! Integration tests: the real binary against loopback fakes (echo services, webhooks, broken providers) and
//! real DNS servers (`PowerDNS`, Knot) started by `scripts/dns-servers.sh`.

// Test code builds strings with format! freely and compares file names it created itself.
#![allow(
    clippy::format_push_string,
    clippy::case_sensitive_file_extension_comparisons
)]

mod alerts;
mod cli;
mod detect;
#[cfg(unix)]
mod endpoints;
#[cfg(unix)]
mod faults;
#[cfg(unix)]
mod files;
#[cfg(unix)]
mod health;
mod import;
#[cfg(target_os = "linux")]
mod init;
#[cfg(target_os = "linux")]
mod lines;
#[cfg(target_os = "linux")]
mod netevents;
#[cfg(target_os = "linux")]
mod pid1;
mod powerdns;
mod providers;
#[cfg(unix)]
mod proxy;
mod rfc2136;
#[cfg(target_os = "linux")]
mod router;
mod run;
mod service;
mod support;
mod tray;
mod webhook;
