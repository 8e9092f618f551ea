#!/usr/bin/env bash
# Scale benchmark (not a test): N A records on one real PowerDNS, then one IP change.
#
#   bash bench/scale.sh [BINARY] [N]      (defaults: target/release/ddns-tray, 1000)
#
# Starts its own PowerDNS (scripts/dns-servers.sh) and a request-counting proxy in front of its API
# (bench/count_proxy.py). Three `once` runs: the first publishes every record, the second publishes a changed
# address, the third finds nothing to do. For each it prints the wall time, the API requests by method and the
# bytes the process wrote to disk (getrusage "file system outputs" x 512, from /usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/ddns-tray}")
n=${2:-1000}
eval "$(scripts/dns-servers.sh start)" 2>/dev/null
work=$(mktemp -d /var/tmp/ddns-scale.XXXXXX)
proxy_pid=""
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  scripts/dns-servers.sh stop "$DNS_SERVERS_DIR"
  rm -rf "$work"
}
trap cleanup EXIT
port=$(shuf -i 20000-60999 -n 1)
python3 bench/count_proxy.py "$port" "$PDNS_API_PORT" "$work/counts.json" &
proxy_pid=$!
for _ in $(seq 1 50); do [ -f "$work/counts.json" ] && break; sleep 0.1; done
echo 198.51.100.1 > "$work/ip"
{
  printf 'interval = "5m"\n[detect]\nipv4 = [ { kind = "command", command = ["cat", "%s/ip"], allow_private = true } ]\n' "$work"
  printf '[[provider]]\nname = "pdns"\nkind = "powerdns"\nurl = "http://127.0.0.1:%s"\napi_key = "%s"\n' "$port" "$PDNS_API_KEY"
  for i in $(seq 1 "$n"); do printf '[[record]]\nname = "s%d.scale.example.test"\nprovider = "pdns"\ntype = "A"\n' "$i"; done
} > "$work/config.toml"

counts() { cat "$work/counts.json"; }
delta() { # before after -> {"GET": n, ...} of the difference
  python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(json.dumps({k: b[k]-a.get(k,0) for k in sorted(b) if b[k]-a.get(k,0)}, separators=(",", ":")))' "$1" "$2"
}
measure() { # label
  local t0 t1 out code before
  before=$(counts)
  t0=$(date +%s.%N)
  set +e
  out=$(/usr/bin/time -f '%e %O %M' "$bin" --config "$work/config.toml" --data-dir "$work/data" once 2>&1 >"$work/once.out")
  code=$?
  set -e
  t1=$(date +%s.%N)
  local stats; stats=$(tail -n 1 <<<"$out")
  local blocks maxrss; blocks=$(awk '{print $2}' <<<"$stats"); maxrss=$(awk '{print $3}' <<<"$stats")
  sleep 0.3
  printf '%-28s exit %d  %6.2f s  requests %-40s disk writes %7.1f MB  max RSS %5.1f MB  %s\n' "$1" "$code" \
    "$(echo "$t1 - $t0" | bc)" "$(delta "$before" "$(counts)")" "$(echo "$blocks * 512 / 1000000" | bc -l)" \
    "$(echo "$maxrss / 1024" | bc -l)" "$(grep -c ' updated$' "$work/once.out" || true) updated"
}
echo "ddns-tray scale benchmark: $n records on PowerDNS ($(nproc) cores, $(date -u +%F))"
measure "first publication"
echo 198.51.100.2 > "$work/ip"
measure "address changed"
measure "nothing changed"
echo "state file: $(stat -c %s "$work/data/state.json") bytes"
