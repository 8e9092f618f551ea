#!/usr/bin/env bash
# Fills the package-manager templates of a release from its real files:
#   scripts/release-manifests.sh VERSION DIST_DIR [OUT_DIR]
# DIST_DIR holds the release's files, named as README "Release files" says (ddns-tray-vVERSION-…); OUT_DIR
# (default DIST_DIR/manifests) receives
#   winget/ddns-tray.ddns-tray{,.installer,.locale.en-US,.locale.zh-CN}.yaml   (for microsoft/winget-pkgs)
#   scoop/ddns-tray.json                                                        (for a Scoop bucket)
#   homebrew/ddns-tray.rb                                                       (for a Homebrew tap)
#   openwrt/ddns-tray/{Makefile,files/}                                         (for an OpenWrt SDK or feed)
# Every SHA-256 is computed from the file itself. DIST_DIR/SHA256SUMS is written when missing; when present,
# every file it lists must match it. A missing or misnamed file, an archive without the expected layout or a
# template token left unfilled stops the script (exit 1) naming it; nothing is written to OUT_DIR then.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "release-manifests.sh: $*" >&2; exit 1; }

if [ $# -lt 2 ] || [ $# -gt 3 ]; then die "usage: scripts/release-manifests.sh VERSION DIST_DIR [OUT_DIR]"; fi
version=${1#v}
dist=$2
out=${3:-$dist/manifests}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || die "VERSION $1 is not X.Y.Z (or X.Y.Z-pre)"
[ -d "$dist" ] || die "DIST_DIR $dist is not a directory"

prefix="ddns-tray-v$version"
# Required: the MSI (winget), the Windows zip (Scoop), the macOS and the x86_64/aarch64 Linux archives
# (Homebrew, OpenWrt, install.sh). Optional: armv7 and mipsel (OpenWrt and install.sh use them when present).
required_tar=(x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
optional_tar=(armv7-unknown-linux-musleabihf mipsel-unknown-linux-musl)
msi="$prefix-x86_64.msi"
zip="$prefix-x86_64-pc-windows-msvc.zip"

sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
member_of_tar() { # archive member: the archive holds that path
  # The listing is captured before it is searched: `tar | grep -q` fails under pipefail when grep stops
  # reading before tar has written everything.
  local listing
  listing=$(tar -tzf "$1" 2>/dev/null) && grep -qxF "$2" <<<"$listing"
}

declare -A sum
for f in "$msi" "$zip"; do
  [ -f "$dist/$f" ] || die "$dist/$f is missing (README \"Release files\")"
  sum[$f]=$(sha256 "$dist/$f")
done
python3 - "$dist/$zip" <<'EOF' || die "$dist/$zip does not hold ddns-tray/ddns-tray.exe (README \"Release files\")"
import sys, zipfile
try:
    names = zipfile.ZipFile(sys.argv[1]).namelist()
except (OSError, zipfile.BadZipFile):
    sys.exit(1)
sys.exit(0 if "ddns-tray/ddns-tray.exe" in names else 1)
EOF
present_tar=()
for t in "${required_tar[@]}" "${optional_tar[@]}"; do
  f="$prefix-$t.tar.gz"
  if [ ! -f "$dist/$f" ]; then
    case " ${required_tar[*]} " in *" $t "*) die "$dist/$f is missing (README \"Release files\")" ;; esac
    continue
  fi
  member_of_tar "$dist/$f" ddns-tray/ddns-tray || die "$dist/$f does not hold ddns-tray/ddns-tray (README \"Release files\")"
  case $t in *linux*) member_of_tar "$dist/$f" ddns-tray/ddns-tray.service ||
    die "$dist/$f does not hold ddns-tray/ddns-tray.service (README \"Release files\")" ;; esac
  sum[$f]=$(sha256 "$dist/$f")
  present_tar+=("$t")
done
# Anything else named like a release file is a misnamed one (another version, a typo): refuse it.
for path in "$dist"/ddns-tray-*; do
  [ -e "$path" ] || continue
  [ -n "${sum[$(basename "$path")]+x}" ] || die "$path is not a file of release $version (README \"Release files\" lists the names)"
done

# Other files of the release (the .deb, install.sh) are listed in SHA256SUMS too.
for path in "$dist"/*; do
  name=$(basename "$path")
  if [ -f "$path" ] && [ "$name" != SHA256SUMS ] && [ -z "${sum[$name]+x}" ]; then
    sum[$name]=$(sha256 "$path")
  fi
done

if [ -f "$dist/SHA256SUMS" ]; then
  while read -r listed name; do
    name=${name#\*}
    [ -n "${sum[$name]+x}" ] || die "$dist/SHA256SUMS lists $name, which is not a file of release $version"
    [ "${listed,,}" = "${sum[$name]}" ] || die "$dist/SHA256SUMS says $name is $listed, but it is ${sum[$name]}"
  done < "$dist/SHA256SUMS"
  for name in "${!sum[@]}"; do
    grep -qE "^[0-9a-fA-F]{64} [ *]$name\$" "$dist/SHA256SUMS" || die "$dist/SHA256SUMS does not list $name"
  done
else
  (cd "$dist" && for name in $(printf '%s\n' "${!sum[@]}" | sort); do sha256sum "$name"; done) > "$dist/SHA256SUMS.tmp"
  mv "$dist/SHA256SUMS.tmp" "$dist/SHA256SUMS"
fi

# The fill: every @TOKEN@ of the templates, then a check that none is left.
release_date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%F)
sed_args=(-e "s|@VERSION@|$version|g" -e "s|@RELEASE_DATE@|$release_date|g"
  -e "s|@SHA256_MSI@|${sum[$msi]}|g" -e "s|@SHA256_WINDOWS_ZIP@|${sum[$zip]}|g")
for t in "${present_tar[@]}"; do
  token=$(tr 'a-z-' 'A-Z_' <<<"$t")
  sed_args+=(-e "s|@SHA256_${token}@|${sum[$prefix-$t.tar.gz]}|g")
done

# OpenWrt: one block per architecture present (OpenWrt's ARCH names; armv7 is ARCH=arm with CONFIG_arm_v7).
arches=""
depends=()
for t in "${present_tar[@]}"; do
  # shellcheck disable=SC2016 # $(ARCH) is make's, not the shell's
  case $t in
  x86_64-unknown-linux-musl) cond='ifeq ($(ARCH),x86_64)'; dep=x86_64 ;;
  aarch64-unknown-linux-musl) cond='ifeq ($(ARCH),aarch64)'; dep=aarch64 ;;
  armv7-unknown-linux-musleabihf) cond='ifeq ($(ARCH)-$(CONFIG_arm_v7),arm-y)'; dep=arm_v7 ;;
  mipsel-unknown-linux-musl) cond='ifeq ($(ARCH),mipsel)'; dep=mipsel ;;
  *) continue ;;
  esac
  arches+="$cond"$'\n'"  DDNS_TRAY_TRIPLE:=$t"$'\n'"  PKG_HASH:=${sum[$prefix-$t.tar.gz]}"$'\n'"endif"$'\n'
  depends+=("$dep")
done
depends_expr=$(IFS='|'; echo "${depends[*]}")
depends_expr=${depends_expr//|/||}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fill() { # template output
  mkdir -p "$(dirname "$stage/$2")"
  # The lines saying "Template: …" are about the template, not the filled file.
  grep -v 'Template' "$1" | sed "${sed_args[@]}" > "$stage/$2"
}
for f in "$repo"/packaging/winget/*.yaml; do fill "$f" "winget/$(basename "$f")"; done
fill "$repo/packaging/scoop/ddns-tray.json" scoop/ddns-tray.json
fill "$repo/packaging/homebrew/ddns-tray.rb" homebrew/ddns-tray.rb
mkdir -p "$stage/openwrt/ddns-tray/files"
awk -v arches="$arches" '$0 == "@ARCHES@" { printf "%s", arches; next } { print }' \
  "$repo/packaging/openwrt/ddns-tray/Makefile" > "$stage/Makefile.in"
sed_args+=(-e "s/@DEPENDS@/$depends_expr/g")
fill "$stage/Makefile.in" openwrt/ddns-tray/Makefile
rm "$stage/Makefile.in"
cp -p "$repo"/packaging/openwrt/ddns-tray/files/* "$stage/openwrt/ddns-tray/files/"

left=$(grep -rnoE '@[A-Z0-9_]+@' "$stage" | sed "s|$stage/||" || true)
[ -z "$left" ] || die "tokens left unfilled (a template names a file the release lacks?): $left"

mkdir -p "$out"
for d in winget scoop homebrew openwrt; do
  rm -rf "${out:?}/$d"
  cp -rp "$stage/$d" "$out/$d"
done
echo "release $version: manifests in $out (winget, scoop, homebrew, openwrt), from:"
(cd "$dist" && cat SHA256SUMS)
