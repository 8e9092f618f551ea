#!/usr/bin/env bash
# Starts real DNS servers on random free loopback ports for the integration tests, and stops them.
#
#   eval "$(scripts/dns-servers.sh start)"   # prints `export NAME=value` lines (ports, keys, the run dir)
#   scripts/dns-servers.sh stop "$DNS_SERVERS_DIR"
#
# PowerDNS (pdns_server + gsqlite3): REST API, RFC 2136 with TSIG, and LUA echo records
#   (myip.opendns.com A, o-o.myaddr.l.google.com TXT, whoami.akamai.net A answer with the asker's address).
# Knot (knotd): RFC 2136 with TSIG (hmac-sha256 and hmac-sha512 keys).
# Both listen on 127.0.0.1 only. Logs stay in the run dir; on failure the log tail is printed to stderr.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

port_free() { # port -> 0 when neither TCP nor UDP uses it
  [ -z "$(ss -Htuln "sport = :$1" 2>/dev/null)" ]
}

pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(shuf -i 20000-60999 -n 1)
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  log "no free port found"; return 1
}

wait_for() { # seconds command... -> 0 when the command succeeds in time
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}

alive() { # pid -> 0 when running (zombies count as dead)
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ') || return 1
  [ -n "$state" ] && [ "${state:0:1}" != "Z" ]
}

secret() { head -c 32 /dev/urandom | base64; }

start_pdns() {
  local dir=$1/pdns api_key=$2 tsig=$3
  mkdir -p "$dir"
  { echo "PRAGMA synchronous=OFF; BEGIN;"; cat /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql; echo "COMMIT;"; } \
    | sqlite3 "$dir/pdns.sqlite3"
  local attempt
  for attempt in 1 2 3; do
    PDNS_PORT=$(pick_port); PDNS_API_PORT=$(pick_port)
    cat > "$dir/pdns.conf" <<EOF
launch=gsqlite3
gsqlite3-database=$dir/pdns.sqlite3
gsqlite3-pragma-synchronous=0
local-address=127.0.0.1:$PDNS_PORT
daemon=no
guardian=no
socket-dir=$dir
security-poll-suffix=
api=yes
api-key=$api_key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$PDNS_API_PORT
webserver-allow-from=127.0.0.0/8,::1
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8,::1
enable-lua-records=yes
edns-subnet-processing=yes
receiver-threads=1
distributor-threads=1
loglevel=4
EOF
    pdns_server --config-dir="$dir" > "$dir/pdns.log" 2>&1 &
    PDNS_PID=$!
    if wait_for 10 curl -sf -H "X-API-Key: $api_key" "http://127.0.0.1:$PDNS_API_PORT/api/v1/servers/localhost"; then
      break
    fi
    kill "$PDNS_PID" 2>/dev/null || true
    if [ "$attempt" = 3 ]; then log "pdns_server did not start:"; tail -n 20 "$dir/pdns.log" >&2; return 1; fi
  done
  echo "$PDNS_PID" > "$dir/pid"

  local api="http://127.0.0.1:$PDNS_API_PORT/api/v1/servers/localhost"
  req() { # method path [json]
    local code
    code=$(curl -s -o "$dir/last-response" -w '%{http_code}' -X "$1" -H "X-API-Key: $api_key" \
      -H 'Content-Type: application/json' ${3:+--data "$3"} "$api$2")
    case "$code" in 2*) ;; *) log "pdns $1 $2 -> $code: $(cat "$dir/last-response")"; return 1;; esac
  }
  local zone
  for zone in example.test. l.google.com. opendns.com. akamai.net.; do
    req POST /zones "{\"name\":\"$zone\",\"kind\":\"Native\",\"nameservers\":[\"ns1.$zone\"]}"
  done
  req PATCH /zones/l.google.com. '{"rrsets":[{"name":"o-o.myaddr.l.google.com.","type":"LUA","ttl":0,"changetype":"REPLACE","records":[{"content":"TXT \"bestwho:toString()\"","disabled":false}]}]}'
  req PATCH /zones/opendns.com. '{"rrsets":[{"name":"myip.opendns.com.","type":"LUA","ttl":0,"changetype":"REPLACE","records":[{"content":"A \"who:toString()\"","disabled":false}]}]}'
  req PATCH /zones/akamai.net. '{"rrsets":[{"name":"whoami.akamai.net.","type":"LUA","ttl":0,"changetype":"REPLACE","records":[{"content":"A \"who:toString()\"","disabled":false}]}]}'
  req POST /tsigkeys "{\"name\":\"ddns-key\",\"algorithm\":\"hmac-sha256\",\"key\":\"$tsig\"}"
  req PUT /zones/example.test./metadata/TSIG-ALLOW-DNSUPDATE '{"metadata":["ddns-key"]}'
}

