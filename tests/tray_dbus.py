#!/usr/bin/env python3
"""Drives the real tray app over D-Bus. Run inside a private session bus and a display:

    dbus-run-session -- xvfb-run -a python3 tests/tray_dbus.py <ddns-tray binary> <work dir> [silent]

It plays the desktop's part: a StatusNotifierWatcher that records the tray's registration, a notification
service that records every Notify (or, with `silent`, never answers), and a webhook that refuses the
credentials (HTTP 401). Then it starts the app and checks, through the StatusNotifierItem and
com.canonical.dbusmenu interfaces, what a person would see and do: the tooltip, the menu labels, "Pause"
(the label turns into "Resume"), "Update now", and "Quit" (the app exits cleanly within 5 s). It prints one
line per check and exits non-zero on the first failure.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

DBusGMainLoop(set_as_default=True)
BIN, WORK = sys.argv[1], sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else ""
SILENT = MODE == "silent"
SERVICE = MODE == "service"
UNATTENDED = MODE == "unattended"
bus = dbus.SessionBus()
registered = []
notifications = []
hits = []


class Watcher(dbus.service.Object):
    @dbus.service.method("org.kde.StatusNotifierWatcher", in_signature="s", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        registered.append(service if service.startswith("org.") or service.startswith(":") else sender)
        self.StatusNotifierItemRegistered(service)

    @dbus.service.method("org.kde.StatusNotifierWatcher", in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal("org.kde.StatusNotifierWatcher", signature="s")
    def StatusNotifierItemRegistered(self, service):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
            "RegisteredStatusNotifierItems": dbus.Array(registered, signature="s"),
        }


class Notifications(dbus.service.Object):
    @dbus.service.method("org.freedesktop.Notifications", in_signature="susssasa{sv}i", out_signature="u",
                         async_callbacks=("reply", "error"))
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout, reply, error):
        notifications.append({"app": str(app), "summary": str(summary), "body": str(body)})
        if not SILENT:
            reply(dbus.UInt32(len(notifications)))
        # silent: never reply, like a hung notification daemon

    @dbus.service.method("org.freedesktop.Notifications", out_signature="as")
    def GetCapabilities(self):
        return ["body"]

    @dbus.service.method("org.freedesktop.Notifications", out_signature="ssss")
    def GetServerInformation(self):
        return ("fake", "test", "1", "1.2")


watcher_name = dbus.service.BusName("org.kde.StatusNotifierWatcher", bus)
watcher = Watcher(bus, "/StatusNotifierWatcher")
notify_name = dbus.service.BusName("org.freedesktop.Notifications", bus)
notifier = Notifications(bus, "/org/freedesktop/Notifications")


class Refuse(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        hits.append(self.path)
        self.send_response(401)
        self.send_header("content-length", "9")
        self.end_headers()
        self.wfile.write(b"forbidden")

    def log_message(self, *args):
        pass


http_server = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
threading.Thread(target=http_server.serve_forever, daemon=True).start()

config = os.path.join(WORK, "config.toml")
WELCOME = MODE.startswith("welcome-")
if WELCOME:
    # A first run: no provider, no record (detection from a command, so nothing could leave loopback).
    with open(config, "w") as f:
        f.write('[detect]\nipv4 = [ { kind = "command", command = ["echo", "198.51.100.7"], allow_private = true } ]\n')
else:
  with open(config, "w") as f:
    f.write(f"""# Written by hand: keep this comment

