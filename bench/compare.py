#!/usr/bin/env python3
"""ddns-tray side by side with ddclient and inadyn (not a test; root needed for network namespaces).

    sudo python3 bench/compare.py [--quick] [--ddns-tray BIN] [--out FILE]

Each client runs alone in a network namespace of its own that has only loopback and a veth pair (v0/v1, v0
holding 198.51.100.20/24): nothing outside can be reached, so inadyn cannot fall back to a public echo. In each
namespace bench/fakes.py serves an IP echo and a dyndns2 sink that timestamps every update. Every client uses
the dyndns2 protocol against that sink, at its smallest (ddclient 60 s, inadyn 30 s) or default (ddns-tray
5 min, relying on network events) interval. All clients run at the same time, each in its namespace.

Measured, printed as one Markdown table:
- reaction: the address on v0 is replaced and the echo's answer changes at the same moment, at a random point
  of the client's cycle; the time until the sink sees the new address (median of 3), with an http echo source
  and with the interface as the source;
- launch to first update (median of 3 fresh starts);
- idle RSS and PSS after the window; CPU per idle hour (from /proc/PID/schedstat over the window) and echo
  requests per idle hour, both extrapolated from the window (10 min; --quick: 1 min, one reaction each);
- binary size (ddclient is a Perl script: its interpreter is counted in its RSS, not its size).

ddclient and inadyn come from Debian (installed with their services held off when missing).
"""
import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--quick", action="store_true")
p.add_argument("--ddns-tray", default=os.path.join(REPO, "target/release/ddns-tray"))
p.add_argument("--out")
args = p.parse_args()
QUICK = args.quick
TRIALS = 1 if QUICK else 3
WINDOW = 60 if QUICK else 600
WORK = tempfile.mkdtemp(prefix="ddns-compare-")
HOST = "bench.example.test"


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"{cmd}: {r.stderr}")
    return r.stdout


def ensure_packages():
    missing = [p for p in ("ddclient", "inadyn") if not shutil.which(p) and not os.path.exists(f"/usr/sbin/{p}")]
    if missing:
        created = not os.path.exists("/usr/sbin/policy-rc.d")
        if created:
            with open("/usr/sbin/policy-rc.d", "w") as f:
                f.write("#!/bin/sh\nexit 101\n")
            os.chmod("/usr/sbin/policy-rc.d", 0o755)
        sh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
           + " ".join(missing))
        if created:
            os.remove("/usr/sbin/policy-rc.d")
        sh("systemctl disable --now ddclient inadyn 2>/dev/null || true", check=False)


