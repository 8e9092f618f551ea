"""install.sh, through the real script, in temp prefixes."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from common import REPO, VERSION, FakeRelease, busybox, check, dash, expect

class Server:
    """A loopback HTTP server over a folder, for as long as the `with` lasts."""

    def __init__(self, folder: Path):
        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def fake_uname(folder: Path, machine: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    u = folder / "uname"
    u.write_text(f'#!/bin/sh\ncase "$1" in -s) echo Linux ;; -m) echo {machine} ;; *) exec /bin/uname "$@" ;; esac\n')
    u.chmod(0o755)
    return folder


def busybox_only(folder: Path) -> Path:
    """A PATH with BusyBox's applets and nothing else: no curl, no coreutils (a router's userland)."""
    folder.mkdir(parents=True, exist_ok=True)
    listing = subprocess.run([busybox(), "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in listing:
        (folder / applet).symlink_to(busybox())
    return folder


def install_sh(shell: list[str], args: list[str], path: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {"PATH": path, "HOME": str(tmp), "TMPDIR": str(tmp)}
    return subprocess.run([*shell, str(REPO / "install.sh"), *args], capture_output=True, text=True, timeout=60, env=env)


def install_checks(fake: FakeRelease) -> None:
    @check("install: shellcheck -s sh install.sh (POSIX sh)")
    def _():
        r = subprocess.run(["shellcheck", "-s", "sh", str(REPO / "install.sh")], capture_output=True, text=True)
        expect(r.returncode == 0, r.stdout + r.stderr)

    for label, shell in [("dash", [dash()]), ("busybox sh", [busybox(), "sh"])]:
        @check(f"install: {label}, x86_64, file:// with curl, --systemd: the x86_64 binary and a unit pointing at it")
        def _(shell=shell):
            with tempfile.TemporaryDirectory() as t:
                tmp = Path(t)
                fakebin = fake_uname(tmp / "fakebin", "x86_64")
                prefix, units = tmp / "prefix", tmp / "units"
                r = install_sh(shell, ["--base-url", f"file://{fake.dist}", "--prefix", str(prefix), "--systemd", "--systemd-dir", str(units)],
                               f"{fakebin}:{os.environ['PATH']}", tmp)
                expect(r.returncode == 0, f"install.sh failed: {r.stdout}{r.stderr}")
                out = subprocess.run([str(prefix / "bin/ddns-tray"), "--version"], capture_output=True, text=True).stdout
                expect("x86_64-unknown-linux-musl" in out, f"installed the wrong binary: {out}")
                unit = (units / "ddns-tray.service").read_text()
                expect(f"ExecStart={prefix}/bin/ddns-tray run " in unit, "the unit does not start the installed binary")
                expect("checksum verified" in r.stdout, r.stdout)
                leftovers = [p.name for p in tmp.iterdir() if p.name.startswith("ddns-tray-install")]
                expect(not leftovers, f"temporary files left: {leftovers}")

        @check(f"install: {label}, aarch64 and armv7l over loopback HTTP with BusyBox's tools only (wget), --version")
        def _(shell=shell):
            with tempfile.TemporaryDirectory() as t, Server(fake.dist) as srv:
                tmp = Path(t)
                bb = busybox_only(tmp / "bb")
                for machine, triple in [("aarch64", "aarch64-unknown-linux-musl"), ("armv7l", "armv7-unknown-linux-musleabihf")]:
                    fakebin = fake_uname(tmp / f"fake-{machine}", machine)
                    prefix = tmp / f"prefix-{machine}"
                    r = install_sh(shell, ["--base-url", srv.url, "--version", VERSION, "--prefix", str(prefix)], f"{fakebin}:{bb}", tmp)
                    expect(r.returncode == 0, f"{machine}: install.sh failed: {r.stdout}{r.stderr}")
                    expect((prefix / "bin/ddns-tray").read_text() == fake.binary(triple), f"{machine}: not the {triple} binary")

        @check(f"install: {label} refuses a bad checksum and leaves the installed binary as it was")
        def _(shell=shell):
            with tempfile.TemporaryDirectory() as t:
                tmp = Path(t)
                dist = tmp / "dist"
                shutil.copytree(fake.dist, dist)
                archive = f"ddns-tray-v{VERSION}-x86_64-unknown-linux-musl.tar.gz"
                with open(dist / archive, "ab") as f:
                    f.write(b"tampered")
                prefix = tmp / "prefix"
                (prefix / "bin").mkdir(parents=True)
                (prefix / "bin/ddns-tray").write_text("the binary installed before\n")
                fakebin = fake_uname(tmp / "fakebin", "x86_64")
                r = install_sh(shell, ["--base-url", f"file://{dist}", "--prefix", str(prefix)], f"{fakebin}:{os.environ['PATH']}", tmp)
                expect(r.returncode != 0, "install.sh accepted a tampered archive")
                expect("checksum mismatch" in r.stderr and archive in r.stderr, f"the refusal does not say why: {r.stderr}")
                expect((prefix / "bin/ddns-tray").read_text() == "the binary installed before\n", "the installed binary was replaced")
                expect(sorted(p.name for p in (prefix / "bin").iterdir()) == ["ddns-tray"], "files left in the prefix")

        @check(f"install: {label} refuses an unknown architecture and one the release lacks, installing nothing")
        def _(shell=shell):
            with tempfile.TemporaryDirectory() as t:
                tmp = Path(t)
                # mips: uname -m does not tell the byte order; this little-endian machine must be taken for mipsel.
                for machine, needle in [("riscv64", "uname -m: riscv64"), ("mipsel", "no archive for mipsel-unknown-linux-musl"),
                                        ("mips", "no archive for mipsel-unknown-linux-musl")]:
                    fakebin = fake_uname(tmp / f"fake-{machine}", machine)
                    prefix = tmp / f"prefix-{machine}"
                    r = install_sh(shell, ["--base-url", f"file://{fake.dist}", "--prefix", str(prefix)], f"{fakebin}:{os.environ['PATH']}", tmp)
                    expect(r.returncode != 0, f"{machine}: install.sh did not refuse")
                    expect(needle in r.stderr, f"{machine}: the refusal does not say {needle!r}: {r.stderr}")
                    expect(not prefix.exists(), f"{machine}: something was installed")