[detect]
ipv4 = [ {{ kind = "command", command = ["echo", "198.51.100.7"], allow_private = true }} ]
[[provider]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:{http_server.server_port}/update?ip={{ip}}"
[[record]]
name = "home.example.test"
provider = "hook"
""" + ("" if not MODE.startswith("pages-") else f"""
[[provider]]
name = "pod"
kind = "dnspod"
secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3abcdef"
secret_key = "Gu5t9xGARNpq86cd98joQYCN3abcdefgh"
endpoint = "http://127.0.0.1:{http_server.server_port}"

[[record]]
name = "nas.example.test"
provider = "pod"
line = "电信"
ttl = 600

[[notify]]
name = "wecom"
kind = "wecom"
url = "http://127.0.0.1:{http_server.server_port}/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2af5aaa"
events = ["change", "failure"]

[metrics]
listen = "127.0.0.1:0"
"""))

env = dict(os.environ, HOME=WORK, XDG_CONFIG_HOME=os.path.join(WORK, "xdg"))
control = os.path.join(WORK, "run", "control.sock")
service = None
if SERVICE:
    # The "system service": a daemon with a control endpoint; the tray must show and drive it, not run its own
    # engine.
    service_log = os.path.join(WORK, "service.log")
    service = subprocess.Popen([BIN, "--config", config, "--data-dir", os.path.join(WORK, "service"), "run",
                                "--control", control], env=env, stdout=subprocess.DEVNULL,
                               stderr=open(service_log, "w"))
    deadline = time.time() + 15
    while time.time() < deadline and not os.path.exists(control):
        time.sleep(0.05)
    env["DDNS_TRAY_SERVICE_CONTROL"] = control


if UNATTENDED:
    # "Run unattended" with a stand-in for systemctl that runs the real daemon on the service's paths under a
    # root, and a stand-in for pkexec (this test runs as root already: `env` with the stand-ins' settings).
    root = os.path.join(WORK, "root")
    os.makedirs(os.path.join(root, "etc", "ddns-tray"))
    os.makedirs(os.path.dirname(control), exist_ok=True)
    with open(os.path.join(root, "etc", "ddns-tray", "config.toml"), "w") as f:
        f.write('# the service\'s own file\n[detect]\n'
                'ipv4 = [ { kind = "command", command = ["echo", "198.51.100.7"], allow_private = true } ]\n')
    fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake-systemctl.sh")
    env["DDNS_TRAY_SERVICE_CONTROL"] = control
    env["DDNS_TRAY_ELEVATE"] = (f"env DDNS_TRAY_SERVICE_ROOT={root} DDNS_TRAY_SERVICE_MANAGER={fake} "
                                f"FAKE_EXE={BIN} FAKE_ROOT={root} FAKE_SOCK={control}")


def stop_fake_service():
    try:
        pid = int(open(os.path.join(WORK, "root", "service.pid")).read())
        os.kill(pid, 15)
    except (OSError, ValueError):
        pass


def ctl(*args):
    r = subprocess.run([BIN, "ctl", *args, "--endpoint", control, "--json"], env=env, capture_output=True, text=True,
                       timeout=20)
    return r


app = subprocess.Popen([BIN, "--config", config, "--data-dir", os.path.join(WORK, "data"), "-v"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
loop = GLib.MainLoop()


def pump(seconds, until=lambda: False):
    """Runs the main loop (so our services answer) until `until()` or the time is up."""
    deadline = time.time() + seconds
    ctx = loop.get_context()
    while time.time() < deadline and not until():
        ctx.iteration(False)
        time.sleep(0.01)
    return until()


def fail(msg):
    print("FAIL:", msg)
    app.kill()
    stop_fake_service()
    if UNATTENDED and os.path.exists(os.path.join(WORK, "root", "service.log")):
        print("--- service log ---\n" + open(os.path.join(WORK, "root", "service.log")).read()[-3000:])
    out = app.communicate()[0]
    print("--- app output ---\n" + out[-4000:])
    sys.exit(1)


def check(ok, msg):
    if not ok:
        fail(msg)
    print("ok:", msg)


def quit_and_pass(label):
    """Chooses Quit (its label in the app's language); the app must exit cleanly within 5 s."""
    click(label)
    start = time.time()
    while app.poll() is None and time.time() - start < 5:
        pump(0.1)
    check(app.poll() == 0, f"Quit exits cleanly within 5 s (exit {app.poll()})")
    print("tray checks passed")
    sys.exit(0)


check(pump(15, lambda: bool(registered)), "the tray icon registered with the StatusNotifierWatcher")
item = registered[0]
item_obj = bus.get_object(item, "/StatusNotifierItem")
props = dbus.Interface(item_obj, dbus.PROPERTIES_IFACE)


def tooltip():
    tip = props.Get("org.kde.StatusNotifierItem", "ToolTip")
    return f"{tip[2]}\n{tip[3]}"


def labels():
    menu = dbus.Interface(bus.get_object(item, "/MenuBar"), "com.canonical.dbusmenu")
    _, layout = menu.GetLayout(0, -1, ["label", "enabled"])
    out = {}
    for child in layout[2]:
        cid, cprops = int(child[0]), child[1]
        if "label" in cprops:
            out[str(cprops["label"]).replace("_", "")] = cid
    return out


def click(label_prefix):
    menu = dbus.Interface(bus.get_object(item, "/MenuBar"), "com.canonical.dbusmenu")
    for label, cid in labels().items():
        if label.startswith(label_prefix):
            try:
                menu.Event(cid, "clicked", dbus.String("", variant_level=1), dbus.UInt32(0))
            except dbus.exceptions.DBusException as e:
                # Quit may leave before the menu's reply is sent; anything else is a failure.
                if label_prefix != "Quit":
                    raise
                print(f"(the app left before replying to Quit: {e.get_dbus_name()})")
            return
    fail(f"no menu item starting with {label_prefix!r}: {list(labels())}")


if WELCOME:
    # With no records the window opens by itself on the welcome; the first step, then the second (the search
    # typed, Tab to the first kind, Enter), screenshotted in the window's language.
    lang = MODE.split("-", 1)[1]
    title = {"en": "ddns-tray settings", "zh": "ddns-tray 设置"}[lang]

    def welcome_window():
        pump(0.2)
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "ddns-tray"], capture_output=True,
                           text=True)
        for wid in r.stdout.split():
            name = subprocess.run(["xprop", "-id", wid, "_NET_WM_NAME"], capture_output=True, text=True).stdout
            if "\\" in name:
                name = name.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode(
                    "utf-8", "replace")
            if f'"{title}"' in name:
                return wid
        return None

    check(pump(20, lambda: welcome_window() is not None), f"with no records the window {title!r} opened by itself")
    win = welcome_window()
    pump(2)
    out_dir = os.environ.get("SCREENSHOT_DIR", WORK)
    shot = os.path.join(out_dir, f"welcome-{lang}-1-kind.png")
    r = subprocess.run(["import", "-window", win, shot], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.getsize(shot) > 0, f"screenshot {shot}")
    subprocess.run(["xdotool", "windowfocus", win], capture_output=True)
    pump(0.5)
    subprocess.run(["xdotool", "type", "--delay", "50", "cloudflare"], capture_output=True)
    pump(1)
    subprocess.run(["xdotool", "key", "Tab"], capture_output=True)
    pump(0.5)
    subprocess.run(["xdotool", "key", "Return"], capture_output=True)
    pump(1.5)
    shot = os.path.join(out_dir, f"welcome-{lang}-2-credential.png")
    r = subprocess.run(["import", "-window", win, shot], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.getsize(shot) > 0, f"screenshot {shot}")
    quit_and_pass({"en": "Quit", "zh": "退出"}[lang])

