#!/usr/bin/env bash
# The small build for routers (`--no-default-features`: README, "Static binaries"), checked through its
# binary (part of scripts/test.sh; the suite itself runs the full build):
#   - clippy on it (lib and binary: the unit tests use kinds it leaves out);
#   - `check` names a kind it leaves out (a provider, the mail notifier) as such, with the full build's name,
#     in English and in Chinese, and exits 2 (a config with problems); `import` is not one of its commands;
#   - `check` and `once` on a config of its own kinds: it detects from a loopback echo and publishes through a
#     webhook to it (scripts/static/fake-provider.py), in an empty network namespace.
# The host's debug build: the default binary in target/debug is put back afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

cargo clippy --locked --no-default-features -- -D warnings

bin=target/debug/ddns-tray
saved=""
if [ -f "$bin" ]; then saved=$(mktemp); cp -p "$bin" "$saved"; fi
work=$(mktemp -d)
cleanup() {
  # cargo hard-links its output to the artifact in deps/: unlink it first, or the copy would overwrite the
  # small build's artifact too.
  if [ -n "$saved" ]; then rm -f "$repo/$bin"; cp -p "$saved" "$repo/$bin"; rm -f "$saved"; fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --locked --no-default-features
cp "$bin" "$work/ddns-tray"
small=$work/ddns-tray
fail() { echo "small-check: $*" >&2; exit 1; }

cat > "$work/left-out.toml" <<'CONF'
[detect]
ipv4 = [ { kind = "http", url = "http://127.0.0.1:9/ip", allow_private = true } ]
[[provider]]
name = "aws"
kind = "route53"
access_key_id = "AKIDEXAMPLE"
secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
[[record]]
name = "home.example.com"
provider = "aws"
[[notify]]
name = "mail"
kind = "email"
CONF
# In an empty network namespace, as every run of the binary here: nothing can reach a public source.
set +e
out=$(unshare --net "$small" --config "$work/left-out.toml" --data-dir "$work/data" check 2>&1)
code=$?
zh=$(LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 unshare --net "$small" --config "$work/left-out.toml" \
  --data-dir "$work/data" check 2>&1)
set -e
[ "$code" -eq 2 ] || fail "check of kinds left out exited $code, not 2 (a config with problems): $out"
grep -qF 'provider[0].kind' <<< "$out" || fail "check does not point at provider[0].kind: $out"
grep -qF '`route53` is not in this build: the small build for routers leaves it out' <<< "$out" ||
  fail "check does not say route53 is left out: $out"
grep -qF '`email` is not in this build' <<< "$out" || fail "check does not say email is left out: $out"
grep -qF -- '--features full' <<< "$out" || fail "check does not name the full build: $out"
grep -qF '此版本不含 `route53`' <<< "$zh" || fail "check in Chinese does not say route53 is left out: $zh"
if unshare --net "$small" import "$work/left-out.toml" >/dev/null 2>&1; then fail "the small build has an import command"; fi

mkdir -p "$work/fake"
echo 198.51.100.77 > "$work/fake/ip"
cat > "$work/run.sh" <<RUN
set -eu
ip link set lo up
python3 "$repo/scripts/static/fake-provider.py" "$work/fake" > "$work/fake/port" &
fake=\$!
for _ in \$(seq 100); do [ -s "$work/fake/port" ] && break; sleep 0.05; done
port=\$(cat "$work/fake/port")
cat > "$work/small.toml" <<CONF
[detect]
ipv4 = [ { kind = "http", url = "http://127.0.0.1:\$port/ip", allow_private = true } ]
[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:\$port/update?ip={ip}"
[[record]]
name = "router.example.test"
provider = "hook"
CONF
status=0
"$small" --config "$work/small.toml" --data-dir "$work/data" check > "$work/check.out" 2>&1 || status=\$?
[ "\$status" -eq 0 ] && "$small" --config "$work/small.toml" --data-dir "$work/data" once > "$work/once.out" 2>&1 ||
  status=\$?
kill \$fake
exit \$status
RUN
unshare --net bash "$work/run.sh" || fail "check or once of the small build failed: $(cat "$work"/*.out 2>/dev/null)"
grep -qF 'ip=198.51.100.77' "$work/fake/updates" || fail "once published nothing: $(cat "$work/once.out")"
echo "small-check: $(unshare --net "$small" --version); a left-out kind is named as such (en, zh-CN); check and once publish"
