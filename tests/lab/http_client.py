#!/usr/bin/env python3
"""Lab client: N HTTP requests to a URL, each on a new TCP connection, and a
JSON summary of which real server answered. Bounded in count and time."""
import argparse
import collections
import errno
import http.client
import json
import socket
import sys
import time
import urllib.parse


def get_from_port(host, port, path, a):
    """One GET from source port `a.sport`, read to the server's FIN before
    closing, so the server closes first and this side keeps no TIME_WAIT:
    the next request can bind the same port (a client that reuses its ports).
    Bind retries briefly while the last connection's final ACK is on its way."""
    s = None
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("", a.sport))
            break
        except OSError as e:
            s.close()
            s = None
            if e.errno != errno.EADDRINUSE:
                raise
            time.sleep(0.02)
    if s is None:
        raise OSError(errno.EADDRINUSE, "source port stayed busy")
    with s:
        s.settimeout(a.timeout)
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode(errors="replace").strip()


def get(host, port, path, a):
    """One GET on a new connection: (status, body)."""
    if a.sport:
        return get_from_port(host, port, path, a)
    c = http.client.HTTPConnection(host, port, timeout=a.timeout)
    c.request("GET", path, headers={"Connection": "close"})
    r = c.getresponse()
    body = r.read().decode(errors="replace").strip()
    c.close()
    return r.status, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=5.0, help="per request")
    ap.add_argument("--deadline", type=float, default=120.0, help="whole run")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--sport", type=int, default=0,
                    help="every connection from this source port (a client that reuses its ports)")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="requests per second (0: back to back)")
    ap.add_argument("--log", default="",
                    help="one JSON line per request: wall-clock time, server or failure")
    a = ap.parse_args()
    log = open(a.log, "w", buffering=1) if a.log else None
    u = urllib.parse.urlsplit(a.url)
    host, port = u.hostname, u.port or 80
    by_server = collections.Counter()
    fails = collections.Counter()
    start = time.monotonic()
    for i in range(a.n):
        if time.monotonic() - start > a.deadline:
            fails["deadline"] += a.n - i
            break
        if a.rate > 0:
            time.sleep(max(0.0, start + i / a.rate - time.monotonic()))
        sent = time.time()
        result = None
        try:
            status, body = get(host, port, u.path or "/", a)
            if status == 200:
                by_server[body] += 1
                result = {"server": body}
            else:
                fails[f"status_{status}"] += 1
                result = {"failure": f"status_{status}"}
        except Exception as e:  # noqa: BLE001 - every failure is counted by kind
            fails[type(e).__name__] += 1
            result = {"failure": type(e).__name__}
        if log:
            log.write(json.dumps({"t": round(sent, 3), **result}) + "\n")
        if a.progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{a.n} requests, by server {dict(sorted(by_server.items()))}", file=sys.stderr)
    out = {
        "ok": sum(by_server.values()),
        "failed": sum(fails.values()),
        "by_server": dict(sorted(by_server.items())),
        "failures": dict(fails),
        "seconds": round(time.monotonic() - start, 3),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