check(pump(15, lambda: "IPv4: 198.51.100.7" in labels()), f"menu shows the detected address: {list(labels())}")

if UNATTENDED:
    title = "ddns-tray settings"
    out_dir = os.environ.get("SCREENSHOT_DIR", WORK)

    def window_id():
        pump(0.2)
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True, text=True)
        ids = r.stdout.split()
        return ids[0] if ids else None

    def screenshot(win, name):
        shot = os.path.join(out_dir, name)
        subprocess.run(["import", "-window", win, shot], capture_output=True)

    def general(win, shot_name):
        # The sidebar's seventh button (General), as in the pages modes.
        subprocess.run(["xdotool", "mousemove", "--window", win, "75", str(56 + 31 * 6), "click", "1"],
                       capture_output=True)
        pump(1.5)
        screenshot(win, shot_name)

    check(not any(l.startswith("Run by") for l in labels()), "the tray runs its own engine")
    click("Settings")
    check(pump(20, lambda: window_id() is not None), "the settings window opened")
    win = window_id()
    pump(2)
    general(win, "unattended-en-1-offer.png")
    x, y = os.environ.get("RUN_UNATTENDED_AT", "272,283").split(",")
    subprocess.run(["xdotool", "mousemove", "--window", win, x, y, "click", "1"], capture_output=True)
    check(pump(60, lambda: any(l.startswith("Run by the system service") for l in labels())),
          f"after Run unattended the tray follows the service: {list(labels())}")
    check(pump(20, lambda: window_id() is not None), "the window opened again on the service's settings")
    win = window_id()
    pump(2)
    screenshot(win, "unattended-en-2-service.png")
    service_file = open(os.path.join(WORK, "root", "etc", "ddns-tray", "config.toml")).read()
    check("home.example.test" in service_file and "the service's own file" in service_file,
          f"the service's file holds the user's record, its comment kept: {service_file[:400]!r}")
    check(json.loads(ctl("status").stdout)["records"][0]["name"] == "home.example.test",
          "the service runs the user's record")
    x, y = os.environ.get("STOP_UNATTENDED_AT", "230,266").split(",")
    subprocess.run(["xdotool", "mousemove", "--window", win, x, y, "click", "1"], capture_output=True)
    check(pump(60, lambda: not any(l.startswith("Run by") for l in labels())),
          f"after Stop running unattended the tray runs its own engine again: {list(labels())}")
    check(pump(20, lambda: window_id() is not None), "the window opened again on the tray's settings")
    win = window_id()
    pump(2)
    screenshot(win, "unattended-en-3-back.png")
    check(os.path.exists(config + ".bak") or os.path.exists(config[:-len(".toml")] + ".toml.bak"),
          "the user's previous file was kept")
    check("home.example.test" in open(config).read(), "the settings are back in the user's file")
    check(not os.path.exists(os.path.join(WORK, "root", "etc", "systemd", "system", "ddns-tray.service")),
          "the service was removed")
    check(pump(15, lambda: "IPv4: 198.51.100.7" in labels()), "the tray's own engine detects again")
    quit_and_pass("Quit")

