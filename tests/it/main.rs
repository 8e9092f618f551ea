//! Integration tests: the real binary against loopback fakes (echo services, webhooks, broken providers) and
//! real DNS servers (PowerDNS, Knot) started by `scripts/dns-servers.sh`.

mod cli;
mod detect;
mod powerdns;
mod rfc2136;
mod run;
mod support;
mod webhook;
