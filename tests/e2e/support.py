"""Plain helpers shared by the test modules (no fixtures here)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import rawsocks

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "target" / "debug" / "socksbox-server"


def server_binary() -> Path:
    """The binary under test: $SOCKSBOX_SERVER or <repo>/target/debug/socksbox-server."""
    return Path(os.environ.get("SOCKSBOX_SERVER", str(DEFAULT_BINARY)))


USER = "alice"
PASSWORD = "s3cret-pw"

REQUIRE_ALL = "SOCKSBOX_REQUIRE_ALL"


def require_all() -> bool:
    """True when $SOCKSBOX_REQUIRE_ALL is set to anything but "" or "0"
    (scripts/test sets 1): every test must run, none may skip."""
    return os.environ.get(REQUIRE_ALL, "") not in ("", "0")


def require(condition: bool, why: str) -> None:
    """Skip the test unless condition holds, saying why; with
    SOCKSBOX_REQUIRE_ALL=1 fail it instead, so that a run on a machine that
    lacks a tool or a privilege (CI, scripts/test) cannot look green."""
    if condition:
        return
    if require_all():
        pytest.fail(f"{why} ({REQUIRE_ALL}={os.environ[REQUIRE_ALL]}: a test that cannot run fails)", pytrace=False)
    pytest.skip(why)


def wait_log(srv, pattern: str, what: str, timeout: float = 10.0) -> str:
    """The first text of the server's log (the last 60 kB of its stderr)
    matching `pattern`, waiting up to `timeout`; fails the test naming
    `what` and showing the log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, srv.stderr_text(60000))
        if m:
            return m.group(0)
        time.sleep(0.05)
    pytest.fail(f"{what}: no log line matching {pattern!r} within {timeout}s\n{srv.stderr_text()}")


def clean_env() -> dict:
    """Environment for child processes without any proxy variables."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.setdefault("RUST_BACKTRACE", "1")
    return env


# ---------------------------------------------------------------------------
# port helpers
# ---------------------------------------------------------------------------


def bind_same_port(kind: int, attempts: int = 50):
    """Bind a socket on 127.0.0.1 and one on ::1 with the same port number."""
    for _ in range(attempts):
        s4 = socket.socket(socket.AF_INET, kind)
        s4.bind(("127.0.0.1", 0))
        port = s4.getsockname()[1]
        s6 = socket.socket(socket.AF_INET6, kind)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s6.bind(("::1", port))
        except OSError:
            s4.close()
            s6.close()
            continue
        return s4, s6, port
    raise RuntimeError("could not find a port free on both 127.0.0.1 and ::1")


def wait_accepting(addr, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    """Return once addr accepts a TCP connection; raise RuntimeError if proc
    (when given) exits first or time runs out."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with code {proc.returncode} before {addr} accepted")
        try:
            c = rawsocks.tcp_connect(addr, timeout=1)
        except OSError as e:
            last = e
            time.sleep(0.05)
            continue
        c.close()
        return
    raise RuntimeError(f"{addr} did not accept within {timeout}s (last error: {last})")


def refused_port(host: str = "127.0.0.1"):
    """A socket bound (not listening) on host: connecting to its port is refused.

    Keep the returned socket open for as long as the port must stay refused.
    """
    s = socket.socket(rawsocks.family_of(host), socket.SOCK_STREAM)
    s.bind((host, 0))
    return s, s.getsockname()[1]


# ---------------------------------------------------------------------------
# external tools
# ---------------------------------------------------------------------------


def run_tool(cmd, timeout: float = 30, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run an external client with a hard timeout."""
    try:
        return subprocess.run(
            [str(c) for c in cmd],
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=clean_env(),
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{cmd} did not finish within {timeout}s; stdout={e.stdout!r:.300} stderr={e.stderr!r:.500}")


def curl(*args, max_time: int = 20) -> subprocess.CompletedProcess:
    cmd = ["curl", "-sS", "--noproxy", "", "--max-time", str(max_time), "--connect-timeout", "5", *args]
    return run_tool(cmd, timeout=max_time + 10)


# ---------------------------------------------------------------------------
# ad-hoc TCP targets
# ---------------------------------------------------------------------------


def listen_on(host: str, backlog: int = 8) -> socket.socket:
    """A listening TCP socket on host, port chosen by the OS."""
    s = socket.socket(rawsocks.family_of(host), socket.SOCK_STREAM)
    if ":" in host:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, 0))
    s.listen(backlog)
    s.settimeout(rawsocks.DEFAULT_TIMEOUT)
    return s


def accept_one(lsock: socket.socket, timeout: float = rawsocks.DEFAULT_TIMEOUT, what: str = "target"):
    """Accept one connection or fail the test saying the server never connected."""
    lsock.settimeout(timeout)
    try:
        conn, peer = lsock.accept()
    except TimeoutError:
        pytest.fail(f"{what} on {lsock.getsockname()[:2]} received no connection within {timeout}s")
    conn.settimeout(rawsocks.DEFAULT_TIMEOUT)
    return conn, peer


def accept_loop(lsock: socket.socket, stop: threading.Event, serve, peers: list | None = None) -> None:
    """Accept on lsock (give it a short timeout) until stop is set or the
    socket is closed; each connection goes to serve(conn) on a thread of its
    own, and its peer address to `peers` when given."""
    while not stop.is_set():
        try:
            conn, peer = lsock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        if peers is not None:
            peers.append(peer)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def echo(conn: socket.socket, stop: threading.Event, timeout: float) -> None:
    """Send back everything conn sends until it half-closes (then half-close
    too) or stop is set; closes conn. A silent peer ends it after `timeout`."""
    conn.settimeout(timeout)
    try:
        while not stop.is_set():
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        conn.close()


def nothing_accepted(lsock: socket.socket, timeout: float) -> bool:
    """True if no connection arrives on lsock within timeout."""
    lsock.settimeout(timeout)
    try:
        conn, _ = lsock.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


def hostname_on_loopback() -> str | None:
    """A name this machine's hosts file maps to a loopback address (not
    localhost, which the server treats as loopback by itself)."""
    with open("/etc/hosts") as f:
        for line in f:
            fields = line.split("#")[0].split()
            if len(fields) >= 2 and fields[0].startswith("127."):
                for name in fields[1:]:
                    if "localhost" not in name:
                        return name
    return None
