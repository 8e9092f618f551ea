#!/usr/bin/env bash
# Windows (and macOS) on this Linux machine: lint the Windows build, build it, and run it under Wine; lint the
# macOS build. Called by scripts/test.sh, so CI runs it.
#
#   bash scripts/windows-check.sh [lint|build|wine|all]      (default: all)
#
# How (see shared/reference/windows-on-linux.md):
# - rustup here has no Windows std; Debian's rustc-web ships std sources, so cargo -Zbuild-std builds std for
#   x86_64-pc-windows-gnu (RUSTC_BOOTSTRAP=1 unlocks -Z on that stable compiler). MinGW is the C compiler (ring)
#   and the linker. Clippy is Debian's cargo-clippy, called directly (rustup's would be found first).
# - macOS is checked, not linked: there is no SDK. Build scripts that compile C (ring, mac-notification-sys)
#   get a stand-in C compiler (scripts/fake-cc.sh) that writes empty objects: type-checking needs no object code.
# - Wine 8 lacks bcryptprimitives.dll's ProcessPrng, which Rust's std imports: a test-only shim DLL
#   (scripts/wine/bcryptprimitives.c, forwarding to RtlGenRandom) is built with MinGW and put next to the exe.
#   Real Windows 10+ has it.
# - Everything runs against loopback fakes and a private Wine prefix (WINEPREFIX under target/); the default
#   public detection sources are never asked.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
what=${1:-all}

. scripts/lib/apt.sh
missing_packages rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 wine64 msitools wixl xvfb xauth imagemagick x11-utils
apt_install "${MISSING[@]}"

# Debian's toolchain, not rustup's.
export PATH=/usr/bin:/bin:/usr/lib/wine
export CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=$repo/target/cross
export CC_x86_64_apple_darwin=$repo/scripts/fake-cc.sh AR_x86_64_apple_darwin=/usr/bin/ar
# No debug info in these builds: it would make the exe 630 MB (and the MSI's cabinet slow to build).
export CARGO_PROFILE_DEV_DEBUG=0
WIN=x86_64-pc-windows-gnu
MAC=x86_64-apple-darwin
BUILD_STD=(-Zbuild-std=std,panic_abort)

clippy() { # target, extra args...
  local target=$1; shift
  echo "== clippy $target $*"
  # --all-targets includes the tests: their harness needs the `test` crate built too.
  /usr/bin/cargo-clippy clippy -Zbuild-std=std,panic_abort,test --target "$target" --locked --all-targets "$@" \
    -- -D warnings
}

lint() {
  clippy $WIN
  clippy $WIN --no-default-features --features full
  clippy $MAC
  clippy $MAC --no-default-features --features full
}

build() {
  echo "== build $WIN (headless) and (tray)"
  # One target dir for both: std and the shared dependencies are built once. The headless exe is put aside
  # before the tray build replaces it.
  /usr/bin/cargo build "${BUILD_STD[@]}" --target $WIN --locked --no-default-features --features full
  mkdir -p "$CARGO_TARGET_DIR/headless"
  cp "$CARGO_TARGET_DIR/$WIN/debug/ddns-tray.exe" "$CARGO_TARGET_DIR/headless/ddns-tray.exe"
  /usr/bin/cargo build "${BUILD_STD[@]}" --target $WIN --locked
  x86_64-w64-mingw32-gcc -shared -O2 -o "$CARGO_TARGET_DIR/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c \
    scripts/wine/bcryptprimitives.def -ladvapi32
}

wine_suite() {
  echo "== Wine end-to-end (screenshot in $CARGO_TARGET_DIR/wine-settings.png)"
  python3 tests/wine_e2e.py "$CARGO_TARGET_DIR/$WIN/debug/ddns-tray.exe" \
    "$CARGO_TARGET_DIR/headless/ddns-tray.exe" "$CARGO_TARGET_DIR/bcryptprimitives.dll" \
    "$CARGO_TARGET_DIR"
}

case "$what" in
  lint) lint ;;
  build) build ;;
  wine) wine_suite ;;
  all)
    start=$SECONDS
    lint; build; wine_suite
    echo "windows-check: $((SECONDS - start)) s"
    ;;
  *) echo "usage: $0 [lint|build|wine|all]" >&2; exit 2 ;;
esac
