"""The procd init script (against a recording procd.sh shim) and the package Makefile (on a stub SDK)."""

from __future__ import annotations

import difflib
import os
import subprocess
import tempfile
from pathlib import Path

from common import GOOD_CONFIG, OPENWRT, VERSION, FakeRelease, busybox, check, dash, expect, refuses

PROCD_SHIM = r"""# A shim of OpenWrt's /lib/functions/procd.sh (and of the file tools an init script calls): records each
# call, one per line, arguments separated by tabs, in $PROCD_LOG. procd_set_param refuses what procd.sh does
# not know.
record() {
	_line=$1; shift
	for _a in "$@"; do _line="$_line	$_a"; done
	printf '%s\n' "$_line" >> "$PROCD_LOG"
}
procd_open_instance() { record procd_open_instance "$@"; }
procd_close_instance() { record procd_close_instance "$@"; }
procd_set_param() {
	case $1 in
	command|netdev|file|respawn|watch|watchdog|env|data|limits|nice|term_timeout|pidfile|user|group|seccomp|capabilities|facility|stdout|stderr|no_new_privs|reload_signal|error) ;;
	*) record ERROR "procd_set_param: unknown parameter $1"; return 1 ;;
	esac
	record procd_set_param "$@"
}
procd_append_param() { record procd_append_param "$@"; }
procd_send_signal() {
	case ${3:-} in
	""|[0-9]*|HUP|INT|QUIT|KILL|USR1|USR2|TERM|CONT|STOP) ;;
	*) record ERROR "procd_send_signal: unknown signal $3"; return 1 ;;
	esac
	record procd_send_signal "$@"
}
procd_add_reload_trigger() { record procd_add_reload_trigger "$@"; }
procd_add_interface_trigger() { record procd_add_interface_trigger "$@"; }
mkdir() { record mkdir "$@"; }
chown() { record chown "$@"; }
chgrp() { record chgrp "$@"; }
chmod() { record chmod "$@"; }
"""

HARNESS = r"""# $1 shim, $2 init script, $3 config path, $4 action: what /etc/rc.common does for start and reload.
. "$1"
. "$2"
CONFIG=$3
"$4"
echo "rc=$?"
"""


def run_init(shell: list[str], init: Path, config: Path, action: str) -> tuple[list[list[str]], str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        shim, harness, log = Path(tmp, "procd.sh"), Path(tmp, "harness.sh"), Path(tmp, "calls")
        shim.write_text(PROCD_SHIM)
        harness.write_text(HARNESS)
        log.touch()
        r = subprocess.run([*shell, str(harness), str(shim), str(init), str(config), action],
                           capture_output=True, text=True, timeout=30, env={**os.environ, "PROCD_LOG": str(log)})
        calls = [line.split("\t") for line in log.read_text().splitlines()]
        return calls, r.stdout, r.stderr


def expected_start(config: str) -> list[list[str]]:
    data = "/var/lib/ddns-tray"
    return [
        ["chgrp", "ddns-tray", config], ["chmod", "0640", config],
        ["mkdir", "-p", data], ["chown", "ddns-tray:ddns-tray", data], ["chmod", "0700", data],
        ["procd_open_instance"],
        ["procd_set_param", "command", "/usr/bin/ddns-tray", "--config", config, "--data-dir", data, "run"],
        ["procd_set_param", "user", "ddns-tray"], ["procd_set_param", "group", "ddns-tray"],
        ["procd_set_param", "respawn", "3600", "5", "5"],
        ["procd_set_param", "stdout", "1"], ["procd_set_param", "stderr", "1"],
        ["procd_set_param", "term_timeout", "10"],
        ["procd_close_instance"],
    ]


def init_problems(shell: list[str], init: Path) -> list[str]:
    out = []
    text = init.read_text()
    for line in ("#!/bin/sh /etc/rc.common", "USE_PROCD=1", "PROG=/usr/bin/ddns-tray", "CONFIG=/etc/ddns-tray/config.toml"):
        if line not in text.splitlines():
            out.append(f"the init script lacks the line {line!r}")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp, "config.toml")
        cfg.write_text(GOOD_CONFIG)
        calls, stdout, stderr = run_init(shell, init, cfg, "start_service")
        if "rc=0" not in stdout:
            out.append(f"start_service failed: {stdout} {stderr}")
        if calls != expected_start(str(cfg)):
            out.append("start_service made other calls than expected:\n" + "\n".join(
                difflib.unified_diff(["\t".join(c) for c in expected_start(str(cfg))], ["\t".join(c) for c in calls], "expected", "recorded", lineterm="")))
        calls, stdout, stderr = run_init(shell, init, cfg, "reload_service")
        if calls != [["procd_send_signal", "ddns-tray", "*", "HUP"]]:
            out.append(f"reload_service did not send SIGHUP through procd: {calls} {stderr}")
        # The packaged config (no records yet): nothing started, and it says why.
        calls, stdout, stderr = run_init(shell, init, OPENWRT / "files/config.toml", "start_service")
        if any(c[0] == "procd_open_instance" for c in calls) or "has no [[record]]" not in stderr or "rc=0" not in stdout:
            out.append(f"with the packaged config (no records) it started or said nothing: {calls} {stdout} {stderr}")
        calls, stdout, stderr = run_init(shell, init, Path(tmp, "missing.toml"), "start_service")
        if calls or "does not exist" not in stderr or "rc=1" not in stdout:
            out.append(f"without a config it did not refuse: {calls} {stdout} {stderr}")
    return out


