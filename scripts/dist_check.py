#!/usr/bin/env python3
"""Checks of the packaging for where users run ddns-tray (issue 25), run by scripts/dist-check.sh:

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

import base64
import copy
import difflib
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import traceback
import zipfile
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

import helm_python as helm

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "packaging/helm/ddns-tray"
MANIFESTS = REPO / "packaging/kubernetes"
OPENWRT = REPO / "packaging/openwrt/ddns-tray"
SCHEMAS = REPO / "packaging/schemas"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())
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


# ---------------------------------------------------------------------------------------------- Kubernetes


def schema_problems(obj: dict) -> list[str]:
    out = []
    for v in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(obj, v, strict=True)
        except kubernetes_validate.ValidationError as e:
            out.append(f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}: Kubernetes {v} schema: {e.message} at {'.'.join(map(str, e.path))}")
        except kubernetes_validate.SchemaNotFoundError as e:
            out.append(f"{obj.get('kind')}: no schema for it in Kubernetes {v}: {e}")
    return out


def policy_problems(objs: list[dict], host_network: bool = False) -> list[str]:
    """The policy every deployment of ddns-tray must keep."""
    out = []
    kinds = [o.get("kind") for o in objs]
    allowed = {"Secret", "PersistentVolumeClaim", "Deployment", "Service"}
    out += [f"unexpected kind {k} (only {sorted(allowed)})" for k in kinds if k not in allowed]
    deployments = [o for o in objs if o.get("kind") == "Deployment"]
    if len(deployments) != 1:
        return out + [f"expected one Deployment, found {len(deployments)}"]
    d = deployments[0]
    spec = d.get("spec", {})
    if spec.get("replicas") != 1:
        out.append(f"replicas is {spec.get('replicas')!r}: must be 1 (one engine per zone set)")
    if spec.get("strategy", {}).get("type") != "Recreate":
        out.append("strategy must be Recreate (a rolling update would run two engines at once)")
    pod = spec.get("template", {}).get("spec", {})
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        out.append("pod securityContext.runAsNonRoot must be true")
    if psc.get("runAsUser") in (None, 0):
        out.append("pod securityContext.runAsUser must be a non-zero id")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        out.append("pod seccompProfile must be RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        out.append("automountServiceAccountToken must be false (ddns-tray never talks to the API server)")
    if bool(pod.get("hostNetwork")) != host_network:
        out.append(f"hostNetwork is {pod.get('hostNetwork')!r}, expected {host_network}")
    for v in pod.get("volumes", []):
        if "hostPath" in v:
            out.append(f"volume {v.get('name')} is a hostPath")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        out.append(f"expected one container, found {len(containers)}")
    for c in containers:
        name = c.get("name")
        sc = c.get("securityContext", {})
        if sc.get("readOnlyRootFilesystem") is not True:
            out.append(f"container {name}: readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"container {name}: allowPrivilegeEscalation must be false")
        if sc.get("privileged"):
            out.append(f"container {name}: privileged")
        if sc.get("runAsUser") == 0:
            out.append(f"container {name}: runAsUser 0")
        caps = sc.get("capabilities", {})
        if caps.get("drop") != ["ALL"]:
            out.append(f"container {name}: capabilities.drop must be [ALL], is {caps.get('drop')}")
        if caps.get("add"):
            out.append(f"container {name}: adds capabilities {caps['add']}")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            p = c.get(probe)
            if p is None:
                if probe != "livenessProbe":
                    out.append(f"container {name}: no {probe}")
                continue
            get = p.get("httpGet", {})
            if get.get("path") != "/health":
                out.append(f"container {name}: {probe} asks {get.get('path')!r}, not /health")
            if get.get("port") not in ports and get.get("port") not in ports.values():
                out.append(f"container {name}: {probe} port {get.get('port')!r} is none of the container's ports {ports}")
        if not c.get("resources", {}).get("limits", {}).get("memory"):
            out.append(f"container {name}: no memory limit")
        args = c.get("args", [])
        if args[-1:] != ["run"] or "--config" not in args or args[args.index("--config") + 1 :][:1] != ["/config/config.toml"]:
            out.append(f"container {name}: args {args} do not run the daemon with --config /config/config.toml")
        mounts = {m.get("mountPath"): m for m in c.get("volumeMounts", [])}
        if not mounts.get("/config", {}).get("readOnly"):
            out.append(f"container {name}: /config must be mounted read-only")
        if "/data" not in mounts:
            out.append(f"container {name}: no /data volume (the state)")
    return out


def all_problems(objs: list[dict], host_network: bool = False) -> list[str]:
    return [p for o in objs for p in schema_problems(o)] + policy_problems(objs, host_network)


def render(values: dict, name: str = "ddns-tray", namespace: str = "dns") -> list[dict]:
    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(values, name=name, namespace=namespace)
    objs = []
    for path, text in sorted(files.items()):
        if path.endswith(".txt"):
            continue
        objs += [o for o in yaml.safe_load_all(text) if o]
    return objs


def render_error(values: dict) -> str:
    try:
        render(values)
    except helm.HelmError as e:
        return str(e)
    raise Problem(f"the chart rendered values it should refuse: {values}")


def by_kind(objs: list[dict]) -> dict[str, dict]:
    return {o["kind"]: o for o in objs}


def helm_checks() -> None:
    @check("helm: lint (strict) finds no warning or error")
    def _():
        report = helm.lint(str(CHART), {"config": GOOD_CONFIG}, strict=True)
        bad = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2] + report.get("errors", [])
        expect(not bad, f"helm lint: {bad}")

    @check("helm: an inline config renders a Secret, PVC, Deployment and Service that pass the schema and policy")
    def _():
        objs = render({"config": GOOD_CONFIG})
        k = by_kind(objs)
        expect(sorted(k) == ["Deployment", "PersistentVolumeClaim", "Secret", "Service"], f"kinds: {sorted(k)}")
        problems = all_problems(objs)
        expect(not problems, "\n".join(problems))
        expect(base64.b64decode(k["Secret"]["data"]["config.toml"]).decode() == GOOD_CONFIG, "the Secret does not hold the config as given")
        ann = k["Deployment"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        expect(ann == hashlib.sha256(GOOD_CONFIG.encode()).hexdigest(), "checksum/config is not the config's SHA-256")
        vols = {v["name"]: v for v in k["Deployment"]["spec"]["template"]["spec"]["volumes"]}
        expect(vols["data"]["persistentVolumeClaim"]["claimName"] == k["PersistentVolumeClaim"]["metadata"]["name"], "data is not the chart's PVC")
        expect(vols["config"]["secret"]["secretName"] == k["Secret"]["metadata"]["name"], "config is not the chart's Secret")
        port = k["Deployment"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        expect(port == 9851 and k["Service"]["spec"]["ports"][0]["port"] == 9851, "the metrics port is not 9851")

    @check("helm: existingSecret, emptyDir, no Service, no liveness: only a Deployment, using them")
    def _():
        objs = render({"existingSecret": "mine", "existingSecretKey": "ddns.toml", "persistence": {"enabled": False},
                       "metrics": {"service": {"enabled": False}}, "probes": {"liveness": {"enabled": False}}})
        expect([o["kind"] for o in objs] == ["Deployment"], f"kinds: {[o['kind'] for o in objs]}")
        problems = all_problems(objs)
        expect(not problems, "\n".join(problems))
        pod = objs[0]["spec"]["template"]["spec"]
        vols = {v["name"]: v for v in pod["volumes"]}
        expect(vols["config"]["secret"]["secretName"] == "mine", "not the existing Secret")
        expect(vols["config"]["secret"]["items"] == [{"key": "ddns.toml", "path": "config.toml"}], "not the existing Secret's key")
        expect("emptyDir" in vols["data"], "persistence off is not an emptyDir")
        expect("livenessProbe" not in pod["containers"][0], "liveness turned off is still there")
        expect("annotations" not in objs[0]["spec"]["template"]["metadata"], "a checksum of a config the chart does not hold")

    @check("helm: hostNetwork, another release name, an existing claim")
    def _():
        objs = render({"config": GOOD_CONFIG, "hostNetwork": True, "persistence": {"existingClaim": "claim"}}, name="home")
        k = by_kind(objs)
        expect("PersistentVolumeClaim" not in k, "a PVC although existingClaim is set")
        problems = all_problems(objs, host_network=True)
        expect(not problems, "\n".join(problems))
        pod = k["Deployment"]["spec"]["template"]["spec"]
        expect(k["Deployment"]["metadata"]["name"] == "home-ddns-tray", f"name {k['Deployment']['metadata']['name']}")
        expect(pod["dnsPolicy"] == "ClusterFirstWithHostNet", "hostNetwork without ClusterFirstWithHostNet")
        expect({v["name"]: v for v in pod["volumes"]}["data"]["persistentVolumeClaim"]["claimName"] == "claim", "not the existing claim")

    metrics_ok = '[metrics]\nlisten = "0.0.0.0:9851"\nallow_remote = true\n'
    refusals = [
        ({}, "no config: set config"),
        ({"config": GOOD_CONFIG, "existingSecret": "x"}, "not both"),
        ({"config": "[metrics\nlisten = 1"}, "config is not valid TOML"),
        ({"config": 'interval = "5m"\n'}, "[metrics] listen is not set"),
        ({"config": metrics_ok.replace("0.0.0.0", "127.0.0.1")}, "is loopback"),
        ({"config": metrics_ok.replace("9851", "9000")}, "is not on metrics.port 9851"),
        ({"config": metrics_ok.replace("allow_remote = true\n", "")}, "allow_remote = true is needed"),
        ({"config": metrics_ok + 'token = { env = "T" }\n'}, "token is set"),
        ({"config": GOOD_CONFIG, "replicaCount": 2}, "replicaCount"),
        ({"config": GOOD_CONFIG, "persistence": {"size": "lots"}}, "size"),
    ]
    for values, needle in refusals:
        @check(f"helm: refuses {needle!r}")
        def _(values=values, needle=needle):
            err = render_error(values)
            expect(needle in err, f"the refusal does not say {needle!r}: {err}")


def load_manifests(folder: Path) -> list[dict]:
    objs = []
    for f in sorted(folder.glob("*.yaml")):
        objs += [o for o in yaml.safe_load_all(f.read_text()) if o]
    return objs


HELM_ONLY_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")


def equivalence_problems(plain: list[dict]) -> list[str]:
    """The plain manifests must be the chart's defaults with existingSecret=ddns-tray, less Helm's own labels."""
    rendered = render({"existingSecret": "ddns-tray"}, name="ddns-tray")
    for o in rendered:
        for label in HELM_ONLY_LABELS:
            o["metadata"].get("labels", {}).pop(label, None)
    want, got = by_kind(rendered), by_kind(plain)
    out = []
    for kind in sorted(set(want) | set(got)):
        if want.get(kind) != got.get(kind):
            a = yaml.safe_dump(want.get(kind), sort_keys=True).splitlines()
            b = yaml.safe_dump(got.get(kind), sort_keys=True).splitlines()
            diff = "\n".join(difflib.unified_diff(a, b, "chart", "packaging/kubernetes", lineterm=""))
            out.append(f"{kind} differs from the chart's default:\n{diff}")
    return out


def kubernetes_checks() -> None:
    plain = load_manifests(MANIFESTS)

    @check("kubernetes: packaging/kubernetes/*.yaml pass the schema and policy")
    def _():
        problems = all_problems(plain)
        expect(not problems, "\n".join(problems))

    @check("kubernetes: packaging/kubernetes/*.yaml equal the chart's defaults (existingSecret=ddns-tray)")
    def _():
        problems = equivalence_problems(plain)
        expect(not problems, "\n".join(problems))

    def deployment(objs):
        return next(o for o in objs if o["kind"] == "Deployment")

    def container(objs):
        return deployment(objs)["spec"]["template"]["spec"]["containers"][0]

    mutations = [
        ("two replicas", lambda o: deployment(o)["spec"].update(replicas=2), "replicas"),
        ("a rolling update", lambda o: deployment(o)["spec"].update(strategy={"type": "RollingUpdate"}), "Recreate"),
        ("a writable root fs", lambda o: container(o)["securityContext"].update(readOnlyRootFilesystem=False), "readOnlyRootFilesystem"),
        ("an added capability", lambda o: container(o)["securityContext"]["capabilities"].update(add=["NET_ADMIN"]), "adds capabilities"),
        ("root allowed", lambda o: deployment(o)["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot"), "runAsNonRoot"),
        ("a probe on /metrics", lambda o: container(o)["livenessProbe"]["httpGet"].update(path="/metrics"), "/health"),
        ("no readiness probe", lambda o: container(o).pop("readinessProbe"), "readinessProbe"),
        ("a misspelt field", lambda o: container(o).update(securityContex={}), "schema"),
        ("a port that is not a number", lambda o: container(o)["ports"][0].update(containerPort="9851x"), "schema"),
        ("a hostPath volume", lambda o: deployment(o)["spec"]["template"]["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "hostPath"),
    ]
    for what, mutate, needle in mutations:
        @check(f"kubernetes: refuses a manifest with {what}")
        def _(mutate=mutate, needle=needle, what=what):
            broken = copy.deepcopy(plain)
            mutate(broken)
            refuses(all_problems(broken), what, needle)

    @check("kubernetes: refuses plain manifests that drifted from the chart")
    def _():
        broken = copy.deepcopy(plain)
        container(broken)["resources"]["limits"]["memory"] = "128Mi"
        refuses(equivalence_problems(broken), "a changed memory limit", "Deployment differs")

    @check("kubernetes: refuses a broken file on disk (replicas: 2)")
    def _():
        with tempfile.TemporaryDirectory() as tmp:
            for f in MANIFESTS.glob("*.yaml"):
                shutil.copy(f, tmp)
            p = Path(tmp) / "deployment.yaml"
            text = p.read_text()
            expect("  replicas: 1\n" in text, "deployment.yaml has no 'replicas: 1' line")
            p.write_text(text.replace("  replicas: 1\n", "  replicas: 2\n"))
            refuses(all_problems(load_manifests(Path(tmp))), "deployment.yaml with replicas: 2", "replicas")


# ----------------------------------------------------------------------------------------------- OpenWrt

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


def openwrt_checks(fake: "FakeRelease") -> None:
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


# ------------------------------------------------------------------------------------------- fake release

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


# ----------------------------------------------------------------------------------------------- install.sh


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


# ------------------------------------------------------------------------------------ package-manager manifests


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
