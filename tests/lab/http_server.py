#!/usr/bin/env python3
"""A real server for the lab: serves one directory over HTTP/1.1, threaded,
quiet, with a bounded lifetime so a forgotten server never lingers."""
import argparse
import functools
import http.server
import threading


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        # /status/N answers status N (a health check's failing path).
        if self.path.startswith("/status/"):
            try:
                code = int(self.path.split("/")[2])
            except ValueError:
                code = 400
            body = f"status {code}\n".encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lifetime", type=float, default=3600.0, help="seconds before exiting")
    a = ap.parse_args()
    handler = functools.partial(Handler, directory=a.dir)
    srv = http.server.ThreadingHTTPServer(("0.0.0.0", a.port), handler)
    srv.daemon_threads = True
    threading.Timer(a.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
