#!/usr/bin/env bash
# Packaging checks, run by scripts/test.sh (and so by CI):
#   1. wix/main.wxs builds into an MSI with wixl (msitools) against a stand-in ddns-tray.exe, so a broken
#      .wxs fails here even though the real MSI is built with WiX on Windows;
#   2. the .deb builds with cargo-deb, installs with dpkg -i, runs (--version), its systemd unit passes
#      systemd-analyze verify, and it uninstalls cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

echo "== wix/main.wxs with wixl (stand-in exe)"
mkdir -p "$work/wix"
# wixl resolves "$(var.CargoTargetBinDir)\ddns-tray.exe" literally on Linux: name the stand-in that way.
printf 'MZ stand-in for ddns-tray.exe' > "$work/wix/bin\\ddns-tray.exe"
(cd "$work/wix" && wixl -a x64 -D Version="$version" -D CargoTargetBinDir=bin "$repo/wix/main.wxs" -o ddns-tray.msi 2> wixl.log) || {
  cat "$work/wix/wixl.log" >&2; echo "wixl failed on wix/main.wxs" >&2; exit 1; }
test -s "$work/wix/ddns-tray.msi"
msiinfo export "$work/wix/ddns-tray.msi" ServiceControl | grep -q "ddns-tray" || { echo "MSI does not remove the service" >&2; exit 1; }
msiinfo export "$work/wix/ddns-tray.msi" Upgrade | grep -q "6E0B5F43-2F4C-4C8A-9A5B-3D2E7A1C9B40" || { echo "MSI lost its UpgradeCode" >&2; exit 1; }
msiinfo export "$work/wix/ddns-tray.msi" Shortcut | grep -q "ddns-tray" || { echo "MSI has no Start-menu shortcut" >&2; exit 1; }
echo "MSI built: $(stat -c %s "$work/wix/ddns-tray.msi") bytes"

echo "== .deb with cargo-deb"
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet
cargo deb --locked --output "$work/ddns-tray.deb"
dpkg-deb --info "$work/ddns-tray.deb" | sed -n 's/^ *\(Package\|Version\|Depends\|Installed-Size\):/  &/p'
dpkg-deb --contents "$work/ddns-tray.deb" | awk '{print "  " $6}'
$SUDO dpkg -i "$work/ddns-tray.deb"
trap '$SUDO dpkg -P ddns-tray >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
/usr/bin/ddns-tray --version
unit=$(dpkg -L ddns-tray | grep '/systemd/system/ddns-tray.service$')
systemd-analyze verify "$unit"
test -f /etc/xdg/autostart/ddns-tray.desktop
test -f /usr/share/applications/ddns-tray.desktop
$SUDO dpkg -P ddns-tray
if [ -e /usr/bin/ddns-tray ] || [ -e "$unit" ]; then echo "files left after removal" >&2; exit 1; fi
echo "deb installed, ran, verified and removed"
