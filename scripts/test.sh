#!/usr/bin/env bash
# The test command (README "Run the tests", and what CI runs):
#   1. installs the system packages the tests need (Debian/Ubuntu, via apt-get; sudo when not root),
#   2. starts real PowerDNS and Knot servers on random loopback ports (scripts/dns-servers.sh); the alert and
#      metrics tests start a real SMTP server (aiosmtpd) and a real Prometheus themselves,
#   3. checks formatting and lints, the small build for routers (scripts/small-check.sh), and the packaging: the MSI definition (wixl), the .deb (build, install,
#      run, verify, remove); the Helm chart, Kubernetes manifests, OpenWrt package, install.sh and the
#      winget/Scoop/Homebrew manifests (scripts/dist-check.sh); the Windows and macOS builds
#      (scripts/windows-check.sh: lint, Wine end-to-end); the static binaries and the container image
#      (scripts/container-check.sh: podman, qemu-user-static);
#   4. runs the whole suite (its summary is the last thing printed), and stops the servers whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(pdns-server pdns-backend-sqlite3 sqlite3 knot python3-aiosmtpd prometheus dnsutils curl iproute2 procps systemd msitools wixl dbus xvfb xauth xclip xdotool x11-utils imagemagick fonts-wqy-microhei libgl1-mesa-dri mesa-vulkan-drivers libegl1 libvulkan1 python3-dbus python3-gi miniupnpd tinyproxy)

. scripts/lib/apt.sh
missing_packages "${PACKAGES[@]}"
if [ "${#MISSING[@]}" -gt 0 ]; then
  # The packages' own services must not start on port 53: hold them off while installing.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt_install "${MISSING[@]}"
  if [ -n "$created_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  # On hosts running systemd they may be enabled anyway.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now pdns knot prometheus miniupnpd tinyproxy >/dev/null 2>&1 || true
  fi
fi

# In CI (a fresh clone, built once) incremental state is never reused, and each foreign build's target dir is
# removed once its check has passed: six full trees at once filled the CI machine's disk (stop 30, "No space
# left on device" at 929 s). A developer's run keeps them for the next build.
prune() { if [ -n "${CI:-}" ]; then rm -rf "$@"; fi; }
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
report_disk() { if [ -n "${CI:-}" ]; then echo "== disk: target/ $(du -sh target 2>/dev/null | cut -f1), free $(df -h --output=avail . | tail -n 1 | tr -d ' ')"; fi; }

report_disk
eval "$(scripts/dns-servers.sh start)"
trap 'scripts/dns-servers.sh stop "$DNS_SERVERS_DIR"' EXIT

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# The small build for routers (--no-default-features): lint, and checks through its binary.
bash scripts/small-check.sh
bash scripts/package-check.sh
report_disk; prune target/deb-check
# Helm chart, Kubernetes manifests, OpenWrt package, install.sh, winget/Scoop/Homebrew manifests.
bash scripts/dist-check.sh
# Windows (lint, build, run under Wine, MSI) and macOS (lint).
bash scripts/windows-check.sh
report_disk; prune target/cross
# Static musl binaries: x86_64 in the image FROM scratch under podman (publishes, HEALTHCHECK, non-root,
# read-only, PID 1, stop); aarch64 under qemu-user-static. armv7 is left to `bash scripts/container-check.sh`
# run alone (it adds a cold -Zbuild-std build, about 4 min, to a run measured at 50 min from a clean clone).
CONTAINER_CHECK_FOREIGN="${CONTAINER_CHECK_FOREIGN-aarch64}" bash scripts/container-check.sh
report_disk; prune target/static
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked --no-fail-fast
fi
