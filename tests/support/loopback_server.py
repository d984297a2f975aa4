"""Shared by the test servers in this folder (imported, not run): serve a handler on a free loopback port
and tell the test which one through a file."""
import os
from http.server import ThreadingHTTPServer


def serve_forever_on_free_port(handler, port_file):
    """Binds 127.0.0.1:0, writes the port it got to `port_file` (atomically: the test polls the file and
    never reads a partial number), and serves `handler` until killed, one thread per connection."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()
