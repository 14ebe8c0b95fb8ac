#!/usr/bin/env python3
"""A transparent logging proxy: forwards every request verbatim (method, path,
headers, body) to a Pushgate and answers with its status and body, logging
`METHOD PATH STATUS CONTENT-TYPE` per push or delete and
`GET PATH STATUS accept=ACCEPT -> RESPONSE-CONTENT-TYPE` per scrape. Lets
tests/goclient.sh see the exact status codes the real Go client receives (the
client only reports errors) and the format Prometheus negotiates.

usage: statusproxy.py UPSTREAM_PORT PORT_FILE LOG_FILE
Listens on 127.0.0.1 on a free port, written to PORT_FILE once listening.
"""
import http.client
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM, PORT_FILE, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=10)
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        up.close()
        with open(LOG, "a") as log:
            if self.command == "GET":  # a scrape: what was asked for, what came back
                log.write(f"GET {self.path} {resp.status} accept={self.headers.get('Accept', '-')}"
                          f" -> {resp.getheader('Content-Type', '-')}\n")
            else:
                log.write(f"{self.command} {self.path} {resp.status} {self.headers.get('Content-Type', '-')}\n")
        self.send_response_only(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = forward

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
# Renamed once the socket listens, so the port file appears atomically.
os.rename(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
