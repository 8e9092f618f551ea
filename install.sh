#!/bin/sh
# Installs ddns-tray's static Linux binary (headless: no tray) from a release, on any Linux box with a POSIX
# shell (Debian's dash, BusyBox ash): routers, NAS boxes, single-board computers.
#
#   curl -fsSL https://github.com/ddns-tray/ddns-tray/releases/latest/download/install.sh | sh
#   sh install.sh [--version X.Y.Z] [--prefix DIR] [--systemd] [--systemd-dir DIR] [--base-url URL]
#
# It maps `uname -m` to the release's archive (x86_64, aarch64, armv7, mipsel), downloads the release's
# SHA256SUMS and that archive, refuses the archive unless its SHA-256 is the one listed, and only then puts
# the binary in PREFIX/bin (default /usr/local). With --systemd it also installs the systemd unit (pointing at
# that binary) in /etc/systemd/system. On any refusal nothing is installed or replaced.
#
# --base-url (or DDNS_TRAY_BASE_URL) is the folder holding SHA256SUMS and the archives: http(s):// (curl or
# wget) or file:// (curl). Default: the GitHub release of --version (DDNS_TRAY_VERSION), else the latest.
set -eu

REPO_URL=https://github.com/ddns-tray/ddns-tray
version=${DDNS_TRAY_VERSION:-}
prefix=${DDNS_TRAY_PREFIX:-/usr/local}
base_url=${DDNS_TRAY_BASE_URL:-}
systemd=no
systemd_dir=/etc/systemd/system

die() {
	echo "install.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '2,16s/^# \{0,1\}//p' "$0" 2>/dev/null || true
}

while [ $# -gt 0 ]; do
	case $1 in
	--version) [ $# -ge 2 ] || die "--version needs a value, e.g. --version 0.1.0"; version=$2; shift 2 ;;
	--prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
	--base-url) [ $# -ge 2 ] || die "--base-url needs a URL"; base_url=$2; shift 2 ;;
	--systemd) systemd=yes; shift ;;
	--systemd-dir) [ $# -ge 2 ] || die "--systemd-dir needs a directory"; systemd_dir=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option $1 (try --help)" ;;
	esac
done

version=${version#v}
case $version in
"" | [0-9]*.[0-9]*.[0-9]*) ;;
*) die "--version $version is not a release version (X.Y.Z)" ;;
esac
case $prefix in
/*) ;;
*) die "--prefix $prefix is not an absolute path" ;;
esac

if [ -z "$base_url" ]; then
	if [ -n "$version" ]; then
		base_url=$REPO_URL/releases/download/v$version
	else
		base_url=$REPO_URL/releases/latest/download
	fi
fi
base_url=${base_url%/}

# The machine: Linux only, and one of the architectures the release has a static build for.
os=$(uname -s)
[ "$os" = Linux ] || die "this is $os: install.sh is for Linux (macOS: Homebrew; Windows: winget, Scoop or the MSI)"
machine=$(uname -m)
case $machine in
x86_64 | amd64) triple=x86_64-unknown-linux-musl ;;
aarch64 | arm64 | armv8l) triple=aarch64-unknown-linux-musl ;;
armv7l | armv7) triple=armv7-unknown-linux-musleabihf ;;
mips)
	# uname says mips for both byte orders; the release has the little-endian build only.
	if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ]; then
		triple=mipsel-unknown-linux-musl
	else
		die "this machine is big-endian MIPS (uname -m: mips), for which the release has no build; build from source: cargo install --path . --no-default-features --features full (or without --features full: the small build for routers)"
	fi
	;;
mipsel) triple=mipsel-unknown-linux-musl ;;
*) die "this machine's architecture (uname -m: $machine) has no ddns-tray build; the release has x86_64, aarch64, armv7 and mipsel. Build from source: cargo install --path . --no-default-features --features full (or without --features full: the small build for routers)" ;;
esac

# A downloader: curl, else wget (BusyBox has one).
fetch() { # URL FILE
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --proto '=https,http,file' -o "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		case $1 in file://*) die "wget cannot read $1: install curl, or use an http(s) base URL" ;; esac
		wget -q -O "$2" "$1"
	else
		die "neither curl nor wget is installed: install one of them"
	fi
}

sha256_of() { # FILE -> its SHA-256 in hex
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 "$1" | sed 's/.*= *//'
	else
		die "no SHA-256 tool (sha256sum, shasum or openssl) to verify the download with: install one of them"
	fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ddns-tray-install.XXXXXX") || die "cannot create a temporary directory"
