#!/usr/bin/env python3
"""A webhook receiver for end-to-end alerting tests: Alertmanager's webhook_configs POST here.

Binds 127.0.0.1:0, writes the port it got to --port-file (atomically, once listening), and appends every
POST body to --out as one line of compact JSON (a body that is not JSON is stored as {"invalid": text}).
Answers 200 to every POST, 404 to anything else. Runs until killed.

  usage: webhook_collector.py --port-file FILE --out FILE
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler

from loopback_server import serve_forever_on_free_port  # this folder; on sys.path as the script's own

LOCK = threading.Lock()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0)).decode("utf-8", "replace")
            try:
                line = json.dumps(json.loads(body), separators=(",", ":"))
            except ValueError:
                line = json.dumps({"invalid": body})
            with LOCK, open(args.out, "a", encoding="utf-8") as f:
                f.write(line + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *a):
            pass

    serve_forever_on_free_port(Handler, args.port_file)


if __name__ == "__main__":
    main()