start_knot() {
  local dir=$1/knot key256=$2 key512=$3
  mkdir -p "$dir/zones" "$dir/db"
  cat > "$dir/zones/example.test.zone" <<'EOF'
$ORIGIN example.test.
$TTL 300
@    SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
@    NS  ns1.example.test.
ns1  A   127.0.0.1
EOF
  local attempt
  for attempt in 1 2 3; do
    KNOT_PORT=$(pick_port)
    cat > "$dir/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$KNOT_PORT
    rundir: $dir
log:
  - target: stderr
    any: info
database:
    storage: $dir/db
key:
  - id: ddns-key
    algorithm: hmac-sha256
    secret: $key256
  - id: ddns-key-512
    algorithm: hmac-sha512
    secret: $key512
acl:
  - id: ddns-update
    key: [ddns-key, ddns-key-512]
    action: update
template:
  - id: default
    storage: $dir/zones
    zonefile-sync: -1
    journal-content: all
zone:
  - domain: example.test
    acl: ddns-update
EOF
    knotd -c "$dir/knot.conf" > "$dir/knot.log" 2>&1 &
    KNOT_PID=$!
    if wait_for 10 bash -c "dig +time=1 +tries=1 @127.0.0.1 -p $KNOT_PORT example.test SOA +short | grep -q ns1"; then
      break
    fi
    kill "$KNOT_PID" 2>/dev/null || true
    if [ "$attempt" = 3 ]; then log "knotd did not start:"; tail -n 20 "$dir/knot.log" >&2; return 1; fi
  done
  echo "$KNOT_PID" > "$dir/pid"
}

stop_all() {
  local dir=$1 pidfile pid
  for pidfile in "$dir"/pdns/pid "$dir"/knot/pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  start)
    for tool in pdns_server knotd dig sqlite3 ss curl; do
      command -v "$tool" >/dev/null || { log "missing $tool: run scripts/test.sh (it installs the packages) or apt-get install pdns-server pdns-backend-sqlite3 sqlite3 knot dnsutils iproute2 curl"; exit 1; }
    done
    DIR=${2:-$(mktemp -d /tmp/ddns-tray-dns.XXXXXX)}
    mkdir -p "$DIR"
    PDNS_API_KEY=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
    PDNS_TSIG_SECRET=$(secret)
    KNOT_TSIG_SECRET=$(secret)
    KNOT_TSIG512_SECRET=$(head -c 64 /dev/urandom | base64 -w0)
    trap 'stop_all "$DIR"' ERR
    start_pdns "$DIR" "$PDNS_API_KEY" "$PDNS_TSIG_SECRET"
    start_knot "$DIR" "$KNOT_TSIG_SECRET" "$KNOT_TSIG512_SECRET"
    trap - ERR
    cat <<EOF
export DNS_SERVERS_DIR=$DIR
export PDNS_PORT=$PDNS_PORT
export PDNS_API_PORT=$PDNS_API_PORT
export PDNS_API_URL=http://127.0.0.1:$PDNS_API_PORT
export PDNS_API_KEY=$PDNS_API_KEY
export PDNS_TSIG_NAME=ddns-key
export PDNS_TSIG_SECRET=$PDNS_TSIG_SECRET
export KNOT_PORT=$KNOT_PORT
export KNOT_TSIG_NAME=ddns-key
export KNOT_TSIG_SECRET=$KNOT_TSIG_SECRET
export KNOT_TSIG512_NAME=ddns-key-512
export KNOT_TSIG512_SECRET=$KNOT_TSIG512_SECRET
EOF
    log "pdns on 127.0.0.1:$PDNS_PORT (API :$PDNS_API_PORT), knot on 127.0.0.1:$KNOT_PORT; logs in $DIR"
    ;;
  stop)
    [ -n "${2:-}" ] || { log "usage: $0 stop DIR"; exit 2; }
    stop_all "$2"
    ;;
  *)
    log "usage: $0 start [DIR] | stop DIR"; exit 2;;
esac
