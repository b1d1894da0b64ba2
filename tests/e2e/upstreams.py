"""Upstream SOCKS servers for the chaining tests: Dante, microsocks and a
small recording SOCKS5 hop written here.

Everything listens on loopback only. Every wait is bounded and waits on an
event (the port accepting, a log line), never on a bare sleep. Every server
started here is always stopped (the fixtures in test_upstream.py call stop()).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import rawsocks as rs
from support import accept_loop, clean_env, echo, require, wait_accepting

DANTED = os.environ.get("SOCKSBOX_DANTED", "/usr/sbin/danted")
MICROSOCKS = os.environ.get("SOCKSBOX_MICROSOCKS", shutil.which("microsocks") or "/usr/bin/microsocks")

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
START_ATTEMPTS = 3

DANTE_TEST_USER = "socksboxtest"


def danted_available() -> bool:
    return os.access(DANTED, os.X_OK)


def microsocks_available() -> bool:
    return os.access(MICROSOCKS, os.X_OK)


def is_root() -> bool:
    return os.geteuid() == 0


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """A port that was free a moment ago (the caller retries on a lost race)."""
    s = socket.socket(rs.family_of(host), kind)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_text(read, pattern: str, timeout: float, flags: int = 0):
    """Poll read() (returns the current text) until pattern matches; return the match or None."""
    rx = re.compile(pattern, flags)
    deadline = time.monotonic() + timeout
    while True:
        m = rx.search(read())
        if m or time.monotonic() >= deadline:
            return m
        time.sleep(0.05)


class _ProcessGroup:
    """A child started in its own process group, stopped as a whole."""

    def __init__(self, cmd, stderr_path: Path):
        self.cmd = [str(c) for c in cmd]
        self.stderr_path = stderr_path
        # The child writes to its own copy of the descriptor; ours is not needed after the start.
        with open(stderr_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=clean_env(),
                start_new_session=True,
            )
        self.pgid = self.proc.pid

    def text(self) -> str:
        try:
            return self.stderr_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return "<log unavailable>"

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self) -> None:
        if self._group_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_TIMEOUT)
        # workers may outlive the main process for a moment: wait, then force
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._group_alive() and time.monotonic() < deadline:
            # reap the main process if it is a zombie of ours
            self.proc.poll()
            if not self._group_alive():
                break
            time.sleep(0.05)
        if self._group_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT)


class _LoopbackServer:
    """An upstream started as a _ProcessGroup (self.group) listening on
    127.0.0.1:self.port."""

    port: int
    group: _ProcessGroup

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def url(self, scheme: str = "socks5", cred: str | None = None) -> str:
        at = f"{cred}@" if cred else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.group.text()

    def _start(self, name: str, workdir: Path, command) -> None:
        """Starts command(port) on a free port until it accepts there
        (START_ATTEMPTS tries, for a port taken in between)."""
        last_err = None
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            self.group = _ProcessGroup(command(self.port), workdir / f"{name}-{self.port}.log")
            try:
                wait_accepting(("127.0.0.1", self.port), self.group.proc, START_TIMEOUT)
                return
            except RuntimeError as e:
                last_err = e
                self.group.stop()
        raise RuntimeError(f"{name} did not start: {last_err}\nlog:\n{self.group.text()}")

    def stop(self):
        self.group.stop()


def upstream_factory(tmp_path, cls, name: str, available: bool, binary: str, package: str):
    """The body of an upstream fixture: skip when the program is missing
    (fail with SOCKSBOX_REQUIRE_ALL=1), start(**kw) -> cls(tmp_path, **kw)
    failing the test if it does not come up, and stop every one started at
    teardown."""
    require(available, f"{name} is not installed ({binary} missing): apt-get install -y {package}")
    started = []

    def start(**kw):
        try:
            server = cls(tmp_path, **kw)
        except RuntimeError as e:
            pytest.fail(f"could not start {name}: {e}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# ---------------------------------------------------------------------------
# Dante
# ---------------------------------------------------------------------------


class Dante(_LoopbackServer):
    """danted on 127.0.0.1:<free port>.

    external: the loopback address Dante uses for its own side (outgoing
    connections, BIND listeners, UDP relaying); a distinct 127.0.0.x makes the
    path visible at the target. auth: None or "username" (system users).
    """

    def __init__(self, workdir: Path, external: str = "127.0.0.1", auth: str | None = None):
        self.external = external
        self.auth = auth
        last_err = None
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            self.config_path = workdir / f"danted-{self.port}.conf"
            self.config_path.write_text(self._config())
            self.pidfile = workdir / f"danted-{self.port}.pid"
            self.group = _ProcessGroup(
                [DANTED, "-f", self.config_path, "-p", self.pidfile, "-N", "1"],
                workdir / f"danted-{self.port}.log",
            )
            try:
                wait_accepting(("127.0.0.1", self.port), self.group.proc, START_TIMEOUT)
                wait_text(self.group.text, r"running", 2.0)  # nice to have, not required
                return
            except RuntimeError as e:
                last_err = e
                log = self.group.text()
                self.group.stop()
                if "in use" not in log and "EADDRINUSE" not in log:
                    break
        raise RuntimeError(f"danted did not start: {last_err}\nconfig:\n{self._config()}\nlog:\n{self.group.text()}")

    def _config(self) -> str:
        method = "username" if self.auth == "username" else "none"
        users = ""
        if is_root():
            users = "user.privileged: root\nuser.unprivileged: nobody\n"
        return (
            "logoutput: stderr\n"
            f"internal: 127.0.0.1 port = {self.port}\n"
            f"external: {self.external}\n"
            "clientmethod: none\n"
            f"socksmethod: {method}\n"
            f"{users}"
            "timeout.negotiate: 5\n"
            "timeout.connect: 5\n"
            "client pass {\n"
            "  from: 127.0.0.0/8 to: 0.0.0.0/0\n"
            "  log: error connect disconnect\n"
            "}\n"
            "socks pass {\n"
            "  from: 127.0.0.0/8 to: 0.0.0.0/0\n"
            "  command: bind connect udpassociate bindreply udpreply\n"
            "  log: error connect disconnect\n"
            "}\n"
        )


def ensure_dante_user(password: str) -> str:
    """Create (or reset) the system user Dante checks passwords against. Root only."""
    name = DANTE_TEST_USER
    exists = subprocess.run(["id", name], capture_output=True, timeout=10).returncode == 0
    if not exists:
        r = subprocess.run(
            ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            timeout=20,
        )
        if r.returncode != 0:
            raise RuntimeError(f"useradd {name} failed: {r.stderr.decode(errors='replace')}")
    r = subprocess.run(["chpasswd"], input=f"{name}:{password}\n".encode(), capture_output=True, timeout=20)
    if r.returncode != 0:
        raise RuntimeError(f"chpasswd for {name} failed: {r.stderr.decode(errors='replace')}")
    return name


def remove_dante_user() -> None:
    subprocess.run(["userdel", DANTE_TEST_USER], capture_output=True, timeout=20)


# ---------------------------------------------------------------------------
# microsocks
# ---------------------------------------------------------------------------


class Microsocks(_LoopbackServer):
    """microsocks on 127.0.0.1:<free port>; bind: source address of its outgoing connections."""

    def __init__(self, workdir: Path, user: str | None = None, password: str | None = None, bind: str | None = None):
        def command(port: int) -> list:
            cmd = [MICROSOCKS, "-i", "127.0.0.1", "-p", str(port)]
            if user is not None:
                cmd += ["-u", user, "-P", password]
            if bind is not None:
                cmd += ["-b", bind]
            return cmd

        self._start("microsocks", workdir, command)


# ---------------------------------------------------------------------------
# a recording SOCKS5 hop (never resolves a name)
# ---------------------------------------------------------------------------


@dataclass
class HopRequest:
    cmd: int
    atyp: int
    host: str
    port: int


class RecordingHop:
    """A minimal SOCKS5 server (no auth) that records every request.

    CONNECT to a name in `names` (name -> IP) or to an IP in `ips` is carried
    out and relayed; anything else is answered with `reply` (default 0x04)
    and closed. It never resolves a name: only the names it was given work,
    which makes it "a name only the last hop can resolve".
    """

    def __init__(self, names: dict | None = None, reply: int = 0x04, ips=()):
        self.names = dict(names or {})
        self.ips = set(ips)
        self.reply = reply
        self.requests: list[HopRequest] = []
        self.connections = 0
        self.stop_event = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def url(self, scheme: str = "socks5") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def _accept_loop(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        conn.settimeout(5)
        out = None
        try:
            ver, n = rs.recv_exact(conn, 2, 5, "greeting")
            methods = rs.recv_exact(conn, n, 5, "methods")
            if ver != 5 or rs.M_NOAUTH not in methods:
                conn.sendall(b"\x05\xff")
                return
            conn.sendall(b"\x05\x00")
            ver, cmd, _rsv, atyp = rs.recv_exact(conn, 4, 5, "request")
            host, port = rs.read_addr_port(conn, atyp, 5, "request address")
            with self.lock:
                self.requests.append(HopRequest(cmd, atyp, host, port))
            ip = self.names.get(host) if atyp == rs.ATYP_DOMAIN else (host if host in self.ips else None)
            if cmd != rs.CMD_CONNECT or ip is None:
                conn.sendall(bytes([5, self.reply, 0]) + rs.encode_addr_port("0.0.0.0", 0))
                return
            try:
                out = rs.tcp_connect((ip, port), timeout=5)
            except OSError:
                conn.sendall(bytes([5, 0x05, 0]) + rs.encode_addr_port("0.0.0.0", 0))
                return
            bnd = out.getsockname()
            conn.sendall(bytes([5, 0, 0]) + rs.encode_addr_port(bnd[0], bnd[1]))
            t = threading.Thread(target=self._pump, args=(out, conn), daemon=True)
            t.start()
            self._pump(conn, out)
            t.join(30)
        except (OSError, AssertionError):
            pass
        finally:
            conn.close()
            if out is not None:
                out.close()

    def _pump(self, src: socket.socket, dst: socket.socket):
        src.settimeout(30)
        try:
            while not self.stop_event.is_set():
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def snapshot(self) -> list[HopRequest]:
        with self.lock:
            return list(self.requests)

    def stop(self):
        self.stop_event.set()
        self.sock.close()
        self.thread.join(2)


# ---------------------------------------------------------------------------
# TCP + UDP echo on one 127.0.0.1 port (a target for --check-upstream)
# ---------------------------------------------------------------------------


class TcpUdpEcho:
    def __init__(self, attempts: int = 50):
        for _ in range(attempts):
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                t.close()
                u.close()
                continue
            break
        else:
            raise RuntimeError("no port free for both TCP and UDP on 127.0.0.1")
        self.port = port
        self.tcp, self.udp = t, u
        self.tcp.listen(16)
        self.tcp.settimeout(0.2)
        self.udp.settimeout(0.2)
        self.stop_event = threading.Event()
        self.tcp_peers: list = []
        self.udp_seen: list = []
        self.threads = [
            threading.Thread(
                target=accept_loop, args=(self.tcp, self.stop_event, self._serve, self.tcp_peers), daemon=True
            ),
            threading.Thread(target=self._udp_loop, daemon=True),
        ]
        for th in self.threads:
            th.start()

    def _serve(self, conn):
        echo(conn, self.stop_event, timeout=10)

    def _udp_loop(self):
        while not self.stop_event.is_set():
            try:
                data, src = self.udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.udp_seen.append((src, data))
            with contextlib.suppress(OSError):
                self.udp.sendto(data, src)

    def close(self):
        self.stop_event.set()
        for th in self.threads:
            th.join(2)
        self.tcp.close()
        self.udp.close()


def silent_listener(host: str = "127.0.0.1"):
    """A listening socket that never accepts: TCP connects succeed, nothing is ever said."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(16)
    return s, s.getsockname()[1]


