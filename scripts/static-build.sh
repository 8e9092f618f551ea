#!/usr/bin/env bash
# Static headless binaries (musl, no glibc or OpenSSL at run time) for Linux boxes, NAS, single-board computers
# and the container image (packaging/container).
#
#   bash scripts/static-build.sh [--release] [--small] [TARGET...]
#
# TARGETs: x86_64-unknown-linux-musl (default), aarch64-unknown-linux-musl, armv7-unknown-linux-musleabihf,
# or `all` for those three. The binary of each is copied to target/static/out/<TARGET>/ddns-tray and its path
# printed on stdout (one line per target); build output goes to stderr.
# The headless daemon with everything (`--no-default-features --features full`); with --small, the small
# build for routers (`--no-default-features`: README, "Static binaries"), copied to out/<TARGET>-small/.
#
# How (as scripts/windows-check.sh builds for Windows):
# - Debian's rustc-web has no std for these targets; rust-web-src ships its sources, so cargo -Zbuild-std builds
#   std for each (RUSTC_BOOTSTRAP=1 unlocks -Z on that stable compiler). Own target dir: target/static.
# - Debian's musl-dev (x86_64) and its multiarch musl-dev:arm64 / musl-dev:armhf give musl's crt objects, libc.a
#   and headers; the system gcc (x86_64) and gcc-aarch64-linux-gnu / gcc-arm-linux-gnueabihf compile ring's C
#   and link, told by a specs file written here (as musl-gcc's, plus -static-pie, which rustc asks for) to use
#   musl instead of glibc. `-C link-self-contained=no`: rustc's own musl crt objects are not in Debian's package.
# - Rust's std links -lunwind on static musl (rustup ships LLVM's libunwind.a; Debian's rustc-web does not).
#   Debian's LLVM libunwind (libunwind-14-dev, unpacked for each arch with apt-get download: the arches'
#   packages cannot be installed side by side) finds unwind tables through dl_iterate_phdr, which musl has;
#   its one glibc-only call, __fprintf_chk, is given by scripts/static/fortify-shim.c. (gcc's libgcc_eh.a
#   does not do: built for glibc, it asks glibc's _dl_find_object, or on arm __gnu_Unwind_Find_exidx.)
# - Headless: --no-default-features --features full (no tray, no keyring: secrets from the config file or the
#   environment); --small leaves out `full` too.
# - Debug builds (the CI check) drop debug info: it would only make them slow to link and copy into the image.
# - STATIC_RUSTFLAGS adds rustc flags for the target (scripts/footprint-static.sh measures some with it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

profile=debug
cargo_profile=()
features=(--features full)
variant=""
targets=()
for a in "$@"; do
  case "$a" in
    --release) profile=release; cargo_profile=(--release) ;;
    --small) features=(); variant=-small ;;
    all) targets+=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf) ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "static-build: unknown option $a (use --release or --small)" >&2; exit 2 ;;
    *) targets+=("$a") ;;
  esac
done
[ "${#targets[@]}" -gt 0 ] || targets=(x86_64-unknown-linux-musl)

# target → Debian multiarch name, gcc triplet, musl's library dir name, dynamic loader name (unused when static)
arch_of() {
  case "$1" in
    x86_64-unknown-linux-musl) echo "amd64 x86_64-linux-gnu x86_64-linux-musl x86_64" ;;
    aarch64-unknown-linux-musl) echo "arm64 aarch64-linux-gnu aarch64-linux-musl aarch64" ;;
    armv7-unknown-linux-musleabihf) echo "armhf arm-linux-gnueabihf arm-linux-musleabihf armhf" ;;
    *) return 1 ;;
  esac
}

. scripts/lib/apt.sh
need=(rustc-web cargo-web rust-web-src file)
for t in "${targets[@]}"; do
  if ! read -r deb gnu _ _ < <(arch_of "$t"); then
    echo "static-build: $t is not one of x86_64-unknown-linux-musl, aarch64-unknown-linux-musl," \
      "armv7-unknown-linux-musleabihf (see the README's \"Static binaries\" for mips)" >&2
    exit 2
  fi
  if [ "$deb" = amd64 ]; then
    need+=(musl-dev gcc)
  else
    dpkg --print-foreign-architectures | grep -qx "$deb" || $SUDO dpkg --add-architecture "$deb"
    need+=("musl-dev:$deb" "gcc-$gnu")
  fi
done
missing_packages "${need[@]}"
apt_install "${MISSING[@]}"

