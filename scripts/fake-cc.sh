#!/usr/bin/env bash
# A stand-in C compiler for checking the macOS build on Linux (no SDK here): build scripts of crates that
# compile C (ring, mac-notification-sys) call it; it writes an empty object for every `-o FILE` it is asked
# for, so `cargo check`/`clippy` type-check the Rust code. Nothing is ever linked with these objects.
# It says it is clang when the cc crate asks (`-E` on its probe file) and is not MSVC (`-?` fails).
out=""
for a in "$@"; do
  case "$a" in
    -E) printf 'clang\n'; exit 0 ;;
    "-?") exit 1 ;;
    --version|-v|-dumpversion) echo "clang version 17.0.0 (fake-cc)"; exit 0 ;;
  esac
done
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -o*) out=${1#-o}; shift ;;
    *) shift ;;
  esac
done
if [ -n "$out" ]; then : > "$out"; fi
exit 0
