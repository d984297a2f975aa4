#!/usr/bin/env python3
"""A fault-injection HTTP upstream for the prom client's integration tests (not a Prometheus mock:
it knows nothing of PromQL). The first path segments choose the fault; the rest (e.g.
/api/v1/query_range) is ignored. A successful answer is a one-series matrix with the value 1 at
every step of the request's start/end/step, so the client has something well-formed to decode.

  /ok/...                    success
  /slow/<ms>/...             sleep <ms>, then success
  /cut/...                   200, a body cut mid-JSON, then close (no Content-Length)
  /short/...                 200, Content-Length larger than the body sent, then close
  /status/<code>/...         always <code> with a Prometheus-style error body
  /retry-after/<n>/<s>/...   the first <n> requests get 429 with "Retry-After: <s>", then success
  /flaky/<n>/...             the first <n> requests get 503, then success
  /encoding/...              success, gzip-compressed when the request's Accept-Encoding names gzip;
                             counted under "encoding/gzip" or "encoding/identity" by what was sent
  GET /__count/<key>         how many requests the path prefix <key> (e.g. "flaky/2") received

Usage: fault_server.py --port-file FILE   (binds 127.0.0.1:0 and writes the port to FILE)
"""
import argparse
import gzip
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import serve_forever_on_free_port  # this folder; on sys.path as the script's own

COUNTS = {}
LOCK = threading.Lock()


def matrix(form):
    def num(name, default):
        try:
            return float(form.get(name, [default])[0])
        except ValueError:
            return float(default)
    start, end, step = num("start", 0), num("end", 0), max(num("step", 1), 0.001)
    values, t = [], start
    while t <= end + 1e-9 and len(values) < 20000:
        values.append([round(t, 3), "1"])
        t += step
    return {"status": "success",
            "data": {"resultType": "matrix", "result": [{"metric": {"fault": "server"}, "values": values}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the log for failures only
        print("%s %s" % (self.address_string(), fmt % args), flush=True)

    def send(self, code, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def count(self, key):
        with LOCK:
            COUNTS[key] = COUNTS.get(key, 0) + 1
            return COUNTS[key]

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "__count":
            key = "/".join(parts[1:])
            with LOCK:
                n = COUNTS.get(key, 0)
            return self.send(200, str(n))
        return self.do_POST()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode()) if length else {}
        parts = self.path.split("?")[0].strip("/").split("/")
        mode = parts[0]
        ok = json.dumps(matrix(form))
        if mode == "ok":
            self.count("ok")
            return self.send(200, ok)
        if mode == "slow":
            self.count("slow/" + parts[1])
            time.sleep(int(parts[1]) / 1000.0)
            return self.send(200, ok)
        if mode in ("cut", "short"):
            self.count(mode)
            data = ok.encode()[: len(ok) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if mode == "short":
                self.send_header("Content-Length", str(len(ok)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "status":
            code = int(parts[1])
            self.count("status/" + parts[1])
            body = json.dumps({"status": "error", "errorType": "unavailable" if code >= 500 else "bad_data",
                               "error": "fault server answered %d" % code})
            return self.send(code, body)
        if mode == "retry-after":
            n = self.count("retry-after/%s/%s" % (parts[1], parts[2]))
            if n <= int(parts[1]):
                return self.send(429, "too many requests", [("Retry-After", parts[2])])
            return self.send(200, ok)
        if mode == "flaky":
            n = self.count("flaky/" + parts[1])
            if n <= int(parts[1]):
                return self.send(503, json.dumps({"status": "error", "errorType": "unavailable",
                                                  "error": "flaky attempt %d" % n}))
            return self.send(200, ok)
        if mode == "encoding":
            wants_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
            self.count("encoding/" + ("gzip" if wants_gzip else "identity"))
            if not wants_gzip:
                return self.send(200, ok)
            data = gzip.compress(ok.encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        return self.send(404, "404 page not found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    serve_forever_on_free_port(Handler, args.port_file)


if __name__ == "__main__":
    main()
