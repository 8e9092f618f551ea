#!/usr/bin/env python3
"""Loopback fakes for bench/compare.py, run inside a client's network namespace:

    python3 bench/fakes.py DIR

- an IP echo on a free port answering the text of DIR/answer (re-read on every request; plain and as the
  "Current IP Address: x" page ddclient's default skip pattern expects);
- a dyndns2 sink on another free port answering "good <ip>" and appending "<unix time> <ip>" to DIR/updates;
- every echo request appends "<unix time>" to DIR/asked.
The ports are written to DIR/ports ("echo sink") once both listen.
"""
import http.server
import os
import sys
import threading
import time
import urllib.parse

DIR = sys.argv[1]


def append(name, line):
    with open(os.path.join(DIR, name), "a") as f:
        f.write(line + "\n")


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        append("asked", f"{time.time():.6f}")
        ip = open(os.path.join(DIR, "answer")).read().strip()
        body = f"<html><body>Current IP Address: {ip}</body></html>\n".encode()
        if "plain" in self.path:
            body = (ip + "\n").encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Sink(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        ip = (q.get("myip") or q.get("ip") or [""])[0]
        append("updates", f"{time.time():.6f} {ip}")
        body = f"good {ip}\n".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), h) for h in (Echo, Sink)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(os.path.join(DIR, "ports.tmp"), "w") as f:
    f.write(f"{servers[0].server_port} {servers[1].server_port}\n")
os.rename(os.path.join(DIR, "ports.tmp"), os.path.join(DIR, "ports"))
while True:
    time.sleep(3600)
