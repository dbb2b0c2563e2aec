#!/usr/bin/env python3
"""Lab client: N HTTP requests to a URL, each on a new TCP connection, and a
JSON summary of which real server answered. Bounded in count and time."""
import argparse
import collections
import http.client
import json
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=5.0, help="per request")
    ap.add_argument("--deadline", type=float, default=120.0, help="whole run")
    ap.add_argument("--progress", action="store_true")
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
            c = http.client.HTTPConnection(host, port, timeout=a.timeout)
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
