#!/usr/bin/env python3
"""N idle HTTP/1.1 keep-alive connections: one request on each, then (when
--trigger appears, bounded wait) one more request on each SAME connection.
A connection that broke, or was reopened, counts as lost. Prints JSON."""
import argparse
import http.client
import json
import os
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--trigger", required=True, help="file whose appearance starts round 2")
    ap.add_argument("--ready", required=True, help="file written once round 1 is done")
    ap.add_argument("--wait", type=float, default=120.0, help="longest wait for the trigger")
    ap.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    conns, first = [], {"ok": 0, "failed": 0}
    for _ in range(a.n):
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
        try:
            c.request("GET", u.path or "/")
            r = c.getresponse()
            body = r.read().decode().strip()
            conns.append((c, c.sock.getsockname()[1], body))
            first["ok"] += 1
        except Exception:
            first["failed"] += 1
    with open(a.ready, "w") as f:
        f.write("ready\n")
    deadline = time.monotonic() + a.wait
    while not os.path.exists(a.trigger) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = {"ok": 0, "lost": 0, "same_server": 0, "errors": {}}
    for c, port, body in conns:
        try:
            if c.sock is None:
                raise ConnectionError("closed by the server")
            c.request("GET", u.path or "/")
            r = c.getresponse()
            again = r.read().decode().strip()
            if c.sock is None or c.sock.getsockname()[1] != port:
                raise ConnectionError("reopened")
            second["ok"] += 1
            second["same_server"] += again == body
        except Exception as e:
            second["lost"] += 1
            k = type(e).__name__
            second["errors"][k] = second["errors"].get(k, 0) + 1
    print(json.dumps({"first": first, "second": second}))


if __name__ == "__main__":
    main()
