#!/usr/bin/env bash
# The static binaries and the container image, end to end (called by scripts/test.sh, so CI runs it):
#
#   bash scripts/container-check.sh [image|foreign|all]      (default: all)
#
# image:   builds the x86_64 static binary (debug, scripts/static-build.sh) and the image FROM scratch
#          (packaging/container/build.sh), and runs it with podman in an empty network namespace against a
#          loopback fake (scripts/static/fake-provider.py, in the same namespace): it publishes; its
#          HEALTHCHECK (`ddns-tray health`) turns healthy, then unhealthy when the provider refuses; it runs as
#          uid 65532 with a read-only root filesystem; as PID 1 it leaves no zombie from a `command` source
#          whose program leaves a child behind (a static busybox is mounted for that program); `podman stop`
#          ends it within 5 s with exit code 0.
# foreign: builds the aarch64 and armv7 static binaries (debug) and runs each under qemu-user-static:
#          `--version`, `check`, and `once` against the loopback fake in an empty network namespace.
#          CONTAINER_CHECK_FOREIGN="aarch64" (or "armv7", or "") limits it: each arch is a cold -Zbuild-std
#          build of 9-11 min here (README, "Static binaries").
#
# Podman as root, with the vfs storage driver, runc and explicit ulimits (crun and the default ulimits fail
# on this machine kind's kernel). Nothing reaches beyond the namespace's loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
what=${1:-all}

. scripts/lib/apt.sh
missing_packages podman buildah runc qemu-user-static busybox-static iproute2 python3 file
apt_install "${MISSING[@]}"

podman=(podman --storage-driver vfs)
ns=ddns-oci-$$
work=$(mktemp -d)
name=ddns-oci-check-$$
fake_pid=""
cleanup() {
  "${podman[@]}" rm -f -v -t 0 "$name" >/dev/null 2>&1 || true
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "container-check: FAIL: $*" >&2
  exit 1
}

# An empty network namespace with only loopback up, and the fake listening in it.
start_fake() {
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  mkdir -p "$work/fake"
  echo 198.51.100.140 > "$work/fake/ip"
  : > "$work/fake/updates"
  rm -f "$work/fake/refuse"
  ip netns exec "$ns" python3 scripts/static/fake-provider.py "$work/fake" > "$work/fake/port" &
  fake_pid=$!
  for _ in $(seq 100); do
    [ -s "$work/fake/port" ] && break
    sleep 0.05
  done
  port=$(cat "$work/fake/port")
  [ -n "$port" ] || fail "the fake did not start"
}

wait_for() { # seconds, command...
  local limit=$1; shift
  local end=$((SECONDS + limit))
  while [ "$SECONDS" -lt "$end" ]; do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  return 1
}

updates() { wc -l < "$work/fake/updates"; }