# On any exit the download and a half-written new file go; an installed file is only ever replaced by rename.
trap 'rm -rf "$work"; rm -f "$prefix/bin/.ddns-tray.new" "$systemd_dir/.ddns-tray.service.new"' EXIT
trap 'exit 1' HUP INT TERM

fetch "$base_url/SHA256SUMS" "$work/SHA256SUMS" || die "cannot download $base_url/SHA256SUMS"

# The archive is found in SHA256SUMS (so "latest" needs no other lookup): "<sha256>  ddns-tray-v<V>-<triple>.tar.gz".
if [ -n "$version" ]; then
	want=ddns-tray-v$version-$triple.tar.gz
else
	want=
fi
lines=$(awk -v triple="$triple" -v want="$want" '
	{ name = $2; sub(/^\*/, "", name) }
	want != "" && name == want { print; next }
	want == "" && name ~ ("^ddns-tray-v[0-9][0-9.]*-" triple "\\.tar\\.gz$") { print }
' "$work/SHA256SUMS")
count=$(printf '%s' "$lines" | grep -c . || true)
[ "$count" -ge 1 ] || die "$base_url/SHA256SUMS lists no archive for $triple${want:+ ($want)}: the release has no build for this machine"
[ "$count" -eq 1 ] || die "$base_url/SHA256SUMS lists $count archives for $triple; give --version"
expected=$(printf '%s\n' "$lines" | awk '{ print tolower($1) }')
archive=$(printf '%s\n' "$lines" | awk '{ n = $2; sub(/^\*/, "", n); print n }')
case $expected in
*[!0-9a-f]* | "") die "$base_url/SHA256SUMS has no valid SHA-256 for $archive" ;;
esac
[ ${#expected} -eq 64 ] || die "$base_url/SHA256SUMS has no valid SHA-256 for $archive"

echo "downloading $base_url/$archive"
fetch "$base_url/$archive" "$work/$archive" || die "cannot download $base_url/$archive"
actual=$(sha256_of "$work/$archive")
if [ "$actual" != "$expected" ]; then
	die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual. Nothing was installed; download again, and report it if it persists"
fi
echo "checksum verified: $actual"

mkdir "$work/x"
tar -xzf "$work/$archive" -C "$work/x" || die "cannot unpack $archive"
[ -f "$work/x/ddns-tray/ddns-tray" ] || die "$archive has no ddns-tray/ddns-tray (not a ddns-tray Linux archive)"

# Installed by rename: a running ddns-tray keeps its file, and a failed copy never leaves half a binary.
mkdir -p "$prefix/bin" || die "cannot create $prefix/bin (run as root, or give --prefix)"
cp "$work/x/ddns-tray/ddns-tray" "$prefix/bin/.ddns-tray.new" || die "cannot write to $prefix/bin (run as root, or give --prefix)"
chmod 0755 "$prefix/bin/.ddns-tray.new"
mv -f "$prefix/bin/.ddns-tray.new" "$prefix/bin/ddns-tray"
echo "installed $prefix/bin/ddns-tray"

if [ "$systemd" = yes ]; then
	unit=$work/x/ddns-tray/ddns-tray.service
	[ -f "$unit" ] || die "$archive has no ddns-tray/ddns-tray.service"
	mkdir -p "$systemd_dir" || die "cannot create $systemd_dir"
	sed "s#/usr/bin/ddns-tray#$prefix/bin/ddns-tray#g" "$unit" > "$systemd_dir/.ddns-tray.service.new" ||
		die "cannot write to $systemd_dir"
	chmod 0644 "$systemd_dir/.ddns-tray.service.new"
	mv -f "$systemd_dir/.ddns-tray.service.new" "$systemd_dir/ddns-tray.service"
	echo "installed $systemd_dir/ddns-tray.service (not enabled). Next:"
	echo "  write /etc/ddns-tray/config.toml, check it: $prefix/bin/ddns-tray --config /etc/ddns-tray/config.toml check"
	echo "  systemctl daemon-reload && systemctl enable --now ddns-tray"
else
	echo "next: $prefix/bin/ddns-tray --config /etc/ddns-tray/config.toml check, then $prefix/bin/ddns-tray service install"
fi
