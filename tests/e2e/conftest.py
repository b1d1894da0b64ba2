"""Fixtures for the socksbox-server end-to-end suite.

Everything here talks to loopback only (127.0.0.0/8 and ::1). Every wait is
bounded; readiness is detected from the server's `listening on` lines or from
a port accepting, never from a bare sleep.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import random
import re
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import rawsocks
from support import (
    PASSWORD,
    REQUIRE_ALL,
    USER,
    accept_loop,
    bind_same_port,
    clean_env,
    echo,
    require_all,
    server_binary,
    wait_accepting,
)

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
LISTEN_RE = re.compile(r"^listening on (\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<v4>\d+\.\d+\.\d+\.\d+)):(?P<port>\d+)$")

BIG_SIZE = 8 * 1024 * 1024
SMALL_BODY = b"hello from the socksbox e2e http server\n"


# ---------------------------------------------------------------------------
# SOCKSBOX_REQUIRE_ALL: no skips
# ---------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With SOCKSBOX_REQUIRE_ALL set, a skip that did not go through
    support.require (a bare pytest.skip or a skipif mark) is a failure too."""
    report = yield
    if report.skipped and require_all() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped although {REQUIRE_ALL} is set: {reason}"
    return report


# ---------------------------------------------------------------------------
# the server under test
# ---------------------------------------------------------------------------


class SocksServer:
    def __init__(self, cmd, workdir: Path, n_listeners: int):
        self.cmd = [str(c) for c in cmd]
        self.stderr_path = workdir / f"server-stderr-{id(self)}.log"
        self.stdout_lines: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        self.listeners: list[tuple[str, int]] = []
        # The server writes to its own copy of the descriptor; ours is not needed after the start.
        with open(self.stderr_path, "wb") as stderr_file:
            self.proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                env=clean_env(),
            )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self._wait_ready(n_listeners)

    def _read_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_ready(self, n: int):
        deadline = time.monotonic() + READY_TIMEOUT
        while len(self.listeners) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(
                    f"server did not print {n} 'listening on' line(s) within {READY_TIMEOUT}s; "
                    f"stdout so far: {self.stdout_lines!r}\nstderr:\n{self.stderr_text()}"
                )
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                rc = self._wait_exit(5)
                pytest.fail(
                    f"server exited (code {rc}) before it was ready; command {self.cmd}\n"
                    f"stdout: {self.stdout_lines!r}\nstderr:\n{self.stderr_text()}"
                )
            m = LISTEN_RE.match(line)
            if m:
                host = m.group("v6") or m.group("v4")
                self.listeners.append((host, int(m.group("port"))))

    # -- addresses -------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid

    def _first(self, fam: int):
        for host, port in self.listeners:
            if rawsocks.family_of(host) == fam:
                return (host, port)
        raise AssertionError(f"server has no {'IPv6' if fam == socket.AF_INET6 else 'IPv4'} listener: {self.listeners}")

    @property
    def addr4(self):
        return self._first(socket.AF_INET)

    @property
    def addr6(self):
        return self._first(socket.AF_INET6)

    def url_host(self, addr) -> str:
        host, port = addr
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    # -- observation -----------------------------------------------------
    def stderr_text(self, tail: int = 8000) -> str:
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return "<stderr unavailable>"
        text = data.decode("utf-8", "replace")
        return text[-tail:]

    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError(f"no VmRSS in /proc/{self.pid}/status")

    def alive(self) -> bool:
        return self.proc.poll() is None

    # -- stopping --------------------------------------------------------
    def _wait_exit(self, timeout: float):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout: float = STOP_TIMEOUT):
        """Send sig; return (exit code or None if still running, seconds taken)."""
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self._wait_exit(timeout)
        return rc, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self._wait_exit(5)

    def close_files(self):
        # Only close stdout once the reader thread saw EOF: closing a pipe that
        # another thread is blocked reading deadlocks.
        self._reader.join(2)
        if self.proc.stdout and not self._reader.is_alive():
            with contextlib.suppress(OSError):
                self.proc.stdout.close()