image_check() {
  local start=$SECONDS
  image=$(bash packaging/container/build.sh amd64 | tail -n 1)
  echo "== image $image built in $((SECONDS - start)) s; size $("${podman[@]}" image inspect --format '{{.Size}}' "$image") bytes"
  start_fake
  mkdir -p "$work/config"
  # The command source's program starts a child and leaves it behind: killed with its process group when
  # the program ends, that child is an orphan handed to PID 1.
  cat > "$work/config/config.toml" <<CONF
interval = "30s"
[detect]
ipv4 = [ { kind = "command", command = ["/bin/sh", "-c", "/bin/sleep 30 >/dev/null 2>&1 & /bin/wget -q -O - http://127.0.0.1:$port/ip"], allow_private = true } ]
[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:$port/update?ip={ip}"
[[record]]
name = "oci.example.test"
provider = "hook"
CONF
  chmod 0644 "$work/config/config.toml"
  bb=$(command -v busybox)
  "${podman[@]}" run -d --name "$name" --runtime runc \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    --network "ns:/run/netns/$ns" --read-only --cap-drop ALL --security-opt no-new-privileges \
    --health-interval disable \
    -v "$work/config:/config:ro" -v "$bb:/bin/sh:ro" -v "$bb:/bin/sleep:ro" -v "$bb:/bin/wget:ro" \
    "$image" >/dev/null 2>"$work/podman-run.err" || { cat "$work/podman-run.err" >&2; fail "podman run"; }
  # Without systemd podman says it cannot set up the timer for the health checks (run here by hand): not an error.
  grep -v "unable to get systemd connection" "$work/podman-run.err" >&2 || true
  published() { [ "$(updates)" -ge 1 ]; }
  wait_for 20 published || { "${podman[@]}" logs "$name" >&2; fail "nothing published"; }
  grep -q "ip=198.51.100.140" "$work/fake/updates" || fail "published $(cat "$work/fake/updates")"
  echo "== published from the container: $(head -n 1 "$work/fake/updates")"

  healthy() { "${podman[@]}" healthcheck run "$name" >/dev/null 2>&1; }
  wait_for 20 healthy || { "${podman[@]}" exec "$name" /ddns-tray health >&2 || true; fail "never healthy"; }
  echo "== healthy: $("${podman[@]}" exec "$name" /ddns-tray health)"

  # Non-root, read-only root filesystem.
  pid=$("${podman[@]}" inspect --format '{{.State.Pid}}' "$name")
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [ "$uid" = 65532 ] || fail "PID 1 of the container runs as uid $uid"
  [ "$("${podman[@]}" inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")" = true ] \
    || fail "the root filesystem is not read-only"
  if "${podman[@]}" exec "$name" /bin/sh -c ': > /probe' 2>/dev/null; then fail "the root filesystem is writable"; fi
  echo "== runs as uid $uid, root filesystem read-only"

  # The provider refuses a new address: unhealthy, with the reason.
  echo "badauth: key revoked" > "$work/fake/refuse"
  echo 198.51.100.141 > "$work/fake/ip"
  "${podman[@]}" exec "$name" /ddns-tray ctl update >/dev/null
  unhealthy() { ! "${podman[@]}" healthcheck run "$name" >/dev/null 2>&1; }
  wait_for 20 unhealthy || fail "still healthy while the provider refuses"
  why=$("${podman[@]}" exec "$name" /ddns-tray health || true)
  case "$why" in
    "unhealthy: oci.example.test A: "*"key revoked"*) echo "== $why" ;;
    *) fail "health said: $why" ;;
  esac

  # No zombie under PID 1: every round's orphaned sleep was reaped.
  sleep 2
  zombies=0
  for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
    if [ "$(awk '{print $3}' "/proc/$c/stat" 2>/dev/null)" = Z ]; then zombies=$((zombies + 1)); fi
  done
  [ "$zombies" = 0 ] || fail "$zombies zombie(s) under the container's PID 1"
  echo "== no zombies under PID 1 after $(updates) rounds' orphans"

  local t0 t1
  t0=$(date +%s%N)
  "${podman[@]}" stop -t 10 "$name" >/dev/null 2>&1 || fail "podman stop"
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$name")
  [ "$ms" -lt 5000 ] || fail "podman stop took $ms ms"
  [ "$code" = 0 ] || fail "exit code $code after SIGTERM"
  echo "== podman stop: $ms ms, exit code $code"
  "${podman[@]}" rm -f -v "$name" >/dev/null 2>&1
  kill "$fake_pid"; fake_pid=""
  ip netns delete "$ns"
  echo "image check: $((SECONDS - start)) s"
}

foreign_check() {
  local start=$SECONDS
  start_fake
  cat > "$work/foreign.toml" <<CONF
[detect]
ipv4 = [ { kind = "http", url = "http://127.0.0.1:$port/ip", allow_private = true } ]
[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:$port/update?ip={ip}"
[[record]]
name = "foreign.example.test"
provider = "hook"
CONF
  local pairs=()
  for a in ${CONTAINER_CHECK_FOREIGN-aarch64 armv7}; do
    case "$a" in
      aarch64) pairs+=(aarch64-unknown-linux-musl:qemu-aarch64-static) ;;
      armv7) pairs+=(armv7-unknown-linux-musleabihf:qemu-arm-static) ;;
      *) fail "CONTAINER_CHECK_FOREIGN: $a is not aarch64 or armv7" ;;
    esac
  done
  for t in "${pairs[@]}"; do
    target=${t%%:*}
    qemu=${t#*:}
    bin=$(bash scripts/static-build.sh "$target")
    file -L "$bin" | grep -Eq 'statically linked|static-pie linked' || fail "$bin is not static"
    run() { ip netns exec "$ns" "$qemu" "$bin" --config "$work/foreign.toml" --data-dir "$work/data-$target" "$@"; }
    version=$(run --version)
    run check >/dev/null || fail "$target: check"
    before=$(updates)
    out=$(run once) || fail "$target: once: $out"
    [ "$(updates)" -gt "$before" ] || fail "$target: once published nothing"
    echo "== $target under $qemu: $version; check ok; once: $out"
  done
  echo "foreign check: $((SECONDS - start)) s"
}

case "$what" in
  image) image_check ;;
  foreign) foreign_check ;;
  all)
    start=$SECONDS
    image_check
    foreign_check
    echo "container-check: $((SECONDS - start)) s"
    ;;
  *) echo "usage: $0 [image|foreign|all]" >&2; exit 2 ;;
esac
