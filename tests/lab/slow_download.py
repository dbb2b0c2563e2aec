#!/usr/bin/env python3
"""Downloads one URL at a bounded rate (reading slowly, so TCP flow control
holds the server back) and prints JSON with the byte count, the sha256 and
the error if the transfer broke."""
import argparse
import hashlib
import json
import socket
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--rate", type=float, required=True, help="bytes per second")
    ap.add_argument("--deadline", type=float, default=120.0)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    h, got, err = hashlib.sha256(), 0, None
    start = time.monotonic()
    try:
        s = socket.create_connection((u.hostname, u.port or 80), timeout=10)
        # A small receive buffer so the rate limit reaches the server.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(f"GET {u.path} HTTP/1.0\r\nHost: {u.hostname}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("closed before the headers")
            head += chunk
        head, body = head.split(b"\r\n\r\n", 1)
        length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        h.update(body)
        got = len(body)
        while got < length and time.monotonic() - start < a.deadline:
            chunk = s.recv(min(16384, length - got))
            if not chunk:
                raise ConnectionError(f"closed after {got} of {length} bytes")
            h.update(chunk)
            got += len(chunk)
            ahead = got / a.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        if got < length:
            err = f"deadline after {got} of {length} bytes"
    except Exception as e:
        err = f"{type(e).__name__}: {e}"
    print(json.dumps({"bytes": got, "sha256": h.hexdigest(), "error": err,
                      "seconds": round(time.monotonic() - start, 3)}))


if __name__ == "__main__":
    main()
