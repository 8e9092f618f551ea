#!/usr/bin/env python3
"""Drives `ddns-tray init` through a real terminal (a pty), as a person would, against a loopback fake of
the Cloudflare API that lists zones. Run inside `unshare --net` (tests/it/init.rs does): the first round's
detection must not reach the built-in public sources.

    init_pty.py BINARY SCENARIO WORKDIR    (SCENARIO: en, zh, ctrlc)

Prints the whole screen at the end (the test shows it on failure; the note quotes it) and exits non-zero
with the reason when an expectation fails.
"""
import json
import os
import pty
import select
import sys
import termios
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GOOD = "cf-GOOD-token-0123456789"
BAD = "cf-WRONG-token-9876543210"
REQUESTS = []


class Fake(BaseHTTPRequestHandler):
    """Cloudflare API v4: GET /zones (paged), GET /zones/{id}/dns_records; a wrong token gets 403 with
    error 9109 as the documented envelope."""

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        REQUESTS.append((self.command, url.path, q, self.headers.get("authorization")))
        if self.headers.get("authorization") != f"Bearer {GOOD}":
            return self.reply(403, {"success": False, "errors": [{"code": 9109, "message": "Invalid access token"}],
                                    "messages": [], "result": None})
        if url.path == "/client/v4/zones":
            zones = [{"id": "z-net", "name": "example.net"}, {"id": "z-com", "name": "Example.COM"},
                     {"id": "z-org", "name": "example.org"}]
            page = int(q.get("page", "1"))
            # Two pages of two.
            result = zones[(page - 1) * 2: page * 2]
            return self.reply(200, {"success": True, "errors": [], "messages": [], "result": result,
                                    "result_info": {"page": page, "per_page": 2, "total_pages": 2}})
        if url.path == "/client/v4/zones/z-com/dns_records":
            return self.reply(200, {"success": True, "errors": [], "messages": [], "result": [],
                                    "result_info": {"page": 1, "per_page": 100, "total_pages": 1}})
        return self.reply(404, {"success": False, "errors": [{"code": 7003, "message": "no route"}], "result": None})


def main():
    binary, scenario, work = sys.argv[1], sys.argv[2], sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    config = os.path.join(work, "config.toml")
    data = os.path.join(work, "data")
    env = dict(os.environ, TERM="dumb", LANG="zh_CN.UTF-8" if scenario == "zh" else "en_US.UTF-8",
               LC_ALL="zh_CN.UTF-8" if scenario == "zh" else "en_US.UTF-8", LANGUAGE="")
    argv = [binary, "--config", config, "--data-dir", data, "init", "--service", "--set", f"endpoint={endpoint}"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(binary, argv, env)
    screen = bytearray()

    def read_until(text, timeout=20, count=1):
        deadline = time.monotonic() + timeout
        while screen.count(text.encode()) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"waited {timeout}s for {text!r}")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    fail(f"the program ended before {text!r}")
                if not chunk:
                    fail(f"the program ended before {text!r}")
                screen.extend(chunk)

    def answer(after, text, count=1):
        read_until(after, count=count)
        # What is shown from now on answers this prompt.
        del_mark.append(len(screen))
        os.write(fd, text.encode() + b"\r")

    del_mark = []

    def fail(why):
        print(screen.decode(errors="replace"))
        print(f"FAILED: {why}", file=sys.stderr)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        sys.exit(1)

    def finish(timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                fail("the program did not end")
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            screen.extend(chunk)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    zh = scenario == "zh"
    if scenario == "ctrlc":
        answer("Enter to list them all:", "cloudflare")
        read_until("Global API Key)):")
        # Mid-way through typing the secret (echo off now), the user gives up.
        os.write(fd, b"cf-half")
        time.sleep(0.3)
        attrs = termios.tcgetattr(fd)
        if attrs[3] & termios.ECHO:
            fail("the echo was on while the secret was typed")
        os.write(fd, b"\x03")
        code = finish()
        attrs = termios.tcgetattr(fd)
        print(screen.decode(errors="replace"))
        if code != 130:
            fail(f"exit code {code}, not 130")
        if not attrs[3] & termios.ECHO:
            fail("the terminal's echo stayed off after Ctrl-C")
        if os.path.exists(config) or os.path.exists(os.path.join(data, "secrets")):
            fail("Ctrl-C left a file behind")
        print("CTRLC-OK")
        return

    # 1. the DNS service: a search with two matches, then the number.
    answer("列出全部：" if zh else "Enter to list them all:", "cloud")
    read_until("序号" if zh else "Number")
    text = screen.decode(errors="replace")
    line = next(l for l in text.splitlines() if " cloudflare " in l)
    number = line.split(")")[0].strip()
    answer("重新搜索）：" if zh else "to search again):", number)
    # 2. the credential: first a wrong one, refused with the provider's words, then the right one.
    # The end of the token's prompt line (its label and help), shown once per asking.
    token = "Global API Key）):" if zh else "Global API Key)):"
    if not zh:
        answer(token, BAD)
        read_until("Invalid access token")
        answer(token, GOOD, count=2)
    else:
        answer(token, GOOD)
    # 3. the domains the credential sees, sorted, canonical; example.com is the first.
    read_until("example.org")
    answer("重新搜索）：" if zh else "to search again):", "1", count=2)
    answer("本身）：" if zh else "itself):", "home")
    answer("[1]：" if zh else "[1]:", "")
    code = finish(60)
    out = screen.decode(errors="replace")
    print(out)
    for secret in (GOOD, BAD):
        if secret in out:
            fail("a secret was shown on the screen")
    expected = ["服务商接受此凭据，并托管 home.example.com" if zh else "The provider accepts the credential and serves home.example.com",
                "配置已写入" if zh else "Config written"]
    for e in expected:
        if e not in out:
            fail(f"{e!r} not on the screen")
    with open(config) as f:
        written = f.read()
    for secret in (GOOD, BAD):
        if secret in written:
            fail("the secret is in the config file")
    parsed = tomllib.loads(written)
    want = {"provider": [{"name": "cloudflare", "kind": "cloudflare", "endpoint": endpoint,
                          "token": {"store": "cloudflare/token"}}],
            "record": [{"name": "home.example.com", "provider": "cloudflare", "type": "A"}]}
    if parsed != want:
        fail(f"the config is not the one expected:\n{written}")
    stored = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(data, "secrets")) for f in fs]
    if not stored:
        fail("no secret in the service's store")
    for path in stored:
        if os.stat(path).st_mode & 0o077:
            fail(f"{path} can be read by others")
    for path in [config]:
        if os.stat(path).st_mode & 0o077:
            fail(f"{path} can be read by others")
    # The wrong token was tried once, the right one listed both pages of zones.
    tokens = [r[3] for r in REQUESTS if r[1] == "/client/v4/zones"]
    if not zh and tokens[0] != f"Bearer {BAD}":
        fail(f"the wrong token was not the first tried: {REQUESTS}")
    pages = [r[2].get("page") for r in REQUESTS if r[1] == "/client/v4/zones" and r[3] == f"Bearer {GOOD}"]
    if pages[:2] != ["1", "2"]:
        fail(f"the zones were not listed page by page: {REQUESTS}")
    print(f"EXIT {code}")
    print("PTY-OK")


main()
