#!/usr/bin/env python3
"""Lab client: N HTTP requests to a URL, each on a new TCP connection, and a
JSON summary of which real server answered. Bounded in count and time."""
import argparse
import collections
import errno
import http.client
import json
import sys
import time
import urllib.parse


def connection(host, port, a):
    """A connection, from `a.sport` when given. The server closes first
    (Connection: close), so the client's side of the last connection is gone
    (no TIME_WAIT here) once the server's final ACK arrives: bind retries
    briefly until then."""
    if not a.sport:
        return http.client.HTTPConnection(host, port, timeout=a.timeout)
    for _ in range(100):
        try:
            c = http.client.HTTPConnection(host, port, timeout=a.timeout,
                                           source_address=("", a.sport))
            c.connect()
            return c
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            time.sleep(0.02)
    raise OSError(errno.EADDRINUSE, "source port stayed busy")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=5.0, help="per request")
    ap.add_argument("--deadline", type=float, default=120.0, help="whole run")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--sport", type=int, default=0,
                    help="every connection from this source port (a client that reuses its ports)")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    host, port = u.hostname, u.port or 80
    by_server = collections.Counter()
    fails = collections.Counter()
    start = time.monotonic()
    for i in range(a.n):
        if time.monotonic() - start > a.deadline:
            fails["deadline"] += a.n - i
            break
        try:
            c = connection(host, port, a)
            c.request("GET", u.path or "/", headers={"Connection": "close"})
            r = c.getresponse()
            body = r.read().decode(errors="replace").strip()
            c.close()
            if r.status == 200:
                by_server[body] += 1
            else:
                fails[f"status_{r.status}"] += 1
        except Exception as e:  # noqa: BLE001 - every failure is counted by kind
            fails[type(e).__name__] += 1
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
