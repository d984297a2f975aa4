#!/usr/bin/env python3
"""A switchable fault-injecting proxy in front of a REAL Prometheus, for the daemon's integration tests.

Every request is forwarded to --upstream unchanged, unless a fault mode is set through the control
endpoint; then API answers are broken in that way. It parses nothing of PromQL: Prometheus does the work.

  POST /__mode?mode=<m>   set the mode for every later request; answers "ok"
  GET  /__count           requests proxied so far (plain number)
  GET  /__inflight        requests received and not yet answered (plain number)
  GET  /__log             JSON list of [monotonic seconds at arrival, status sent (0: none)] per request

Modes:
  pass        forward unchanged (default)
  unavailable 503 with a Prometheus-style error body (errorType unavailable)
  bad_data    400 with errorType bad_data
  malformed   200 with the upstream body cut in half (no Content-Length; connection closed)
  nan         forward, but every sample value in a matrix answer replaced by "NaN"
  slow        sleep 30 s before answering (longer than any test timeout)
  reset       close the connection without answering
  delay:<ms>  sleep <ms>, then forward (keeps requests in flight, e.g. to kill the upstream mid-query)
  throttle:<n>:<s>  the next <n> requests get 429 with "Retry-After: <s>", then the mode is pass again

When the upstream cannot be reached (it was killed), the connection is closed without an answer: what a
client talking to the dead upstream directly would see.

Usage: fault_proxy.py --upstream http://127.0.0.1:PORT --port-file FILE   (binds 127.0.0.1:0)
"""
import argparse
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

from loopback_server import serve_forever_on_free_port  # this folder; on sys.path as the script's own

STATE = {"mode": "pass", "count": 0, "inflight": 0, "throttle_left": 0}
LOG = []  # [arrival (time.monotonic()), status sent or 0], guarded by LOCK
LOCK = threading.Lock()


def make_handler(upstream):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, body, ctype="application/json", length=True, headers=()):
            entry = getattr(self, "log_entry", None)
            if entry is not None:
                with LOCK:
                    entry[1] = code
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            for name, value in headers:
                self.send_header(name, value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            if not length:
                self.close_connection = True

        def forward(self, method, data):
            req = urllib.request.Request(upstream + self.path, data=data, method=method)
            for h in ("Content-Type", "Authorization", "X-Scope-OrgID"):
                if self.headers.get(h):
                    req.add_header(h, self.headers[h])
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        def handle_any(self, method):
            if self.path.startswith("/__mode"):
                mode = self.path.split("mode=", 1)[1] if "mode=" in self.path else "pass"
                with LOCK:
                    STATE["mode"] = mode
                    if mode.startswith("throttle:"):
                        STATE["throttle_left"] = int(mode.split(":")[1])
                self.reply(200, b"ok", "text/plain")
                return
            for control, key in (("/__count", "count"), ("/__inflight", "inflight")):
                if self.path.startswith(control):
                    with LOCK:
                        value = STATE[key]
                    self.reply(200, str(value).encode(), "text/plain")
                    return
            if self.path.startswith("/__log"):
                with LOCK:
                    body = json.dumps(LOG).encode()
                self.reply(200, body)
                return
            # Read the body first, whatever the answer: left unread on a keep-alive connection it would
            # be parsed as the next request.
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else None
            self.log_entry = [time.monotonic(), 0]
            with LOCK:
                STATE["count"] += 1
                STATE["inflight"] += 1
                LOG.append(self.log_entry)
                mode = STATE["mode"]
                if mode.startswith("throttle:"):
                    if STATE["throttle_left"] > 0:
                        STATE["throttle_left"] -= 1
                    else:
                        mode = STATE["mode"] = "pass"
            try:
                self.answer(method, mode, data)
            finally:
                with LOCK:
                    STATE["inflight"] -= 1

        def answer(self, method, mode, data):
            if mode.startswith("throttle:"):
                seconds = mode.split(":")[2]
                self.reply(429, json.dumps({"status": "error", "errorType": "unavailable",
                                            "error": "injected: too many requests"}).encode(),
                           headers=[("Retry-After", seconds)])
                return
            if mode.startswith("delay:"):
                time.sleep(int(mode.split(":")[1]) / 1000)
            if mode == "reset":
                self.close_connection = True
                self.connection.close()
                return
            if mode == "slow":
                time.sleep(30)
            if mode == "unavailable":
                self.reply(503, json.dumps({"status": "error", "errorType": "unavailable",
                                            "error": "injected: upstream unavailable"}).encode())
                return
            if mode == "bad_data":
                self.reply(400, json.dumps({"status": "error", "errorType": "bad_data",
                                            "error": "injected: bad data"}).encode())
                return
            try:
                status, body = self.forward(method, data)
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError):
                self.close_connection = True
                self.connection.close()
                return
            if mode == "malformed":
                self.reply(200, body[: len(body) // 2], length=False)
                return
            if mode == "nan" and status == 200:
                try:
                    doc = json.loads(body)
                    if doc.get("data", {}).get("resultType") == "matrix":
                        for s in doc["data"]["result"]:
                            s["values"] = [[t, "NaN"] for t, _ in s["values"]]
                        body = json.dumps(doc).encode()
                except ValueError:
                    pass
            self.reply(status, body)

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    serve_forever_on_free_port(make_handler(args.upstream.rstrip("/")), args.port_file)


if __name__ == "__main__":
    main()
