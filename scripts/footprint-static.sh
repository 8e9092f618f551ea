#!/usr/bin/env bash
# The static headless binaries' footprint (not CI: release builds take ~15 min each on 2 cores):
#
#   bash scripts/footprint-static.sh [seconds] [TARGET...]     (default: 40, x86_64-unknown-linux-musl)
#
# For each TARGET, the full headless build and the small build for routers (FOOTPRINT_VARIANTS="full small"
# by default): the release binary's stripped size, and where its bytes go, by crate (the symbols of an
# unstripped twin, demangled, summed per crate: what `cargo bloat --crates` reports, without installing it).
# For x86_64 also the idle RSS of `ddns-tray run` (native; under qemu the emulator's memory would be counted),
# against a loopback fake (scripts/static/fake-provider.py) in an empty network namespace, after `seconds`.
# Variants: CARGO_PROFILE_RELEASE_OPT_LEVEL=z, STATIC_RUSTFLAGS="-C relocation-model=static ..." (README).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
secs=40
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(x86_64-unknown-linux-musl)

work=$(mktemp -d)
ns=ddns-fp-$$
fake_pid=""
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

read -r -a variants <<< "${FOOTPRINT_VARIANTS:-full small}"
for t in "${targets[@]}"; do
for variant in "${variants[@]}"; do
  case "$variant" in
    full) flags=(); suffix="" ;;
    small) flags=(--small); suffix=-small ;;
    *) echo "footprint-static: FOOTPRINT_VARIANTS takes full and small, not $variant" >&2; exit 2 ;;
  esac
  # Unstripped (symbols, no debug info) so the crates can be told apart; the shipped binary is this, stripped.
  CARGO_PROFILE_RELEASE_STRIP=false bash scripts/static-build.sh --release "${flags[@]}" "$t" >/dev/null
  full=$repo/target/static/out/$t$suffix/ddns-tray
  case "$t" in
    x86_64-*) strip=/usr/bin/strip ;;
    aarch64-*) strip=/usr/bin/aarch64-linux-gnu-strip ;;
    armv7-*) strip=/usr/bin/arm-linux-gnueabihf-strip ;;
    *) echo "footprint-static: no strip for $t" >&2; exit 2 ;;
  esac
  "$strip" -o "$work/$t" "$full"
  echo "== $t, $variant build ($(date -u +%F), release: opt-level ${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}, LTO," \
    "panic abort, no unwind tables${STATIC_RUSTFLAGS:+, $STATIC_RUSTFLAGS})"
  echo "sections: $(size -A "$work/$t" | awk '$1 ~ /^\.(text|rodata|rela\.dyn|data\.rel\.ro|eh_frame)$/ {printf "%s %.2f MB  ", $1, $2 / 1e6}')"
  echo "stripped: $(stat -c %s "$work/$t") bytes"
  echo "top crates by code size (.text symbols; the rest is data and tables):"
  nm -S --size-sort -C "$full" | python3 -c '
import re, sys, collections
sizes = collections.Counter()
total = 0
for line in sys.stdin:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4 or parts[2] not in "tTwW":
        continue
    size, name = int(parts[1], 16), parts[3]
    total += size
    m = re.match(r"[<&*\s]*(?:dyn |impl |mut |const )?([A-Za-z_][A-Za-z0-9_]*)::", name)
    crate = m.group(1) if m else "[C and unnamed]"
    if crate in ("core", "alloc", "std", "compiler_builtins", "panic_abort", "std_detect"):
        crate = "std (core, alloc, std)"
    sizes[crate] += size
print(f"  {total:>10} bytes of code in all")
for crate, size in sizes.most_common(15):
    print(f"  {size:>10}  {100 * size / total:5.1f}%  {crate}")
'
  if [[ "$t" == x86_64-* ]]; then
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
    rm -rf "$work/fake" "$work/data"; mkdir -p "$work/fake"
    echo 198.51.100.160 > "$work/fake/ip"
    ip netns exec "$ns" python3 scripts/static/fake-provider.py "$work/fake" > "$work/fake/port" &
    fake_pid=$!
    for _ in $(seq 100); do [ -s "$work/fake/port" ] && break; sleep 0.05; done
    port=$(cat "$work/fake/port")
    cat > "$work/config.toml" <<CONF
interval = "30s"
[detect]
ipv4 = [ { kind = "http", url = "http://127.0.0.1:$port/ip", allow_private = true } ]
[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:$port/update?ip={ip}"
[[record]]
name = "footprint.example.test"
provider = "hook"
CONF
    ip netns exec "$ns" "$work/$t" --config "$work/config.toml" --data-dir "$work/data" run 2>"$work/log" &
    pid=$!
    sleep "$secs"
    echo "idle after ${secs} s (ddns-tray run, one record published: $(grep -c update "$work/fake/updates" || true)):"
    grep -E "VmRSS|RssAnon|RssFile|VmHWM|Threads" "/proc/$pid/status" | tr -s '\t ' ' ' | sed 's/^/  /'
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    kill "$fake_pid"; fake_pid=""
    ip netns delete "$ns"
  fi
done
done