if SERVICE:
    def enabled(prefix):
        menu = dbus.Interface(bus.get_object(item, "/MenuBar"), "com.canonical.dbusmenu")
        _, layout = menu.GetLayout(0, -1, ["label", "enabled"])
        for child in layout[2]:
            props_ = child[1]
            if str(props_.get("label", "")).replace("_", "").startswith(prefix):
                return bool(props_.get("enabled", True))
        fail(f"no item {prefix!r}")

    check(any(l.startswith("Run by the system service") for l in labels()), f"the menu says the service runs things: {list(labels())}")
    check(enabled("Update now") and enabled("Pause") and enabled("Reload config"), "the service's engine can be driven")
    check(enabled("Settings") and not enabled("Edit config file"), "its config is edited through the service, never as the tray's file")
    check(not os.path.exists(os.path.join(WORK, "data", "state.json")), "the tray started no engine of its own")
    click("Pause")
    check(pump(5, lambda: "Resume" in labels()), "Pause reached the service, and its status came back at once")
    check(json.loads(ctl("status").stdout)["paused"] is True, "the service itself is paused")
    click("Resume")
    check(pump(5, lambda: "Pause" in labels()), "Resume reached the service")
    # The record is stopped (credentials refused), so the round calls nobody: the service's log tells.
    click("Update now")
    check(pump(10, lambda: "control: update started" in open(service_log).read()),
          "Update now reached the service")
    click("Reload config")
    check(pump(10, lambda: "control: config reloaded" in open(service_log).read()), "Reload config reached the service")
    service.terminate()
    service.wait(timeout=10)
    check(not os.path.exists(control), "the stopped service removed its control socket")
    check(pump(10, lambda: any("system service is not running" in l for l in labels())),
          f"the tray says the service stopped: {list(labels())}")
    quit_and_pass("Quit")
