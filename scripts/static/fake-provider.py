#!/usr/bin/env python3
"""A loopback fake for the container and static-binary checks (scripts/container-check.sh): an address echo
and a webhook provider on one port, steered by files in DIR so a shell script can change them while it runs.

    python3 fake-provider.py DIR          (prints the port it listens on, on 127.0.0.1, then serves)

GET /ip       answers the text of DIR/ip (the "public" address)
GET /update   appends the request line to DIR/updates; answers 200 "ok", or 403 with the text of
              DIR/refuse when that file exists (a provider refusing)
"""
import http.server
import os
import socketserver
import sys

DIR = sys.argv[1]


def read(name):
    with open(os.path.join(DIR, name), encoding="utf-8") as f:
        return f.read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, text):
        body = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ip":
            self.answer(200, read("ip"))
        elif self.path.startswith("/update"):
            with open(os.path.join(DIR, "updates"), "a", encoding="utf-8") as f:
                f.write(self.path + "\n")
            if os.path.exists(os.path.join(DIR, "refuse")):
                self.answer(403, read("refuse"))
            else:
                self.answer(200, "ok")
        else:
            self.answer(404, "not found")

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