class Lab:
    """One client's namespace, fakes and files."""

    def __init__(self, name):
        self.name = name
        self.ns = f"cmp-{name}-{os.getpid()}"
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir)
        with open(self.path("answer"), "w") as f:
            f.write("198.51.100.20\n")
        sh(f"ip netns add {self.ns}")
        for c in ("link add v0 type veth peer name v1", "link set lo up", "link set v0 up", "link set v1 up",
                  "addr add 198.51.100.20/24 dev v0"):
            sh(f"ip -n {self.ns} {c}")
        self.fakes = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable,
                                       os.path.join(REPO, "bench", "fakes.py"), self.dir])
        while not os.path.exists(self.path("ports")):
            time.sleep(0.05)
        self.echo, self.sink = open(self.path("ports")).read().split()
        self.proc = None
        self.current = "198.51.100.20"
        self.n = 20

    def path(self, f):
        return os.path.join(self.dir, f)

    def lines(self, f):
        try:
            return [l.split() for l in open(self.path(f)).read().splitlines() if l.strip()]
        except FileNotFoundError:
            return []

    def start(self, argv):
        self.started = time.time()
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *argv], stdout=open(self.path("out"), "a"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def pid(self):
        """The client's own process (ip netns exec execs it; a Perl script is the perl process)."""
        return self.proc.pid

    def wait_update(self, ip, since, limit):
        deadline = time.time() + limit
        while time.time() < deadline:
            # An update without an address (ddclient sends one when its interface probe finds nothing)
            # counts for nothing.
            for t, *got in self.lines("updates"):
                if got == [ip] and float(t) >= since:
                    return float(t) - since
            time.sleep(0.01)
        return None

    def change(self):
        """A new lease: a new address on v0 and the echo's answer, at the same moment."""
        self.n += 1
        new = f"192.0.2.{self.n}"
        t = time.time()
        with open(self.path("answer"), "w") as f:
            f.write(new + "\n")
        sh(f"ip -n {self.ns} addr add {new}/32 dev v0 && ip -n {self.ns} addr flush dev v0 to {self.current}/32")
        self.current = new
        return new, t

    def close(self):
        self.stop()
        self.fakes.kill()
        sh(f"ip netns del {self.ns}", check=False)


def ddclient(lab, iface):
    use = "use=if, if=v0" if iface else f"use=web, web=http://127.0.0.1:{lab.echo}/, web-skip='Current IP Address:'"
    conf = f"""daemon=60
syslog=no
foreground=yes
pid={lab.path('ddclient.pid')}
cache={lab.path('ddclient.cache')}
{use}
protocol=dyndns2
server=127.0.0.1:{lab.sink}
ssl=no
login=bench
password=bench
{HOST}
"""
    with open(lab.path("ddclient.conf"), "w") as f:
        f.write(conf)
    os.chmod(lab.path("ddclient.conf"), 0o600)
    return ["ddclient", "-foreground", "-file", lab.path("ddclient.conf"), "-daemon", "60", "-noquiet"]


def inadyn(lab, iface):
    check = "" if iface else f"""    checkip-server = 127.0.0.1:{lab.echo}
    checkip-path = /plain
    checkip-ssl = false
"""
    conf = f"""period = 30
{"iface = v0" if iface else ""}
custom bench {{
    username = bench
    password = bench
    ddns-server = 127.0.0.1:{lab.sink}
    ddns-path = "/nic/update?hostname=%h&myip=%i"
    ssl = false
{check}    hostname = {HOST}
}}
"""
    with open(lab.path("inadyn.conf"), "w") as f:
        f.write(conf)
    return ["inadyn", "--foreground", "--no-pidfile", "-f", lab.path("inadyn.conf"), "--cache-dir",
            lab.path("inadyn-cache"), "-l", "info"]


def ddns_tray(lab, iface):
    source = ('{ kind = "interface", name = "v0", allow_private = true }' if iface
              else f'{{ kind = "http", url = "http://127.0.0.1:{lab.echo}/plain", allow_private = true }}')
    conf = f"""interval = "5m"
[detect]
ipv4 = [ {source} ]
[[provider]]
name = "sink"
kind = "dyndns2"
server = "http://127.0.0.1:{lab.sink}"
username = "bench"
password = "bench"
[[record]]
name = "{HOST}"
provider = "sink"
"""
    with open(lab.path("config.toml"), "w") as f:
        f.write(conf)
    shutil.rmtree(lab.path("data"), ignore_errors=True)
    return [args.ddns_tray, "--config", lab.path("config.toml"), "--data-dir", lab.path("data"), "run"]


CLIENTS = [("ddns-tray", ddns_tray, "5 min + events"), ("inadyn", inadyn, "30 s"), ("ddclient", ddclient, "60 s")]


def fresh(lab, build, iface):
    lab.stop()
    for f in ("updates", "asked", "ddclient.cache"):
        if os.path.exists(lab.path(f)):
            os.remove(lab.path(f))
    shutil.rmtree(lab.path("inadyn-cache"), ignore_errors=True)
    argv = build(lab, iface)
    lab.start(argv)
    first = lab.wait_update(lab.current, lab.started, 120)
    return first


def reaction(lab, build, iface, results):
    out = []
    for _ in range(TRIALS):
        if fresh(lab, build, iface) is None:
            out.append(None)
            continue
        time.sleep(random.uniform(2, 62) if not QUICK else random.uniform(2, 20))
        new, t = lab.change()
        out.append(lab.wait_update(new, t, 200))
    lab.stop()
    results[(lab.name, "iface" if iface else "http")] = out


def launch(lab, build, results):
    times = []
    for _ in range(TRIALS):
        times.append(fresh(lab, build, False))
        lab.stop()
    results[(lab.name, "launch")] = times


def idle(lab, build, results):
    fresh(lab, build, False)
    time.sleep(5)
    pid = lab.pid()
    cpu0 = int(open(f"/proc/{pid}/schedstat").read().split()[0])
    asked0 = len(lab.lines("asked"))
    time.sleep(WINDOW)
    cpu1 = int(open(f"/proc/{pid}/schedstat").read().split()[0])
    rollup = {l.split(":")[0]: int(l.split()[1]) for l in open(f"/proc/{pid}/smaps_rollup").read().splitlines()[1:]}
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status").read().splitlines())
    asked1 = len(lab.lines("asked"))
    lab.stop()
    results[(lab.name, "idle")] = {
        "rss": rollup["Rss"] / 1024, "pss": rollup["Pss"] / 1024,
        "cpu_ms_h": (cpu1 - cpu0) / 1e6 * 3600 / WINDOW,
        "asked_h": (asked1 - asked0) * 3600 / WINDOW,
        "threads": int(status["Threads"].strip()),
    }


def main():
    if os.geteuid() != 0:
        raise SystemExit("run as root (network namespaces)")
    ensure_packages()
    if not os.path.exists(args.ddns_tray):
        raise SystemExit(f"build it first: cargo build --release ({args.ddns_tray} missing)")
    labs = {name: Lab(name) for name, _, _ in CLIENTS}
    results = {}
    try:
        for phase in ("reaction-http", "reaction-iface", "launch", "idle"):
            print(f"== {phase} ({', '.join(labs)} side by side)", file=sys.stderr)
            threads = []
            for name, build, _ in CLIENTS:
                lab = labs[name]
                if phase == "reaction-http":
                    t = threading.Thread(target=reaction, args=(lab, build, False, results))
                elif phase == "reaction-iface":
                    t = threading.Thread(target=reaction, args=(lab, build, True, results))
                elif phase == "launch":
                    t = threading.Thread(target=launch, args=(lab, build, results))
                else:
                    t = threading.Thread(target=idle, args=(lab, build, results))
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
    finally:
        for lab in labs.values():
            lab.close()

    def med(xs, unit="s"):
        good = [x for x in xs if x is not None]
        if not good:
            return "no update"
        m = statistics.median(good)
        text = f"{m * 1000:.0f} ms" if m < 1 else f"{m:.1f} s"
        return text + ("" if len(good) == len(xs) else f" ({len(xs) - len(good)} missed)")

    sizes = {
        "ddns-tray": os.path.getsize(args.ddns_tray),
        "inadyn": os.path.getsize(shutil.which("inadyn") or "/usr/sbin/inadyn"),
        "ddclient": os.path.getsize(shutil.which("ddclient")),
    }
    kernel = os.uname().release
    cpus = os.cpu_count()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on Debian 12, {cpus} cores, kernel {kernel}"
        f" (`sudo python3 bench/compare.py{' --quick' if QUICK else ''}`; {TRIALS} trial(s), idle window {WINDOW} s).",
        "",
        "| | interval | reaction, http echo | reaction, interface | launch to first update | idle RSS | idle PSS | CPU per idle hour | echo requests per idle hour | threads | binary |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, _, interval in CLIENTS:
        i = results.get((name, "idle"), {})
        lines.append(
            f"| {name} | {interval} | {med(results[(name, 'http')])} | {med(results[(name, 'iface')])} | "
            f"{med(results[(name, 'launch')])} | {i.get('rss', 0):.1f} MB | {i.get('pss', 0):.1f} MB | "
            f"{i.get('cpu_ms_h', 0):.0f} ms | {i.get('asked_h', 0):.0f} | {i.get('threads', 0)} | "
            f"{sizes[name] / 1e6:.2f} MB |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    raw = {f"{k[0]} {k[1]}": v for k, v in results.items()}
    print(f"\nraw: {raw}", file=sys.stderr)


main()