if MODE.startswith("pages-"):
    # The settings window in one language: the menu's labels over D-Bus, then every page, screenshotted.
    lang = MODE.split("-", 1)[1]
    words = {
        "en": ["Update now", "Pause", "Settings…", "Edit config file…", "Reload config", "Open log folder",
               "Start at login", "About", "Quit"],
        "zh": ["立即更新", "暂停", "设置…", "编辑配置文件…", "重新加载配置", "打开日志文件夹", "登录时启动", "关于", "退出"],
    }[lang]
    title = {"en": "ddns-tray settings", "zh": "ddns-tray 设置"}[lang]
    check(pump(10, lambda: any(l.startswith(words[0]) for l in labels())), f"menu in {lang}: {list(labels())}")
    for w in words:
        check(w in labels(), f"menu has {w!r}")
    if lang == "zh":
        check(pump(10, lambda: "上次更新" in tooltip()), f"the tooltip is Chinese: {tooltip()!r}")
        check(pump(10, lambda: any(l.startswith("最近错误：") for l in labels())), f"the last error line is Chinese: {list(labels())}")

    def rss():
        status = dict(l.split(":", 1) for l in open(f"/proc/{app.pid}/status").read().splitlines())
        return status["VmRSS"].strip()

    before = rss()
    click(words[2])

    def window_id():
        # The visible window whose title (_NET_WM_NAME, UTF-8) is the settings window's.
        pump(0.2)
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "ddns-tray"], capture_output=True,
                           text=True)
        for wid in r.stdout.split():
            name = subprocess.run(["xprop", "-id", wid, "_NET_WM_NAME"], capture_output=True, text=True).stdout
            # Without a UTF-8 locale xprop writes non-ASCII bytes as octal escapes: undo them.
            if "\\" in name:
                name = name.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode(
                    "utf-8", "replace")
            if f'"{title}"' in name:
                return wid
        return None

    check(pump(20, lambda: window_id() is not None), f"the settings window {title!r} opened")
    win = window_id()
    pump(2)
    out_dir = os.environ.get("SCREENSHOT_DIR", WORK)
    for n, page in enumerate(["status", "records", "providers", "detection", "alerts", "history", "general"]):
        # The sidebar's buttons: 28 px tall, 31 px apart, the first centred 56 px from the top.
        subprocess.run(["xdotool", "mousemove", "--window", win, "75", str(56 + 31 * n), "click", "1"],
                       capture_output=True)
        pump(1.5)
        shot = os.path.join(out_dir, f"settings-{lang}-{page}.png")
        r = subprocess.run(["import", "-window", win, shot], capture_output=True, text=True)
        check(r.returncode == 0 and os.path.getsize(shot) > 0, f"screenshot {shot}")
    print(f"tray RSS before the window {before}, with the window open {rss()}")
    if lang == "en":
        # Save from the window: a changed interval reaches the file, whose comments stay.
        subprocess.run(["xdotool", "mousemove", "--window", win, "330", "47", "click", "1"], capture_output=True)
        # No window manager here: give the window the keyboard focus by hand.
        subprocess.run(["xdotool", "windowfocus", win], capture_output=True)
        pump(0.5)
        subprocess.run(["xdotool", "type", "--delay", "50", "10m"], capture_output=True)
        pump(1)
        subprocess.run(["import", "-window", win, os.path.join(out_dir, "settings-en-unsaved.png")], capture_output=True)
        subprocess.run(["xdotool", "mousemove", "--window", win, "179", "621", "click", "1"], capture_output=True)

        def saved():
            text = open(config).read()
            return 'interval = "10m"' in text

        check(pump(10, saved), f"Save wrote the new interval: {open(config).read()[:300]!r}")
        text = open(config).read()
        check(text.startswith("# Written by hand: keep this comment"), f"the file's comment survived: {text[:200]!r}")
        check('name = "home.example.test"' in text, "the record is still there")
        pump(1)
        subprocess.run(["import", "-window", win, os.path.join(out_dir, "settings-en-saved.png")], capture_output=True)
    quit_and_pass(words[-1])

