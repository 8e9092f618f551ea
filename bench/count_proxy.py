#!/usr/bin/env python3
"""A loopback TCP proxy that counts HTTP requests by method, for the benchmarks.

    count_proxy.py LISTEN_PORT TARGET_PORT COUNT_FILE

Forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT. Every request line seen from a client is counted;
the counts (JSON: {"GET": n, "PATCH": m, ...}) are rewritten to COUNT_FILE after each request. Stops on SIGTERM.
"""
import json
import socket
import sys
import threading

listen_port, target_port, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
counts = {}
lock = threading.Lock()
METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ")


def save():
    with open(count_file + ".tmp", "w") as f:
        json.dump(counts, f)
    import os
    os.replace(count_file + ".tmp", count_file)


def pump(src, dst, count):
    pending = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if count:
                pending += data
                # Count request lines at the start of lines; bodies are JSON and never start with a method.
                lines = pending.split(b"\r\n")
                pending = lines.pop()
                seen = [l.split(b" ", 1)[0].decode() for l in lines if l.startswith(METHODS) and l.endswith(b" HTTP/1.1")]
                if seen:
                    with lock:
                        for m in seen:
                            counts[m] = counts.get(m, 0) + 1
                        save()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    a = threading.Thread(target=pump, args=(client, upstream, True), daemon=True)
    b = threading.Thread(target=pump, args=(upstream, client, False), daemon=True)
    a.start(); b.start(); a.join(); b.join()
    client.close(); upstream.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(128)
with lock:
    save()
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