def stub_sdk(top: Path, dl: Path) -> None:
    """A stand-in for the OpenWrt SDK's rules.mk and package.mk: enough to evaluate the package Makefile, print
    what the SDK would download and check, and run its Build/Prepare and install steps for real."""
    (top / "include").mkdir(parents=True)
    (top / "rules.mk").write_text(f"""INCLUDE_DIR:=$(TOPDIR)/include
BUILD_DIR:=$(TOPDIR)/build
DL_DIR:={dl}
TAR:=tar
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_CONF:=install -m0600
""")
    (top / "include/package.mk").write_text("""define BuildPackage
$(eval $(Package/$(1)))
info:
\t@echo 'PKG_SOURCE=$(PKG_SOURCE)'
\t@echo 'PKG_SOURCE_URL=$(PKG_SOURCE_URL)'
\t@echo 'PKG_HASH=$(PKG_HASH)'
\t@echo 'DEPENDS=$(DEPENDS)'
\t@echo 'USERID=$(USERID)'
\t@echo 'CONFFILES=$(strip $(Package/$(1)/conffiles))'
stage:
\t$(Build/Prepare)
\t$(call Package/$(1)/install,$(TOPDIR)/ipkg)
endef
""")


def openwrt_checks(fake: FakeRelease) -> None:
    init = OPENWRT / "files/ddns-tray.init"
    shells = [("dash", [dash()]), ("busybox sh", [busybox(), "sh"])]
    for label, shell in shells:
        @check(f"openwrt: the procd init script under {label}: start, reload (SIGHUP), no records, no config")
        def _(shell=shell):
            problems = init_problems(shell, init)
            expect(not problems, "\n".join(problems))

    breakages = [
        ("no respawn", lambda t: t.replace("\tprocd_set_param respawn 3600 5 5\n", ""), "other calls"),
        ("stdout not to logd", lambda t: t.replace("procd_set_param stdout 1", "procd_set_param stdot 1"), "other calls"),
        ("reload by restart", lambda t: t.replace("procd_send_signal ddns-tray '*' HUP", "procd_send_signal ddns-tray '*' HUPP"), "SIGHUP"),
        ("the daemon without run", lambda t: t.replace('--data-dir "$DATA_DIR" run', '--data-dir "$DATA_DIR"'), "other calls"),
        ("another config path", lambda t: t.replace("CONFIG=/etc/ddns-tray/config.toml", "CONFIG=/etc/config/ddns-tray"), "lacks the line"),
    ]
    for what, mutate, needle in breakages:
        @check(f"openwrt: refuses an init script with {what}")
        def _(mutate=mutate, needle=needle, what=what):
            with tempfile.TemporaryDirectory() as tmp:
                broken = Path(tmp, "ddns-tray.init")
                text = init.read_text()
                broken.write_text(mutate(text))
                expect(broken.read_text() != text, f"the mutation for {what} changed nothing")
                refuses(init_problems([dash()], broken), what, needle)

    pkg = fake.manifests / "openwrt/ddns-tray"

    def make(top: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "--no-print-directory", "-C", str(pkg), f"TOPDIR={top}", *args],
                              capture_output=True, text=True, timeout=60)

    for arch_args, triple in [(["ARCH=x86_64"], "x86_64-unknown-linux-musl"),
                              (["ARCH=aarch64"], "aarch64-unknown-linux-musl"),
                              (["ARCH=arm", "CONFIG_arm_v7=y"], "armv7-unknown-linux-musleabihf")]:
        @check(f"openwrt: the filled Makefile on a stub SDK, {' '.join(arch_args)}: the {triple} archive, its SHA-256, staged files")
        def _(arch_args=arch_args, triple=triple):
            with tempfile.TemporaryDirectory() as tmp:
                top = Path(tmp)
                stub_sdk(top, fake.dist)
                r = make(top, *arch_args, "info", "stage")
                expect(r.returncode == 0, f"make failed: {r.stdout}{r.stderr}")
                info = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line and line.split("=", 1)[0].isupper())
                archive = f"ddns-tray-v{VERSION}-{triple}.tar.gz"
                expect(info.get("PKG_SOURCE") == archive, f"PKG_SOURCE {info.get('PKG_SOURCE')} is not {archive}")
                expect(info.get("PKG_HASH") == fake.sha(archive), "PKG_HASH is not the archive's SHA-256")
                expect(info.get("PKG_SOURCE_URL") == f"https://github.com/ddns-tray/ddns-tray/releases/download/v{VERSION}/", f"PKG_SOURCE_URL {info.get('PKG_SOURCE_URL')}")
                expect(info.get("DEPENDS") == "@(x86_64||aarch64||arm_v7)", f"DEPENDS {info.get('DEPENDS')}")
                expect(info.get("CONFFILES") == "/etc/ddns-tray/config.toml", f"conffiles {info.get('CONFFILES')}")
                expect(info.get("USERID", "").startswith("ddns-tray="), f"USERID {info.get('USERID')}")
                ipkg = top / "ipkg"
                binary = ipkg / "usr/bin/ddns-tray"
                expect(binary.read_text() == fake.binary(triple), "the staged binary is not the archive's")
                expect(os.access(binary, os.X_OK), "the staged binary is not executable")
                expect((ipkg / "etc/init.d/ddns-tray").read_bytes() == (OPENWRT / "files/ddns-tray.init").read_bytes(), "the staged init script differs")
                expect(os.access(ipkg / "etc/init.d/ddns-tray", os.X_OK), "the staged init script is not executable")
                conf = ipkg / "etc/ddns-tray/config.toml"
                expect(conf.stat().st_mode & 0o777 == 0o600, f"config mode {oct(conf.stat().st_mode & 0o777)}")

    @check("openwrt: the Makefile refuses an architecture without an archive, but lets the SDK's scan (DUMP=1) through")
    def _():
        with tempfile.TemporaryDirectory() as tmp:
            top = Path(tmp)
            stub_sdk(top, fake.dist)
            r = make(top, "ARCH=riscv64", "info")
            refuses([r.stderr] if r.returncode != 0 else [], "ARCH=riscv64", "no static build for ARCH=riscv64")
            r = make(top, "ARCH=riscv64", "DUMP=1", "info")
            expect(r.returncode == 0, f"the SDK's scan stopped: {r.stderr}")
