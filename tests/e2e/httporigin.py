"""Origins for the HTTP proxy tests, on 127.0.0.1 and ::1 (one port).

`Origin` is an HTTP/1.1 server with persistent connections:
  GET  /big          BIG_SIZE deterministic bytes (Content-Length)
  GET  /page.html    a small HTML page holding PAGE_MARKER
  GET  /headers      the request it received, as JSON: method, target and
                     the header fields in order
  GET  /peer         the address and port of the connection it came on
  POST|PUT /upload   the length and SHA-256 of the body it received
                     (Content-Length or chunked)
It counts the requests it received (`requests`), so a test can prove that
a request the proxy refused never reached it.

`TlsOrigin` serves the same over TLS on 127.0.0.1, with a self-signed
certificate for 127.0.0.1 and localhost made by openssl (`cert` is its
path, for clients to trust).
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import bind_same_port, wait_accepting

BIG_SIZE = 10 * 1000 * 1000
PAGE_MARKER = "socksbox-http-page-7f3a"
PAGE = f"<!doctype html><html><head><title>t</title></head><body><p id=m>{PAGE_MARKER}</p></body></html>".encode()


def big_body() -> bytes:
    return random.Random(9112).randbytes(BIG_SIZE)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A connection left idle this long is closed (a proxy's pooled one too).
    timeout = 30

    def log_message(self, *args):
        pass

    def _answer(self, body: bytes, kind: str = "application/octet-stream", status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            view = memoryview(body)
            for i in range(0, len(body), 1 << 18):
                self.wfile.write(view[i : i + (1 << 18)])

    def _count(self) -> None:
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.requests.append((self.command, self.path, list(self.headers.items())))  # type: ignore[attr-defined]

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        self._count()
        path = self.path.split("?")[0]
        if path == "/big":
            self._answer(self.server.big)  # type: ignore[attr-defined]
        elif path == "/page.html":
            self._answer(PAGE, "text/html; charset=utf-8")
        elif path == "/headers":
            seen = {"method": self.command, "target": self.path, "headers": list(self.headers.items())}
            self._answer(json.dumps(seen).encode(), "application/json")
        elif path == "/peer":
            self._answer(f"{self.client_address[0]} {self.client_address[1]}".encode(), "text/plain")
        else:
            self._answer(b"not found\n", "text/plain", 404)

    do_HEAD = do_GET  # noqa: N815

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):  # noqa: N802
        self._count()
        body = self._body()
        digest = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        self._answer(json.dumps(digest).encode(), "application/json")

    do_PUT = do_POST  # noqa: N815


def _serve(server: ThreadingHTTPServer, big: bytes, lock: threading.Lock, requests: list) -> threading.Thread:
    server.daemon_threads = True
    server.big = big  # type: ignore[attr-defined]
    server.lock = lock  # type: ignore[attr-defined]
    server.requests = requests  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    return thread


class _FromSocket(ThreadingHTTPServer):
    """A server on a socket bound already (bind_same_port)."""

    def __init__(self, sock: socket.socket):
        self.address_family = sock.family
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()
        sock.listen(128)


class Origin:
    def __init__(self, big: bytes):
        self.big = big
        self.big_sha256 = hashlib.sha256(big).hexdigest()
        self.lock = threading.Lock()
        self.requests: list = []
        s4, s6, self.port = bind_same_port(socket.SOCK_STREAM)
        self.servers = [_FromSocket(s4), _FromSocket(s6)]
        for s in self.servers:
            _serve(s, big, self.lock, self.requests)
        for host in ("127.0.0.1", "::1"):
            wait_accepting((host, self.port))

    def url(self, host: str, path: str) -> str:
        h = f"[{host}]" if ":" in host else host
        return f"http://{h}:{self.port}{path}"

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


class TlsOrigin:
    def __init__(self, big: bytes, workdir: Path):
        self.cert = workdir / "origin-cert.pem"
        key = workdir / "origin-key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(key), "-out", str(self.cert), "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.requests: list = []
        _serve(self.server, big, threading.Lock(), self.requests)
        wait_accepting(("127.0.0.1", self.port))

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
