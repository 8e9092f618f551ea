"""The Helm chart (rendered and linted by real Helm) and the plain Kubernetes manifests."""

from __future__ import annotations

import base64
import copy
import difflib
import hashlib
import shutil
import tempfile
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml

from common import CHART, GOOD_CONFIG, MANIFESTS, Problem, check, expect, refuses

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())

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
