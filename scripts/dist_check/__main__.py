#!/usr/bin/env python3
"""Checks of the packaging for where users run ddns-tray (issue 25), run by scripts/dist-check.sh
(`python scripts/dist_check [helm|kubernetes|openwrt|install|manifests ...]`):

- helm: the chart in packaging/helm/ddns-tray renders with real Helm (v4, through the PyPI package
  helm-python-sdk, which binds Helm's Go SDK), lints clean, refuses bad values with a message naming the fix;
  every rendered object passes the Kubernetes object schema (kubernetes-validate, strict, for the oldest
  and newest Kubernetes it ships) and the policy (one replica, Recreate, non-root, read-only root fs, no
  capabilities, seccomp RuntimeDefault, probes on /health).
- kubernetes: packaging/kubernetes/*.yaml pass the same checks and equal the chart's defaults.
- openwrt: the procd init script, under dash and BusyBox sh, against a shim of /lib/functions/procd.sh that
  records the calls; the package Makefile against a stub of the OpenWrt SDK (unpacks and stages real files).
- install: install.sh, through the real script, in temp prefixes: file:// with curl, loopback HTTP with
  BusyBox alone (wget, sha256sum, tar: a router's tools), a bad checksum, an unknown architecture.
- manifests: scripts/release-manifests.sh fills the winget, Scoop, Homebrew and OpenWrt templates from a fake
  release; each result passes its tool's own schema (vendored in packaging/schemas) or `ruby -c`.

Every check also runs on something broken and must fail there (the "refuses" lines). Prints one line per
check and "N passed, N failed"; exits 1 when any failed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import FakeRelease, results
from install import install_checks
from kube import helm_checks, kubernetes_checks
from manifests import manifest_checks
from openwrt import openwrt_checks


def main() -> int:
    only = set(sys.argv[1:])
    known = {"helm", "kubernetes", "openwrt", "install", "manifests"}
    if only - known:
        print(f"unknown section(s) {sorted(only - known)}; sections: {sorted(known)}", file=sys.stderr)
        return 2
    want = only or known
    with tempfile.TemporaryDirectory(prefix="dist-check.") as tmp:
        fake = FakeRelease(Path(tmp))
        if "helm" in want:
            helm_checks()
        if "kubernetes" in want:
            kubernetes_checks()
        # The OpenWrt Makefile check uses the filled manifests, install.sh the SHA256SUMS written with them.
        if want & {"manifests", "openwrt", "install"}:
            manifest_checks(fake)
        if "openwrt" in want:
            openwrt_checks(fake)
        if "install" in want:
            install_checks(fake)
    passed = sum(ok for _, ok in results)
    failed = len(results) - passed
    print(f"dist-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
