#!/usr/bin/env bash
# Packaging checks, run by scripts/test.sh (and so by CI):
#   1. wix/main.wxs builds into an MSI with wixl (msitools) against a stand-in ddns-tray.exe, so a broken
#      .wxs fails here even though the real MSI is built with WiX on Windows;
#   2. the .deb builds with cargo-deb, installs with dpkg -i, runs (--version), its systemd unit passes
#      systemd-analyze verify, its sandbox scores at most 2.0, "Start at login" agrees with its autostart
#      entry, and it uninstalls cleanly.
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
# Output is captured before it is searched: `cmd | grep -q` fails under pipefail whenever grep stops reading
# before cmd has written everything (cmd gets SIGPIPE), which made this check flaky.
msi_table() { # table -> the file it was exported to
  msiinfo export "$work/wix/ddns-tray.msi" "$1" > "$work/wix/$1.idt"
  echo "$work/wix/$1.idt"
}
says() { # pattern, command...: the command succeeds and its output contains the pattern
  local pattern=$1 out; shift
  out=$("$@") && grep -qF -- "$pattern" <<<"$out"
}
grep -q "ddns-tray" "$(msi_table ServiceControl)" || { echo "MSI does not remove the service" >&2; exit 1; }
grep -q "6E0B5F43-2F4C-4C8A-9A5B-3D2E7A1C9B40" "$(msi_table Upgrade)" || { echo "MSI lost its UpgradeCode" >&2; exit 1; }
grep -q "ddns-tray" "$(msi_table Shortcut)" || { echo "MSI has no Start-menu shortcut" >&2; exit 1; }
grep -qF 'ddns-tray.exe" --autostart' "$(msi_table Registry)" || { echo "the MSI's login entry lacks --autostart" >&2; exit 1; }
grep -qF 'AppUserModelId\ddns-tray' "$(msi_table Registry)" || { echo "the MSI does not register the toast app id" >&2; exit 1; }
echo "MSI built: $(stat -c %s "$work/wix/ddns-tray.msi") bytes"

echo "== .deb with cargo-deb"
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet
# What is checked here is the packaging, not the optimiser: the package is built unoptimised, without LTO
# and with parallel codegen (a from-scratch build of about 4 minutes on 2 cores instead of 10), in a target
# dir of its own so the real release build (the release workflow builds the shipped package with the real
# profile) is neither reused nor replaced.
CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_TARGET_DIR="$repo/target/deb-check" cargo deb --locked --output "$work/ddns-tray.deb"
dpkg-deb --info "$work/ddns-tray.deb" | sed -n 's/^ *\(Package\|Version\|Depends\|Installed-Size\):/  &/p'
dpkg-deb --contents "$work/ddns-tray.deb" | awk '{print "  " $6}'
$SUDO dpkg -i "$work/ddns-tray.deb"
trap '$SUDO dpkg -P ddns-tray >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
/usr/bin/ddns-tray --version
unit=$(dpkg -L ddns-tray | grep '/systemd/system/ddns-tray.service$')
systemd-analyze verify "$unit"
getent passwd ddns-tray >/dev/null || { echo "postinst did not create the ddns-tray user" >&2; exit 1; }
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $score (0 = fully sandboxed, 10 = unprotected)"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }' || { echo "the unit's exposure $score is above 2.0" >&2; exit 1; }
test -f /etc/xdg/autostart/ddns-tray.desktop
grep -q '^Exec=ddns-tray --autostart$' /etc/xdg/autostart/ddns-tray.desktop
# "Start at login" against the installed entry, for a throwaway user home: off hides it (XDG Hidden=true),
# and a login start then ends at once (in an empty network namespace: nothing could be asked anyway).
home=$work/home; mkdir -p "$home"
says "on (installed for every user)" env HOME="$home" /usr/bin/ddns-tray autostart
says "off (turned off by you" env HOME="$home" /usr/bin/ddns-tray autostart off
grep -q '^Hidden=true$' "$home/.config/autostart/ddns-tray.desktop"
HOME=$home timeout 10 unshare --net /usr/bin/ddns-tray --autostart || { echo "a login start the user turned off did not end at once" >&2; exit 1; }
says "on (installed for every user)" env HOME="$home" /usr/bin/ddns-tray autostart on
test ! -e "$home/.config/autostart/ddns-tray.desktop"
test -f /usr/share/applications/ddns-tray.desktop
$SUDO dpkg -P ddns-tray
if [ -e /usr/bin/ddns-tray ] || [ -e "$unit" ]; then echo "files left after removal" >&2; exit 1; fi
echo "deb installed, ran, verified and removed"