@pytest.fixture
def socksbox(tmp_path):
    """Factory: socksbox(*args, listen=(...), config=None) -> SocksServer.

    On teardown every server still running gets SIGTERM and must exit 0
    within 10 s.
    """
    started: list[SocksServer] = []
    binary = server_binary()

    def start(
        *args, listen=("127.0.0.1:0", "[::1]:0"), config: str | None = None, expect_listeners=None, log_level=None
    ):
        if not binary.exists():
            pytest.fail(
                f"server binary {binary} does not exist: build it (cargo build -p proxy-core) "
                f"or point SOCKSBOX_SERVER at it"
            )
        cmd = [binary]
        for addr in listen or ():
            cmd += ["--listen", addr]
        if config is not None:
            cfg = tmp_path / f"config-{len(started)}.toml"
            cfg.write_text(config)
            cmd += ["--config", cfg]
        cmd += list(args)
        if "--log-level" not in args:
            cmd += ["--log-level", log_level or os.environ.get("SOCKSBOX_LOG_LEVEL", "debug")]
        n = expect_listeners if expect_listeners is not None else len(listen or ())
        srv = SocksServer(cmd, tmp_path, n)
        started.append(srv)
        return srv

    yield start

    problems = []
    for srv in started:
        was_running = srv.proc.poll() is None
        rc, took = srv.stop(signal.SIGTERM, STOP_TIMEOUT)
        if rc is None:
            srv.kill()
            problems.append(
                f"server pid {srv.pid} did not exit within {STOP_TIMEOUT}s of SIGTERM\nstderr:\n{srv.stderr_text()}"
            )
        elif rc != 0:
            problems.append(
                f"server pid {srv.pid} {'exited' if was_running else 'had already exited'} with code {rc} "
                f"(expected 0 after SIGTERM)\nstderr:\n{srv.stderr_text()}"
            )
        srv.close_files()
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture
def server(socksbox):
    """A server without passwords, listening on 127.0.0.1 and ::1."""
    return socksbox()


@pytest.fixture
def auth_server(socksbox):
    """A server requiring USER:PASSWORD."""
    return socksbox("--user", f"{USER}:{PASSWORD}")


# ---------------------------------------------------------------------------
# HTTP server (127.0.0.1 and ::1, same port)
# ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        content = self.server.content  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        if path == "/peer":
            body = f"{self.client_address[0]} {self.client_address[1]}\n".encode()
        elif path in content:
            body = content[path]
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        mv = memoryview(body)
        for i in range(0, len(body), 1 << 18):
            self.wfile.write(mv[i : i + (1 << 18)])
        self.close_connection = True


class _V4Server(ThreadingHTTPServer):
    address_family = socket.AF_INET
    daemon_threads = True
    allow_reuse_address = False


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = False

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


class HttpTarget:
    def __init__(self, big: bytes):
        self.big = big
        self.big_sha256 = hashlib.sha256(big).hexdigest()
        self.small = SMALL_BODY
        content = {"/big": big, "/small": SMALL_BODY}
        for _ in range(50):
            s4 = _V4Server(("127.0.0.1", 0), _Handler)
            port = s4.server_address[1]
            try:
                s6 = _V6Server(("::1", port), _Handler)
            except OSError:
                s4.server_close()
                continue
            break
        else:
            raise RuntimeError("no common port for the HTTP servers")
        self.port = port
        self.servers = [s4, s6]
        self.threads = []
        for s in self.servers:
            s.content = content
            s.timeout = 1
            t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
            t.start()
            self.threads.append(t)
        for host in ("127.0.0.1", "::1"):
            wait_accepting((host, port))

    def url(self, host: str, path: str) -> str:
        h = f"[{host}]" if ":" in host else host
        return f"http://{h}:{self.port}{path}"

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()


@pytest.fixture(scope="session")
def http_target():
    big = random.Random(1928).randbytes(BIG_SIZE)
    srv = HttpTarget(big)
    yield srv
    srv.close()


# ---------------------------------------------------------------------------
# TCP echo server (127.0.0.1 and ::1, same port)
# ---------------------------------------------------------------------------


class EchoTarget:
    """Echo everything back; when the client half-closes, finish and close."""

    def __init__(self):
        s4, s6, port = bind_same_port(socket.SOCK_STREAM)
        self.port = port
        self.socks = [s4, s6]
        self.stop = threading.Event()
        self.peers: list = []
        self.threads = []
        for s in self.socks:
            s.listen(128)
            s.settimeout(0.2)
            t = threading.Thread(target=accept_loop, args=(s, self.stop, self._serve, self.peers), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn):
        echo(conn, self.stop, timeout=30)

    def close(self):
        self.stop.set()
        for s in self.socks:
            s.close()


@pytest.fixture(scope="session")
def echo_target():
    e = EchoTarget()
    yield e
    e.close()


# ---------------------------------------------------------------------------
# UDP echo server (127.0.0.1 and ::1, same port)
# ---------------------------------------------------------------------------


class UdpEchoTarget:
    def __init__(self):
        s4, s6, port = bind_same_port(socket.SOCK_DGRAM)
        self.port = port
        self.socks = [s4, s6]
        self.stop = threading.Event()
        self.seen: list = []  # (src addr, data)
        self.threads = []
        for s in self.socks:
            s.settimeout(0.2)
            t = threading.Thread(target=self._loop, args=(s,), daemon=True)
            t.start()
            self.threads.append(t)

    def _loop(self, s):
        while not self.stop.is_set():
            try:
                data, src = s.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.seen.append((src, data))
            with contextlib.suppress(OSError):
                s.sendto(data, src)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(2)
        for s in self.socks:
            s.close()


@pytest.fixture(scope="session")
def udp_echo_target():
    u = UdpEchoTarget()
    yield u
    u.close()
