#!/usr/bin/env python3
"""Lab fixtures for health checks, bounded in lifetime:
  tls  --port P --cert C --key K : HTTPS server answering 200 "tls" on every path
  dns  --port P --rcode-file F    : UDP DNS responder; answers every query with the
                                    rcode written in F (0 = NOERROR, 2 = SERVFAIL)"""
import argparse
import http.server
import socket
import ssl
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"tls\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def tls(a):
    srv = http.server.ThreadingHTTPServer(("0.0.0.0", a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    threading.Timer(a.lifetime, srv.shutdown).start()
    srv.serve_forever()


def dns(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", a.port))
    s.settimeout(1.0)
    deadline = threading.Event()
    threading.Timer(a.lifetime, deadline.set).start()
    while not deadline.is_set():
        try:
            q, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        if len(q) < 12:
            continue
        try:
            rcode = int(open(a.rcode_file).read().strip() or "0")
        except (OSError, ValueError):
            rcode = 2
        # Header: same id, QR + RD + RA, the rcode; the question echoed, no answers.
        flags = 0x8000 | (q[2] << 8 & 0x0100) | 0x0080 | (rcode & 0xF)
        reply = q[:2] + flags.to_bytes(2, "big") + q[4:6] + b"\0\0\0\0\0\0" + q[12:]
        s.sendto(reply, peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["tls", "dns"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--rcode-file")
    ap.add_argument("--lifetime", type=float, default=120.0)
    a = ap.parse_args()
    (tls if a.kind == "tls" else dns)(a)


if __name__ == "__main__":
    main()
