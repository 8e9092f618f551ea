"""What every section shares: the check runner, paths, the fake release."""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import tarfile
import traceback
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
CHART = REPO / "packaging/helm/ddns-tray"
MANIFESTS = REPO / "packaging/kubernetes"
OPENWRT = REPO / "packaging/openwrt/ddns-tray"
SCHEMAS = REPO / "packaging/schemas"
VERSION = "0.1.0"

GOOD_CONFIG = """interval = "5m"

[[provider]]
name = "cf"
kind = "cloudflare"
token = { env = "CF_API_TOKEN" }

[[record]]
name = "home.example.com"
provider = "cf"
type = "A"

[metrics]
listen = "0.0.0.0:9851"
allow_remote = true
"""

results: list[tuple[str, bool]] = []


class Problem(Exception):
    pass


def check(name: str):
    """Runs the decorated function now as one named check: it passes unless it raises."""

    def run(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next check runs
            results.append((name, False))
            detail = str(e) if isinstance(e, (Problem, AssertionError)) else traceback.format_exc()
            print(f"FAIL {name}\n     {detail}".rstrip(), flush=True)
        else:
            results.append((name, True))
            print(f"ok   {name}", flush=True)
        return fn

    return run


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise Problem(message)


def refuses(problems: list[str], what: str, needle: str = "") -> None:
    """A check run on something broken must find a problem (one containing `needle` when given)."""
    expect(bool(problems), f"the check found nothing wrong with {what}")
    if needle:
        expect(any(needle in p for p in problems), f"{what}: expected a problem naming {needle!r}, got {problems}")


@functools.cache
def dash() -> str:
    path = shutil.which("dash")
    if not path:
        raise Problem("dash is not installed (Debian's /bin/sh)")
    return path


@functools.cache
def busybox() -> str:
    path = shutil.which("busybox")
    if not path:
        raise Problem("busybox is not installed (scripts/dist-check.sh installs it)")
    return path


LINUX = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl", "armv7-unknown-linux-musleabihf"]
MACOS = ["x86_64-apple-darwin", "aarch64-apple-darwin"]


class FakeRelease:
    """A release of small files, named and laid out as README "Release files" says; each archive's binary is a
    script naming its own target, so a test can tell which one got installed."""

    def __init__(self, root: Path):
        self.root = root
        self.dist = root / "dist"
        self.dist.mkdir()
        self.manifests = root / "manifests"
        for t in LINUX + MACOS:
            self._tar(t, linux=t in LINUX)
        (self.dist / f"ddns-tray-v{VERSION}-x86_64.msi").write_bytes(b"stand-in MSI for the manifest check\n")
        with zipfile.ZipFile(self.dist / f"ddns-tray-v{VERSION}-x86_64-pc-windows-msvc.zip", "w") as z:
            z.writestr("ddns-tray/ddns-tray.exe", "MZ stand-in\n")
            z.writestr("ddns-tray/README.md", "# ddns-tray\n")

    @staticmethod
    def binary(triple: str) -> str:
        return f'#!/bin/sh\necho "ddns-tray {VERSION} ({triple})"\n'

    def _tar(self, triple: str, linux: bool) -> None:
        src = self.root / "src" / triple / "ddns-tray"
        src.mkdir(parents=True)
        (src / "ddns-tray").write_text(self.binary(triple))
        (src / "ddns-tray").chmod(0o755)
        (src / "README.md").write_text("# ddns-tray\n")
        if linux:
            shutil.copy(REPO / "packaging/systemd/ddns-tray.service", src / "ddns-tray.service")
        with tarfile.open(self.dist / f"ddns-tray-v{VERSION}-{triple}.tar.gz", "w:gz") as t:
            t.add(src, arcname="ddns-tray")

    def sha(self, name: str) -> str:
        return hashlib.sha256((self.dist / name).read_bytes()).hexdigest()


def release_manifests(version: str, dist: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "scripts/release-manifests.sh"), version, str(dist), str(out)],
                          capture_output=True, text=True, timeout=60)