# Debian's toolchain, not rustup's.
export PATH=/usr/bin:/bin
export CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=$repo/target/static
export CARGO_PROFILE_DEV_DEBUG=0
# Release: the profile's (LTO, one codegen unit, panic = "abort", stripped) at opt-level "z", and no unwind
# tables (with panic = "abort" nothing unwinds; a panic still prints its message, without a backtrace):
# 1.2 MB less code and 0.7 MB less tables than opt-level "s" with tables (README, "Static binaries").
# Its std is built without the `backtrace` feature (gimli, addr2line, the demangler: nothing to walk without
# unwind tables anyway) and with `optimize_for_size` (smaller sorts and formatting in core and alloc).
release_flags=""
std_features=()
if [ "$profile" = release ]; then
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}
  release_flags="-C force-unwind-tables=no"
  std_features=(-Zbuild-std-features=optimize_for_size)
fi
tools=$CARGO_TARGET_DIR/toolchain
mkdir -p "$tools"

for t in "${targets[@]}"; do
  read -r deb gnu musl _ < <(arch_of "$t")
  specs=$tools/$t.specs
  libdir=/usr/lib/$musl
  cat > "$specs" <<SPECS
%rename cpp_options old_cpp_options

*cpp_options:
-nostdinc -isystem /usr/include/$musl -isystem include%s %(old_cpp_options)

*cc1:
%(cc1_cpu) -nostdinc -isystem /usr/include/$musl -isystem include%s

*link_libgcc:
-L$libdir -L$tools/$t -L .%s

*libgcc:
libgcc.a%s %:if-exists(libgcc_eh.a%s)

*startfile:
%{static-pie:$libdir/rcrt1.o;!shared:$libdir/Scrt1.o} $libdir/crti.o crtbeginS.o%s

*endfile:
crtendS.o%s $libdir/crtn.o

*link:
%{!static:%{!static-pie:-dynamic-linker /lib/ld-musl.so.1}} -nostdlib %{shared:-shared} %{static:-static} %{static-pie:-static -pie --no-dynamic-linker -z text} %{rdynamic:-export-dynamic}
SPECS
  cc=$tools/$t-cc
  printf '#!/bin/sh\nexec /usr/bin/%s-gcc "$@" -specs "%s"\n' "$gnu" "$specs" > "$cc"
  chmod +x "$cc"
  mkdir -p "$tools/$t"
  if [ ! -f "$tools/$t/libunwind.a" ]; then
    debs=$tools/debs/$deb
    mkdir -p "$debs"
    (cd "$debs" && apt-get download -q "libunwind-14-dev:$deb" >/dev/null && dpkg-deb -x libunwind-14-dev_*.deb .)
    cp "$debs/usr/lib/llvm-14/lib/libunwind.a" "$tools/$t/libunwind.a.tmp"
    "$cc" -O2 -c scripts/static/fortify-shim.c -o "$tools/$t/fortify-shim.o"
    ar rs "$tools/$t/libunwind.a.tmp" "$tools/$t/fortify-shim.o"
    mv "$tools/$t/libunwind.a.tmp" "$tools/$t/libunwind.a"
  fi
  env_t=$(echo "$t" | tr 'a-z-' 'A-Z_')
  low_t=$(echo "$t" | tr '-' '_')
  export "CC_$low_t=$cc" "AR_$low_t=/usr/bin/ar" "CARGO_TARGET_${env_t}_LINKER=$cc"
  export "CARGO_TARGET_${env_t}_RUSTFLAGS=-C link-self-contained=no -C target-feature=+crt-static $release_flags ${STATIC_RUSTFLAGS:-}"
  echo "== static build $t ($profile${variant:+, small})" >&2
  start=$SECONDS
  /usr/bin/cargo build -Zbuild-std=std,panic_abort "${std_features[@]}" --target "$t" --locked --no-default-features \
    "${features[@]}" "${cargo_profile[@]}" >&2
  out=$CARGO_TARGET_DIR/out/$t$variant
  mkdir -p "$out"
  cp "$CARGO_TARGET_DIR/$t/$profile/ddns-tray" "$out/ddns-tray.tmp"
  mv "$out/ddns-tray.tmp" "$out/ddns-tray"
  if ! file -L "$out/ddns-tray" | grep -Eq 'statically linked|static-pie linked'; then
    echo "static-build: $out/ddns-tray is not static: $(file -L "$out/ddns-tray")" >&2
    exit 1
  fi
  echo "== $t: $(stat -c %s "$out/ddns-tray") bytes, $((SECONDS - start)) s" >&2
  echo "$out/ddns-tray"
done
