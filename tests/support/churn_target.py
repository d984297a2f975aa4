#!/usr/bin/env python3
"""A scrape target whose series come and go, for churn tests and benches: a real Prometheus scrapes it,
so a series removed here gets Prometheus' own staleness marker and vanishes from query answers, exactly
as a deleted pod's series would.

  GET  /metrics               `churn_value{id="<id>"} <value>` for every current id (text format 0.0.4)
  POST /__set?ids=a,b,c       replace the set of ids; answers "ok"
  POST /__rotate?n=<k>        replace the k oldest ids with k new ones (ids are "s<number>"); answers "ok"
  GET  /__ids                 the current ids, comma-separated

Each value follows a slow sine per id plus a little noise, so a detector has something ordinary to score.

Usage: churn_target.py --port-file FILE [--series N]   (binds 127.0.0.1:0; N initial ids s0..s<N-1>)
"""
import argparse
import math
import random
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from loopback_server import serve_forever_on_free_port  # this folder; on sys.path as the script's own

LOCK = threading.Lock()
STATE = {"ids": [], "next": 0}


def value(series_id):
    h = sum(ord(c) for c in series_id)
    return 100 + (h % 50) + 10 * math.sin(time.time() / 60 + h) + random.gauss(0, 1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body, ctype="text/plain"):
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        with LOCK:
            ids = list(STATE["ids"])
        if url.path == "/metrics":
            lines = ["# TYPE churn_value gauge"] + [f'churn_value{{id="{i}"}} {value(i):.4f}' for i in ids]
            self.reply("\n".join(lines) + "\n", "text/plain; version=0.0.4")
        elif url.path == "/__ids":
            self.reply(",".join(ids))
        else:
            self.send_error(404)

    def do_POST(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        with LOCK:
            if url.path == "/__set":
                STATE["ids"] = [i for i in query.get("ids", [""])[0].split(",") if i]
            elif url.path == "/__rotate":
                k = min(int(query.get("n", ["1"])[0]), len(STATE["ids"]))
                STATE["ids"] = STATE["ids"][k:] + [f"s{STATE['next'] + j}" for j in range(k)]
                STATE["next"] += k
            else:
                self.send_error(404)
                return
        self.reply("ok")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--series", type=int, default=0)
    args = p.parse_args()
    STATE["ids"] = [f"s{i}" for i in range(args.series)]
    STATE["next"] = args.series
    serve_forever_on_free_port(Handler, args.port_file)


if __name__ == "__main__":
    main()
