#!/usr/bin/env bash
# Measures the release binary's size and the idle RSS of `ddns-tray run` against the real local DNS servers
# (PowerDNS API + Knot RFC 2136, DNS echo from a PowerDNS LUA record). Not part of the test suite.
#   bash scripts/footprint.sh [seconds]     (default 40: the first round plus one 30 s check)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-40}
cargo build --release --locked 2>&1 | tail -n 1
bin=target/release/ddns-tray
eval "$(scripts/dns-servers.sh start)"
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; scripts/dns-servers.sh stop "$DNS_SERVERS_DIR"; rm -rf "$work"' EXIT
cat > "$work/config.toml" <<CONF
interval = "30s"
[detect]
ipv4 = [ { kind = "dns", server = "127.0.0.1:$PDNS_PORT", name = "myip.opendns.com", allow_private = true } ]
[[provider]]
name = "pdns"
kind = "powerdns"
url = "$PDNS_API_URL"
api_key = "$PDNS_API_KEY"
[[provider]]
name = "knot"
kind = "rfc2136"
server = "127.0.0.1:$KNOT_PORT"
zone = "example.test"
key_name = "$KNOT_TSIG_NAME"
key_secret = "$KNOT_TSIG_SECRET"
[[record]]
name = "footprint.example.test"
provider = "pdns"
[[record]]
name = "footprint.example.test"
provider = "knot"
CONF
"$bin" --config "$work/config.toml" --data-dir "$work/data" run 2>"$work/log" &
pid=$!
sleep "$secs"
echo "binary: $(stat -c %s "$bin") bytes ($bin, stripped, LTO, opt-level s)"
grep -E "VmRSS|VmHWM|Threads" "/proc/$pid/status" | tr -s '\t ' ' '
echo "records published: $(grep -c 'Updated footprint' "$work/log")"