# ---------------------------------------------------------------------------
# tinyproxy: a real HTTP proxy as an upstream hop
# ---------------------------------------------------------------------------

TINYPROXY = os.environ.get("SOCKSBOX_TINYPROXY", shutil.which("tinyproxy") or "/usr/bin/tinyproxy")


def tinyproxy_available() -> bool:
    return os.access(TINYPROXY, os.X_OK)


class Tinyproxy(_LoopbackServer):
    """tinyproxy on 127.0.0.1:<free port>, in the foreground, logging each
    request (its CONNECT lines) to its stderr. user/password: BasicAuth."""

    def __init__(self, workdir: Path, user: str | None = None, password: str | None = None):
        self.user, self.password = user, password

        def command(port: int) -> list:
            config = workdir / f"tinyproxy-{port}.conf"
            config.write_text(self._config(port))
            return [TINYPROXY, "-d", "-c", config]

        self._start("tinyproxy", workdir, command)

    def _config(self, port: int) -> str:
        lines = [
            f"Port {port}",
            "Listen 127.0.0.1",
            "Timeout 30",
            "LogLevel Connect",
            "MaxClients 64",
            "Allow 127.0.0.1",
            "DisableViaHeader Yes",
        ]
        if is_root():
            lines += ["User nobody", "Group nogroup"]
        if self.user:
            lines.append(f"BasicAuth {self.user} {self.password}")
        return "\n".join(lines) + "\n"

    def url(self, scheme: str = "http", cred: str | None = None) -> str:
        return super().url(scheme, cred)

    def requests(self) -> list[str]:
        """The request lines it logged ("CONNECT host:port HTTP/1.1", ...)."""
        return re.findall(r"Request \(file descriptor \d+\): (.+)", self.log())
