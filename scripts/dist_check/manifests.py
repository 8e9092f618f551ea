"""scripts/release-manifests.sh and the winget, Scoop and Homebrew manifests it fills."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import jsonschema
import yaml

from common import SCHEMAS, VERSION, FakeRelease, check, expect, refuses, release_manifests

def winget_problems(folder: Path, version: str, msi_sha: str) -> list[str]:
    out = []
    files = sorted(folder.glob("*.yaml"))
    types = {}
    for f in files:
        doc = yaml.safe_load(f.read_text())
        kind = doc.get("ManifestType")
        schema = json.loads((SCHEMAS / f"winget-1.10.0/manifest.{kind}.1.10.0.json").read_text()) if kind in ("version", "installer", "defaultLocale", "locale") else None
        if schema is None:
            out.append(f"{f.name}: ManifestType {kind!r}")
            continue
        for e in jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(doc):
            out.append(f"{f.name}: winget {kind} schema: {e.message} at {'.'.join(map(str, e.path))}")
        types[kind] = doc
        if doc.get("PackageIdentifier") != "ddns-tray.ddns-tray" or doc.get("PackageVersion") != version:
            out.append(f"{f.name}: identifier/version {doc.get('PackageIdentifier')} {doc.get('PackageVersion')}")
    if sorted(types) != ["defaultLocale", "installer", "locale", "version"]:
        out.append(f"manifest types {sorted(types)}")
    inst = types.get("installer", {}).get("Installers", [{}])[0]
    if inst.get("InstallerSha256", "").lower() != msi_sha:
        out.append("InstallerSha256 is not the MSI's SHA-256")
    if not inst.get("InstallerUrl", "").endswith(f"/v{version}/ddns-tray-v{version}-x86_64.msi"):
        out.append(f"InstallerUrl {inst.get('InstallerUrl')}")
    if types.get("locale", {}).get("PackageLocale") != "zh-CN":
        out.append("no zh-CN locale")
    return out


def scoop_problems(path: Path, version: str, zip_sha: str) -> list[str]:
    doc = json.loads(path.read_text())
    schema = json.loads((SCHEMAS / "scoop/schema.json").read_text())
    out = [f"scoop schema: {e.message} at {'.'.join(map(str, e.path))}" for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    arch = doc.get("architecture", {}).get("64bit", {})
    if arch.get("hash") != zip_sha:
        out.append("the hash is not the zip's SHA-256")
    if not arch.get("url", "").endswith(f"/v{version}/ddns-tray-v{version}-x86_64-pc-windows-msvc.zip"):
        out.append(f"url {arch.get('url')}")
    if "checkver" not in doc or "autoupdate" not in doc:
        out.append("no checkver/autoupdate")
    return out


def brew_problems(path: Path, fake: FakeRelease) -> list[str]:
    out = []
    r = subprocess.run(["ruby", "-c", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        out.append(f"ruby -c: {r.stdout}{r.stderr}".strip())
    text = path.read_text()
    pairs = re.findall(r'url "([^"]+)"\s*\n\s*sha256 "([^"]+)"', text)
    if len(pairs) != 4:
        out.append(f"expected 4 url/sha256 pairs (macOS and Linux, Intel and ARM), found {len(pairs)}")
    for url, sha in pairs:
        name = url.rsplit("/", 1)[-1]
        if not (fake.dist / name).exists() or fake.sha(name) != sha:
            out.append(f"{name}: the sha256 is not the file's")
    return out


def manifest_checks(fake: FakeRelease) -> None:
    @check("manifests: release-manifests.sh fills every template from a fake release (and writes SHA256SUMS)")
    def _():
        r = release_manifests(VERSION, fake.dist, fake.manifests)
        expect(r.returncode == 0, f"release-manifests.sh failed: {r.stdout}{r.stderr}")
        listed = dict(reversed(line.split(None, 1)) for line in (fake.dist / "SHA256SUMS").read_text().splitlines())
        for f in fake.dist.iterdir():
            if f.is_file() and f.name != "SHA256SUMS":
                expect(listed.get(f.name) == fake.sha(f.name), f"SHA256SUMS: {f.name}")

    msi_sha = fake.sha(f"ddns-tray-v{VERSION}-x86_64.msi")
    zip_sha = fake.sha(f"ddns-tray-v{VERSION}-x86_64-pc-windows-msvc.zip")

    @check("manifests: winget (version, installer, en-US defaultLocale, zh-CN locale) pass winget's 1.10.0 schemas")
    def _():
        problems = winget_problems(fake.manifests / "winget", VERSION, msi_sha)
        expect(not problems, "\n".join(problems))

    @check("manifests: Scoop passes Scoop's schema")
    def _():
        problems = scoop_problems(fake.manifests / "scoop/ddns-tray.json", VERSION, zip_sha)
        expect(not problems, "\n".join(problems))

    @check("manifests: the Homebrew formula passes ruby -c, each url with its file's sha256")
    def _():
        problems = brew_problems(fake.manifests / "homebrew/ddns-tray.rb", fake)
        expect(not problems, "\n".join(problems))

    def mutated(src: Path, dst: Path, old: str, new: str) -> Path:
        text = src.read_text()
        expect(old in text, f"{src.name} has no {old!r} to break")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text.replace(old, new, 1))
        return dst

    @check("manifests: refuses a winget installer whose SHA-256 is not hex, and one without its type")
    def _():
        with tempfile.TemporaryDirectory() as t:
            w = Path(t, "winget")
            shutil.copytree(fake.manifests / "winget", w)
            inst = w / "ddns-tray.ddns-tray.installer.yaml"
            mutated(inst, inst, msi_sha, "not-a-sha256")
            refuses(winget_problems(w, VERSION, msi_sha), "a non-hex InstallerSha256", "installer schema")
            mutated(inst, inst, "InstallerType: wix", "InstallerType: tarball")
            refuses(winget_problems(w, VERSION, msi_sha), "an unknown InstallerType", "InstallerType")

    @check("manifests: refuses a Scoop manifest with an unknown field or a bad hash")
    def _():
        with tempfile.TemporaryDirectory() as t:
            src = fake.manifests / "scoop/ddns-tray.json"
            bad = mutated(src, Path(t, "a.json"), '"bin":', '"binn":')
            refuses(scoop_problems(bad, VERSION, zip_sha), "an unknown field", "scoop schema")
            bad = mutated(src, Path(t, "b.json"), zip_sha, "xyz")
            refuses(scoop_problems(bad, VERSION, zip_sha), "a bad hash", "scoop schema")

    @check("manifests: refuses a Homebrew formula with a syntax error or a wrong sha256")
    def _():
        with tempfile.TemporaryDirectory() as t:
            src = fake.manifests / "homebrew/ddns-tray.rb"
            bad = mutated(src, Path(t, "a.rb"), "  def install\n", "  def install(\n")
            refuses(brew_problems(bad, fake), "a syntax error", "ruby -c")
            sha = fake.sha(f"ddns-tray-v{VERSION}-x86_64-apple-darwin.tar.gz")
            bad = mutated(src, Path(t, "b.rb"), sha, "0" * 64)
            refuses(brew_problems(bad, fake), "a wrong sha256", "x86_64-apple-darwin")

    @check("manifests: release-manifests.sh refuses a missing file, a wrong SHA256SUMS, a misnamed file; writes nothing then")
    def _():
        cases = [
            ("missing", lambda d: (d / f"ddns-tray-v{VERSION}-x86_64.msi").unlink(), "ddns-tray-v0.1.0-x86_64.msi is missing"),
            ("sums", lambda d: (d / "SHA256SUMS").write_text((d / "SHA256SUMS").read_text().replace(msi_sha, "0" * 64)), "SHA256SUMS says ddns-tray-v0.1.0-x86_64.msi"),
            ("misnamed", lambda d: (d / "ddns-tray-v0.0.9-x86_64.msi").write_text("old\n"), "is not a file of release 0.1.0"),
            ("layout", lambda d: (d / f"ddns-tray-v{VERSION}-x86_64-pc-windows-msvc.zip").write_bytes(b"not a zip"), "does not hold ddns-tray/ddns-tray.exe"),
            ("version", None, "is not X.Y.Z"),
        ]
        for name, breaks, needle in cases:
            with tempfile.TemporaryDirectory() as t:
                dist = Path(t, "dist")
                shutil.copytree(fake.dist, dist, ignore=shutil.ignore_patterns("manifests"))
                if breaks:
                    breaks(dist)
                out = Path(t, "out")
                r = release_manifests("latest" if breaks is None else VERSION, dist, out)
                expect(r.returncode != 0, f"{name}: release-manifests.sh did not refuse")
                expect(needle in r.stderr, f"{name}: the refusal does not say {needle!r}: {r.stderr}")
                expect(not out.exists(), f"{name}: it wrote {out} anyway")