check(pump(10, lambda: any(l.startswith("Last error: webhook") for l in labels())), "menu shows the last error")
check("198.51.100.7" in tooltip(), f"tooltip shows the address: {tooltip()!r}")
if os.environ.get("TRAY_IDLE_SECONDS"):
    # A measurement for the README (not a check): the tray's footprint once it has settled.
    pump(float(os.environ["TRAY_IDLE_SECONDS"]))
    status = dict(l.split(":", 1) for l in open(f"/proc/{app.pid}/status").read().splitlines())
    rollup = dict(l.split(":", 1) for l in open(f"/proc/{app.pid}/smaps_rollup").read().splitlines()[1:])
    print(f"idle tray: RSS {status['VmRSS'].strip()} (anonymous {rollup['Anonymous'].strip()}, "
          f"PSS {rollup['Pss'].strip()}), threads {status['Threads'].strip()}")
for expected in ["Update now", "Pause", "Edit config file…", "Reload config", "Open log folder", "Start at login", "About", "Quit"]:
    check(expected in labels(), f"menu has {expected!r}")
if not SILENT:
    check(pump(10, lambda: any("refused the credentials" in n["summary"] for n in notifications)),
          f"a toast says the credentials were refused: {notifications}")
    check(all(n["app"] == "ddns-tray" for n in notifications), "toasts carry the app name")

if shutil.which("xclip"):
    click("IPv4: 198.51.100.7")

    def clipboard():
        pump(0.2)
        r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True, timeout=5)
        return r.stdout.strip()

    check(pump(5, lambda: clipboard() == "198.51.100.7"), "clicking the IPv4 line copies the address")
elif os.environ.get("CI") == "true":
    fail("xclip is not installed under CI (scripts/test.sh installs it)")
else:
    print("skip: xclip is not installed, clipboard not checked")

click("Pause")
check(pump(5, lambda: "Resume" in labels()), "after Pause the menu offers Resume")
check(pump(5, lambda: "(paused)" in tooltip()), "the tooltip says paused")
click("Resume")
check(pump(5, lambda: "Pause" in labels()), "after Resume the menu offers Pause again")
before = len(notifications)
click("Update now")
check(pump(10, lambda: len(notifications) > before or SILENT), "Update now ran a round and its failure was toasted")
if SILENT:
    # A hung notification service must not block the menu: ask for more toasts, then use the menu.
    for _ in range(12):
        click("About")
    click("Pause")
    check(pump(5, lambda: "Resume" in labels()), "the menu still answers while toasts hang")
    threads = int(open(f"/proc/{app.pid}/status").read().split("Threads:")[1].split()[0])
    check(threads <= 12, f"no thread per toast ({threads} threads)")

if not SILENT:
    second = subprocess.run([BIN, "--config", config, "--data-dir", os.path.join(WORK, "data")], env=env,
                            capture_output=True, text=True, timeout=20)
    check(second.returncode == 0 and "already running" in second.stdout,
          f"a second ddns-tray hands over and exits: {second.stdout!r} {second.stderr[-300:]!r}")

    def settings_window():
        pump(0.2)
        r = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True)
        return "ddns-tray settings" in r.stdout

    check(pump(20, settings_window), "the first instance opened its settings window")
    click("Settings")
    pump(1)
    r = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True)
    check(r.stdout.count("ddns-tray settings") == 1, "Settings… with the window open does not open a second one")
    pump(2)  # let it draw a few frames
    shot = os.environ.get("SCREENSHOT", os.path.join(WORK, "settings.png"))
    r = subprocess.run(["import", "-window", "root", shot], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.getsize(shot) > 0, f"screenshot saved to {shot}")
    click("Pause")
    check(pump(5, lambda: "Resume" in labels()), "the tray menu still works with the window open")

quit_and_pass("Quit")
