"""Chaining through upstream SOCKS proxies, end to end, on loopback only.

--upstream URL (repeatable, hop order), --route MATCHER=ACTION, the TOML
[upstream]/[routing] sections, SIGHUP reloads and --check-upstream.

Upstreams used: Dante (danted), microsocks, our own server, and a small
recording SOCKS5 hop (upstreams.RecordingHop) that never resolves a name.

How the path is proven:
- Dante runs with `external: 127.0.0.5` and microsocks with `-b 127.0.0.3`:
  a target reached through them sees that source address (HTTP /peer), while
  our server's own connections come from 127.0.0.1.
- Our own server as a hop logs `session started ... command=X target=Y` at
  debug level: Y is exactly what the previous hop asked for (a name stays a
  name, an IP an IP).
- The recording hop records every request it gets (ATYP, host, port).

Loopback targets go direct by default when a chain is set (private_direct),
so the servers here route them into the chain with --route (or
private_direct = false in TOML).

Names other than "localhost" are only ever sent to the recording hop, and
only after a guard proved that the server forwards names unresolved: a
server that looked them up would send a DNS query off the machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import signal
import socket
import time
from pathlib import Path

import pytest
import socks  # PySocks

import rawsocks as rs
import upstreams as up
from support import PASSWORD, USER, curl, refused_port, require, run_tool, server_binary

LO4 = ("127.0.0.1:0",)
LO6 = ("[::1]:0",)
CONNECT_TIMEOUT_S = 2
FAST = ("--connect-timeout", f"{CONNECT_TIMEOUT_S}s", "--handshake-timeout", "5s")
# Make loopback targets (IP literals and "localhost") use the chain.
VIA_CHAIN = ("--route", "cidr:127.0.0.0/8=chain", "--route", "suffix:localhost=chain")
DANTE_EXT = "127.0.0.5"  # Dante's outgoing/BIND/UDP address
MICRO_BIND = "127.0.0.3"  # microsocks' outgoing address
LOG_WAIT = 3.0
IO_TIMEOUT = 5.0

SESSION_RE = re.compile(
    r"session started id=(?P<id>\d+) peer=\S+ protocol=\S+ user=\S+ command=(?P<cmd>CONNECT|BIND|UDP ASSOCIATE) "
    r"target=(?P<target>\S+)"
)


# ---------------------------------------------------------------------------
# fixtures: upstream servers
# ---------------------------------------------------------------------------


@pytest.fixture
def dante(tmp_path):
    """Factory: dante(external=..., auth=None|"username") -> up.Dante; all stopped at teardown."""
    yield from up.upstream_factory(tmp_path, up.Dante, "Dante", up.danted_available(), up.DANTED, "dante-server")


@pytest.fixture
def microsocks(tmp_path):
    """Factory: microsocks(user=..., password=..., bind=...) -> up.Microsocks; all stopped at teardown."""
    yield from up.upstream_factory(
        tmp_path, up.Microsocks, "microsocks", up.microsocks_available(), up.MICROSOCKS, "microsocks"
    )


@pytest.fixture
def recording_hop():
    """Factory: recording_hop(names={name: ip}, reply=0x04) -> up.RecordingHop."""
    started: list[up.RecordingHop] = []

    def start(**kw):
        h = up.RecordingHop(**kw)
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


@pytest.fixture(scope="session")
def dante_user():
    """A system user for Dante's username method: (name, password). Created once, removed at the end."""
    require(
        up.is_root(),
        f"Dante's username method checks system users and creating one needs root (running as uid {os.geteuid()})",
    )
    require(up.danted_available(), f"Dante is not installed ({up.DANTED} missing): apt-get install -y dante-server")
    password = "dt-" + secrets.token_hex(8)
    try:
        name = up.ensure_dante_user(password)
    except RuntimeError as e:
        pytest.fail(f"could not create the Dante test user: {e}")
    yield name, password
    up.remove_dante_user()


@pytest.fixture
def tcp_udp_echo():
    e = up.TcpUdpEcho()
    yield e
    e.close()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def hop_url(srv, scheme: str = "socks5", cred: str | None = None, v6: bool = False) -> str:
    """The --upstream URL of one of our own servers."""
    host, port = srv.addr6 if v6 else srv.addr4
    h = f"[{host}]" if ":" in host else host
    at = f"{cred}@" if cred else ""
    return f"{scheme}://{at}{h}:{port}"


def upstream_args(*urls) -> list:
    args = []
    for u in urls:
        args += ["--upstream", u]
    return args


def chaining_server(socksbox, *urls, extra=(), via_chain=True):
    """Our first server: the given chain, loopback targets routed into it."""
    return socksbox(*upstream_args(*urls), *(VIA_CHAIN if via_chain else ()), *FAST, *extra, listen=LO4)


def log_of(srv) -> str:
    return srv.stderr_text(tail=10**7)


def sessions(srv, command: str | None = None):
    """(id, command, target) of every session our server started, from its debug log."""
    out = []
    for m in SESSION_RE.finditer(log_of(srv)):
        if command is None or m.group("cmd") == command:
            out.append((m.group("id"), m.group("cmd"), m.group("target")))
    return out


def wait_session(srv, command: str, target: str | None = None, what: str = "hop", timeout: float = LOG_WAIT):
    """Wait until srv logs a session with that command (and target); return its id."""
    deadline = time.monotonic() + timeout
    while True:
        for sid, _, tgt in sessions(srv, command):
            if target is None or tgt == target:
                return sid
        if time.monotonic() >= deadline:
            pytest.fail(
                f"{what} never started a {command} session"
                + (f" to target={target}" if target else "")
                + f" within {timeout}s; its sessions: {sessions(srv)}"
            )
        time.sleep(0.05)


def wait_log(srv_or_read, pattern: str, timeout: float = LOG_WAIT, what: str = "server log"):
    read = srv_or_read if callable(srv_or_read) else (lambda: log_of(srv_or_read))
    m = up.wait_text(read, pattern, timeout, re.MULTILINE)
    if m is None:
        pytest.fail(f"{what} has no line matching {pattern!r} within {timeout}s; log tail:\n{read()[-3000:]}")
    line_start = m.string.rfind("\n", 0, m.start()) + 1
    line_end = m.string.find("\n", m.end())
    print(f"{what}: {m.string[line_start : line_end if line_end >= 0 else None]}")
    return m


def hop_label(n: int, url_no_cred: str) -> str:
    """Regex for the hop as the server names it in logs: `hop N (URL)` (a user name may stay, never a password)."""
    scheme, rest = url_no_cred.split("://", 1)
    return rf"hop {n} \({re.escape(scheme)}://(?:[^:@\s()]+@)?{re.escape(rest)}\)"


def echo(sock, payload: bytes, what: str = "echo"):
    sock.sendall(payload)
    got = rs.recv_exact(sock, len(payload), IO_TIMEOUT, what)
    assert got == payload, f"{what}: sent {payload!r}, the echo server sent back {got!r}"


def connect_ok(srv, host, port: int, what: str = "CONNECT"):
    sock, rep = rs.connect5(srv.addr4, host, port)
    if rep.rep != 0:
        sock.close()
        pytest.fail(
            f"{what}: CONNECT to {host}:{port} via {srv.addr4} answered {rep}; server log:\n{log_of(srv)[-2500:]}"
        )
    return sock


def connect_rep(srv, host, port: int) -> rs.Reply5:
    sock, rep = rs.connect5(srv.addr4, host, port)
    sock.close()
    return rep


def http_peer(sock) -> str:
    """GET /peer over an open relay: the source address the HTTP server saw."""
    sock.sendall(b"GET /peer HTTP/1.1\r\nHost: target\r\nConnection: close\r\n\r\n")
    data = rs.recv_all_until_eof(sock, IO_TIMEOUT)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), f"GET /peer through the chain: unexpected response {data[:200]!r}"
    return body.split()[0].decode()


def curl_peer(srv, http_target, host: str = "localhost") -> str:
    res = curl("-x", f"socks5h://127.0.0.1:{srv.addr4[1]}", http_target.url(host, "/peer"))
    assert res.returncode == 0, (
        f"curl through {srv.addr4} to {host} failed: exit {res.returncode}, "
        f"{res.stderr.decode(errors='replace').strip()[:400]}\nserver log:\n{log_of(srv)[-2000:]}"
    )
    return res.stdout.split()[0].decode()


def require_unresolved_names(first, hop):
    """Guard before sending names only the recording hop knows (see the module doc)."""
    before = len(hop.snapshot())
    sock, rep = rs.connect5(first.addr4, "localhost", 9)
    sock.close()
    new = hop.snapshot()[before:]
    if not any(r.atyp == rs.ATYP_DOMAIN and r.host == "localhost" for r in new):
        pytest.fail(
            f"'localhost' routed into a chain whose last hop is SOCKS5 did not reach that hop as a name "
            f"(client got {rep}; the hop saw {new}); not sending names that only the last hop knows, "
            f"since the server would look them up in DNS"
        )


def toml_list(items) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def chain_toml(urls, private_direct: bool | None = False, default: str | None = None, rules: str | None = None) -> str:
    lines = ["[upstream]", f"chain = {toml_list(urls)}", "", "[routing]"]
    if default is not None:
        lines.append(f'default = "{default}"')
    if private_direct is not None:
        lines.append(f"private_direct = {'true' if private_direct else 'false'}")
    if rules is not None:
        lines.append(f"rules = {rules}")
    return "\n".join(lines) + "\n"


def config_path(srv) -> Path:
    return Path(srv.cmd[srv.cmd.index("--config") + 1])


# ---------------------------------------------------------------------------
# 1. CONNECT through one hop
# ---------------------------------------------------------------------------


def test_connect_through_dante_hop_reaches_target_from_dante(socksbox, dante, http_target):
    d = dante(external=DANTE_EXT)
    first = chaining_server(socksbox, d.url())
    peer = curl_peer(first, http_target, "localhost")
    assert peer == DANTE_EXT, (
        f"curl via our server (chain: Dante) to localhost: the HTTP server saw the connection from {peer}, "
        f"expected Dante's external address {DANTE_EXT}\nDante log:\n{d.log()[-1500:]}"
    )
    sock = connect_ok(first, "127.0.0.1", http_target.port, "raw client via Dante")
    with sock:
        peer = http_peer(sock)
    assert peer == DANTE_EXT, f"raw CONNECT via our server (chain: Dante): target saw {peer}, expected {DANTE_EXT}"


def test_connect_through_microsocks_with_password(socksbox, microsocks, http_target):
    mpass = "mp-" + secrets.token_hex(6)
    m = microsocks(user="muser", password=mpass, bind=MICRO_BIND)
    probe = rs.tcp_connect(m.addr)
    with probe:
        assert rs.negotiate5(probe, (rs.M_NOAUTH,)) == rs.M_NONE, "microsocks started with -u/-P accepts no-auth"
    first = chaining_server(socksbox, m.url(cred=f"muser:{mpass}"))
    peer = curl_peer(first, http_target, "localhost")
    assert peer == MICRO_BIND, (
        f"curl via our server (chain: microsocks with a password): target saw {peer}, expected {MICRO_BIND}"
    )
    sock = connect_ok(first, "127.0.0.1", http_target.port, "raw client via microsocks")
    with sock:
        peer = http_peer(sock)
    assert peer == MICRO_BIND, f"raw CONNECT via microsocks: target saw {peer}, expected {MICRO_BIND}"
    assert mpass not in log_of(first), "our server's log contains the upstream password"


def test_connect_through_dante_with_username_password(socksbox, dante, dante_user, http_target):
    name, password = dante_user
    d = dante(external=DANTE_EXT, auth="username")
    first = chaining_server(socksbox, d.url(cred=f"{name}:{password}"))
    peer = curl_peer(first, http_target, "localhost")
    assert peer == DANTE_EXT, f"via Dante with username auth: target saw {peer}, expected {DANTE_EXT}"
    assert f"username%{name}@" in d.log(), f"Dante did not log a session authenticated as {name}:\n{d.log()[-1500:]}"
    sock = connect_ok(first, "127.0.0.1", http_target.port, "raw client via Dante with username auth")
    with sock:
        assert http_peer(sock) == DANTE_EXT, "raw CONNECT via Dante with username auth did not come from Dante"
    assert password not in log_of(first), "our server's log contains the upstream password"


HOP_KINDS = [
    ("plain-v4", False, False),
    ("password-v4", True, False),
    ("plain-ipv6-hop", False, True),
]


@pytest.mark.parametrize("auth,v6", [k[1:] for k in HOP_KINDS], ids=[k[0] for k in HOP_KINDS])
def test_connect_through_our_own_server_hop(socksbox, http_target, echo_target, auth, v6):
    hop_args = ("--user", f"{USER}:{PASSWORD}") if auth else ()
    hop = socksbox(*hop_args, listen=LO6 if v6 else LO4)
    first = chaining_server(socksbox, hop_url(hop, cred=f"{USER}:{PASSWORD}" if auth else None, v6=v6))
    res = curl("-x", f"socks5h://127.0.0.1:{first.addr4[1]}", http_target.url("localhost", "/small"))
    assert res.returncode == 0 and res.stdout == http_target.small, (
        f"curl via our server (chain: our hop) failed: exit {res.returncode}, body {res.stdout[:100]!r}, "
        f"{res.stderr.decode(errors='replace')[:300]}\nlog:\n{log_of(first)[-2000:]}"
    )
    wait_session(hop, "CONNECT", f"localhost:{http_target.port}", "the hop (for curl)")
    sock = connect_ok(first, "127.0.0.1", echo_target.port, "raw client via our hop")
    with sock:
        echo(sock, b"through one hop \x00\xff" * 50)
    wait_session(hop, "CONNECT", f"127.0.0.1:{echo_target.port}", "the hop (for the raw client)")
    if auth:
        assert PASSWORD not in log_of(first), "our server's log contains the upstream password"


# ---------------------------------------------------------------------------
# 2. two and three hops
# ---------------------------------------------------------------------------


def test_connect_through_two_hops_ours_then_dante(socksbox, dante, http_target):
    d = dante(external=DANTE_EXT)
    hop1 = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop1), d.url())
    peer = curl_peer(first, http_target, "localhost")
    assert peer == DANTE_EXT, f"chain ours -> Dante: target saw {peer}, expected Dante ({DANTE_EXT})"
    wait_session(hop1, "CONNECT", f"127.0.0.1:{d.port}", "hop 1 (must connect on to Dante, hop 2)")
    assert not any(t.endswith(f":{http_target.port}") for _, _, t in sessions(hop1)), (
        f"hop 1 went to the target itself instead of to Dante: {sessions(hop1)}"
    )


def test_connect_through_three_of_our_servers_in_hop_order(socksbox, http_target, echo_target):
    h1, h2, h3 = socksbox(listen=LO4), socksbox(listen=LO4), socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(h1), hop_url(h2), hop_url(h3))
    sock = connect_ok(first, "127.0.0.1", echo_target.port, "three hops")
    with sock:
        echo(sock, b"three hops" * 100)
    wait_session(h1, "CONNECT", f"127.0.0.1:{h2.addr4[1]}", "hop 1 (must connect to hop 2)")
    wait_session(h2, "CONNECT", f"127.0.0.1:{h3.addr4[1]}", "hop 2 (must connect to hop 3)")
    wait_session(h3, "CONNECT", f"127.0.0.1:{echo_target.port}", "hop 3 (must connect to the target)")
    # a big download stays byte-exact through three hops
    res = curl("-x", f"socks5h://127.0.0.1:{first.addr4[1]}", http_target.url("127.0.0.1", "/big"), max_time=40)
    got = hashlib.sha256(res.stdout).hexdigest()
    assert res.returncode == 0 and got == http_target.big_sha256, (
        f"8 MiB through three hops: curl exit {res.returncode}, {len(res.stdout)} bytes, sha256 {got} "
        f"(expected {len(http_target.big)} bytes {http_target.big_sha256})"
    )


# ---------------------------------------------------------------------------
# 3./4. names reach the last hop unresolved (SOCKS5, SOCKS5h, SOCKS4a); SOCKS4 resolves locally
# ---------------------------------------------------------------------------

NAME_CASES = [
    ("socks5-one-hop", "socks5", 1),
    ("socks5h-one-hop", "socks5h", 1),
    ("socks4a-one-hop", "socks4a", 1),
    ("socks5-two-hops", "socks5", 2),
]


@pytest.mark.parametrize("scheme,nhops", [c[1:] for c in NAME_CASES], ids=[c[0] for c in NAME_CASES])
def test_domain_reaches_last_hop_unresolved(socksbox, echo_target, scheme, nhops):
    last = socksbox(listen=LO4)
    urls = [hop_url(last, scheme)]
    middle = None
    if nhops == 2:
        middle = socksbox(listen=LO4)
        urls.insert(0, hop_url(middle))
    first = chaining_server(socksbox, *urls)
    sock = connect_ok(first, "localhost", echo_target.port, f"CONNECT localhost via {urls}")
    with sock:
        echo(sock, b"by name")
    wait_session(last, "CONNECT", f"localhost:{echo_target.port}", f"the last hop ({scheme})")
    resolved = [s for s in sessions(last) if s[2] != f"localhost:{echo_target.port}"]
    assert not resolved, f"the last hop also got the target as an address (our server resolved it): {resolved}"
    if middle is not None:
        wait_session(middle, "CONNECT", f"127.0.0.1:{last.addr4[1]}", "hop 1 (must connect to the last hop)")
        assert not any("localhost" in t for _, _, t in sessions(middle)), (
            f"the name went to hop 1 instead of the last hop: {sessions(middle)}"
        )


def test_name_only_the_last_hop_can_resolve_is_reached(socksbox, recording_hop, echo_target):
    name = "only-the-last-hop.test"
    last = recording_hop(names={name: "127.0.0.1", "localhost": "127.0.0.1"})
    middle = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(middle), last.url())
    require_unresolved_names(first, last)
    sock = connect_ok(first, name, echo_target.port, f"CONNECT {name} (known only to the last hop)")
    with sock:
        echo(sock, b"name known to the last hop only")
    reqs = [r for r in last.snapshot() if r.host == name]
    assert reqs and all(r.atyp == rs.ATYP_DOMAIN and r.port == echo_target.port for r in reqs), (
        f"the last hop did not get {name}:{echo_target.port} as a name: {last.snapshot()}"
    )


def test_socks4_hop_connects_to_ip_target(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop, "socks4", cred="tester"))
    sock = connect_ok(first, "127.0.0.1", echo_target.port, "via a SOCKS4 hop")
    with sock:
        echo(sock, b"socks4 hop")
    wait_session(hop, "CONNECT", f"127.0.0.1:{echo_target.port}", "the SOCKS4 hop")


def test_socks4_last_hop_forces_local_lookup(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop, "socks4"))
    sock = connect_ok(first, "localhost", echo_target.port, "CONNECT localhost via a SOCKS4 hop")
    with sock:
        echo(sock, b"socks4 local lookup")
    wait_session(
        hop, "CONNECT", f"127.0.0.1:{echo_target.port}", "the SOCKS4 hop (must get the looked-up IPv4 address)"
    )
    assert not any("localhost" in t for _, _, t in sessions(hop)), (
        f"a SOCKS4 hop cannot carry a name, yet its log shows one: {sessions(hop)}"
    )


def test_socks4_client_through_socks5_hop_gets_90(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop))
    sock, rep = rs.connect4(first.addr4, "0.0.0.0", echo_target.port, b"", domain=b"localhost")
    with sock:
        assert (rep.vn, rep.cd) == (0, rs.S4_GRANTED), f"SOCKS4a client via a chain: reply {rep}, expected CD=90"
        echo(sock, b"socks4a client")
    wait_session(hop, "CONNECT", f"localhost:{echo_target.port}", "the hop (SOCKS4a client's name)")


# ---------------------------------------------------------------------------
# 5. BIND
# ---------------------------------------------------------------------------


def bind_data_both_ways(client, peer, label: str):
    client.sendall(b"client->peer " + label.encode())
    got = rs.recv_exact(peer, 13 + len(label), IO_TIMEOUT, f"{label}: data from the client at the peer")
    assert got == b"client->peer " + label.encode(), f"{label}: the peer got {got!r}"
    peer.sendall(b"peer->client " + label.encode())
    got = rs.recv_exact(client, 13 + len(label), IO_TIMEOUT, f"{label}: data from the peer at the client")
    assert got == b"peer->client " + label.encode(), f"{label}: the client got {got!r}"


def bind_through(first, label: str, expect_first_host: str | None):
    client = rs.open5(first.addr4)
    with client:
        client.sendall(rs.request5(rs.CMD_BIND, "127.0.0.1", 0))
        r1 = rs.read_reply5(client, IO_TIMEOUT, f"{label}: first BIND reply")
        assert r1.rep == 0 and r1.port != 0, f"{label}: first BIND reply {r1}\nlog:\n{log_of(first)[-2000:]}"
        if expect_first_host is not None:
            assert r1.host == expect_first_host, (
                f"{label}: first BIND reply names {r1.host}:{r1.port}; it must carry the upstream's listening "
                f"address ({expect_first_host})"
            )
        try:
            peer = rs.tcp_connect((r1.host, r1.port), timeout=IO_TIMEOUT, source="127.0.0.1")
        except OSError as e:
            pytest.fail(
                f"{label}: the peer could not connect to the address of the first reply {r1.host}:{r1.port}: {e}"
            )
        with peer:
            r2 = rs.read_reply5(client, IO_TIMEOUT, f"{label}: second BIND reply")
            assert r2.rep == 0, f"{label}: second BIND reply {r2}"
            assert (r2.host, r2.port) == peer.getsockname(), (
                f"{label}: second BIND reply names {r2.host}:{r2.port}, but the peer is {peer.getsockname()}"
            )
            bind_data_both_ways(client, peer, label)
    return r1


def test_bind_through_our_hop(socksbox):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop))
    bind_through(first, "BIND via our hop", "127.0.0.1")
    wait_session(hop, "BIND", None, "the hop (the BIND must go to the last hop)")


def test_bind_through_chain_keeps_data_sent_before_the_second_reply(socksbox):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop))
    client = rs.open5(first.addr4)
    with client:
        client.sendall(rs.request5(rs.CMD_BIND, "127.0.0.1", 0))
        r1 = rs.read_reply5(client, IO_TIMEOUT, "first BIND reply via the chain")
        assert r1.rep == 0, f"first BIND reply {r1}"
        # Sent while the BIND still waits for its peer: it must not be lost.
        client.sendall(b"early bytes")
        wait_session(hop, "BIND", None, "the hop")
        peer = rs.tcp_connect((r1.host, r1.port), timeout=IO_TIMEOUT, source="127.0.0.1")
        with peer:
            r2 = rs.read_reply5(client, IO_TIMEOUT, "second BIND reply via the chain")
            assert r2.rep == 0, f"second BIND reply {r2}"
            got = rs.recv_exact(peer, len(b"early bytes"), IO_TIMEOUT, "early data at the peer")
            assert got == b"early bytes", f"the peer got {got!r} instead of the bytes sent before the second reply"


def test_bind_through_dante_hop_carries_dantes_address(socksbox, dante):
    d = dante(external=DANTE_EXT)
    first = chaining_server(socksbox, d.url())
    bind_through(first, "BIND via Dante", DANTE_EXT)


def test_bind_through_two_hops_goes_to_the_last(socksbox):
    h1, h2 = socksbox(listen=LO4), socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(h1), hop_url(h2))
    bind_through(first, "BIND via two hops", "127.0.0.1")
    wait_session(h2, "BIND", None, "hop 2 (the last hop must get the BIND)")
    wait_session(h1, "CONNECT", f"127.0.0.1:{h2.addr4[1]}", "hop 1 (must connect on to hop 2)")
    assert not sessions(h1, "BIND"), f"hop 1 got a BIND although it is not the last hop: {sessions(h1)}"


def test_socks4_client_bind_through_chain_gets_90_twice(socksbox):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop))
    client = rs.tcp_connect(first.addr4)
    with client:
        client.sendall(rs.request4(rs.S4_BIND, "127.0.0.1", 21, b"binder"))
        r1 = rs.read_reply4(client, IO_TIMEOUT, "first SOCKS4 BIND reply")
        assert (r1.vn, r1.cd) == (0, rs.S4_GRANTED) and r1.port != 0, f"first SOCKS4 BIND reply via the chain: {r1}"
        peer = rs.tcp_connect((r1.ip, r1.port), timeout=IO_TIMEOUT, source="127.0.0.1")
        with peer:
            r2 = rs.read_reply4(client, IO_TIMEOUT, "second SOCKS4 BIND reply")
            assert r2.cd == rs.S4_GRANTED and (r2.ip, r2.port) == peer.getsockname(), (
                f"second SOCKS4 BIND reply {r2}, peer is {peer.getsockname()}"
            )
            bind_data_both_ways(client, peer, "socks4 bind via chain")
    wait_session(hop, "BIND", None, "the hop (SOCKS4 client's BIND)")


# ---------------------------------------------------------------------------
# 6. UDP ASSOCIATE
# ---------------------------------------------------------------------------


def udp_associate(first, client_udp):
    tcp = rs.open5(first.addr4)
    host, port = client_udp.getsockname()[:2]
    tcp.sendall(rs.request5(rs.CMD_UDP, host, port))
    rep = rs.read_reply5(tcp, IO_TIMEOUT, "UDP ASSOCIATE reply")
    return tcp, rep


def udp_roundtrips(first, udp_echo_target, count: int, label: str):
    client = rs.udp_socket("127.0.0.1")
    with client:
        tcp, rep = udp_associate(first, client)
        with tcp:
            assert rep.rep == 0, f"{label}: UDP ASSOCIATE answered {rep}\nlog:\n{log_of(first)[-2000:]}"
            assert rep.host == "127.0.0.1" and rep.port != 0, (
                f"{label}: reply must name the relay 127.0.0.1:port, got {rep}"
            )
            relay = (rep.host, rep.port)
            payloads = []
            for i in range(count):
                payload = f"{label} datagram {i} ".encode() + secrets.token_bytes(8)
                payloads.append(payload)
                client.sendto(rs.udp_wrap("127.0.0.1", udp_echo_target.port, payload), relay)
                data, frm = rs.udp_recv(client, 3.0)
                assert data is not None, f"{label}: no reply to datagram {i} within 3s\nlog:\n{log_of(first)[-2000:]}"
                assert frm[:2] == relay, f"{label}: reply came from {frm[:2]}, expected the relay {relay}"
                d = rs.udp_unwrap(data)
                assert d.rsv == b"\x00\x00" and d.frag == 0, f"{label}: bad reply header {data[:24]!r}"
                assert (d.atyp, d.host, d.port) == (rs.ATYP_V4, "127.0.0.1", udp_echo_target.port), (
                    f"{label}: reply header names {d.host}:{d.port} (ATYP {d.atyp}); it must name the target "
                    f"127.0.0.1:{udp_echo_target.port}"
                )
                assert d.data == payload, f"{label}: payload came back as {d.data[:80]!r}, expected {payload[:80]!r}"
    return payloads


def test_udp_through_dante_hop(socksbox, dante, udp_echo_target):
    d = dante(external=DANTE_EXT)
    first = chaining_server(socksbox, d.url())
    payloads = udp_roundtrips(first, udp_echo_target, 3, "UDP via Dante")
    sources = {src[0] for src, data in udp_echo_target.seen if data in payloads}
    assert sources == {DANTE_EXT}, (
        f"the UDP target saw the datagrams from {sources}; through Dante they must come from {DANTE_EXT}"
    )


@pytest.mark.parametrize("nhops", [1, 2], ids=["one-hop", "two-hops"])
def test_udp_through_our_hops(socksbox, udp_echo_target, nhops):
    hops = [socksbox(listen=LO4) for _ in range(nhops)]
    first = chaining_server(socksbox, *[hop_url(h) for h in hops])
    udp_roundtrips(first, udp_echo_target, 3, f"UDP via {nhops} of our hops")
    for i, h in enumerate(hops, 1):
        wait_session(h, "UDP ASSOCIATE", None, f"hop {i} (every hop relays UDP)")


def test_pysocks_udp_through_two_hops(socksbox, udp_echo_target):
    h1, h2 = socksbox(listen=LO4), socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(h1), hop_url(h2))
    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    s.set_proxy(socks.SOCKS5, *first.addr4)
    s.settimeout(IO_TIMEOUT)
    try:
        for i in range(3):
            payload = f"pysocks via two hops {i}".encode()
            s.sendto(payload, ("127.0.0.1", udp_echo_target.port))
            try:
                data, src = s.recvfrom(65535)
            except TimeoutError:
                pytest.fail(f"PySocks: no UDP echo for datagram {i} through two hops within {IO_TIMEOUT}s")
            assert data == payload, f"PySocks datagram {i}: got {data!r}, expected {payload!r}"
            assert src[:2] == ("127.0.0.1", udp_echo_target.port), f"PySocks datagram {i}: source {src}"
    finally:
        s.close()
    wait_session(h2, "UDP ASSOCIATE", None, "hop 2")


def test_udp_domain_target_through_hop_is_resolved_by_the_hop(socksbox, udp_echo_target):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop))
    client = rs.udp_socket("127.0.0.1")
    with client:
        tcp, rep = udp_associate(first, client)
        with tcp:
            assert rep.rep == 0, f"UDP ASSOCIATE via our hop answered {rep}"
            relay = (rep.host, rep.port)
            payload = b"udp to localhost via a hop " + secrets.token_bytes(8)
            client.sendto(rs.udp_wrap("localhost", udp_echo_target.port, payload), relay)
            data, frm = rs.udp_recv(client, 3.0)
            assert data is not None, f"no reply to a datagram for localhost:{udp_echo_target.port} through the hop"
            d = rs.udp_unwrap(data)
            # "localhost" is ::1 first, and a datagram for a name goes to its first address
            # (docs/ARCHITECTURE.md); the reply names its real source.
            assert (d.atyp, d.host, d.port, d.data) == (rs.ATYP_V6, "::1", udp_echo_target.port, payload), (
                f"reply to a datagram for localhost through the hop: header {d.host}:{d.port} (ATYP {d.atyp}), "
                f"payload {d.data[:60]!r}; expected [::1]:{udp_echo_target.port} (ATYP 4) and the payload"
            )
    seen_at = [src[0] for src, data in udp_echo_target.seen if data == payload]
    assert seen_at == ["::1"], f"the UDP target got the datagram from {seen_at}, expected once, from ::1"


UDP4_CASES = [
    ("socks4-only", ["socks4"]),
    ("socks4a-only", ["socks4a"]),
    ("socks5-then-socks4a", ["socks5", "socks4a"]),
]


@pytest.mark.parametrize("schemes", [c[1] for c in UDP4_CASES], ids=[c[0] for c in UDP4_CASES])
def test_udp_associate_with_socks4_hop_answers_0x07(socksbox, schemes):
    hops = [socksbox(listen=LO4) for _ in schemes]
    first = chaining_server(socksbox, *[hop_url(h, s) for h, s in zip(hops, schemes, strict=True)])
    client = rs.udp_socket("127.0.0.1")
    with client:
        tcp, rep = udp_associate(first, client)
        tcp.close()
    assert rep.rep == 0x07, f"UDP ASSOCIATE with a SOCKS4/4a hop in the chain {schemes}: expected 0x07, got {rep}"
    wait_log(first, r"(?i)^(?=.*udp)(?=.*socks4).*$", what="our server's log (why UDP is unsupported)")


# ---------------------------------------------------------------------------
# 7. failures
# ---------------------------------------------------------------------------


def test_wrong_upstream_password_microsocks_gives_0x02_and_names_the_hop(socksbox, microsocks, echo_target):
    m = microsocks(user="muser", password="right-pw")
    wrong = "wrong-" + secrets.token_hex(6)
    first = chaining_server(socksbox, m.url(cred=f"muser:{wrong}"))
    rep = connect_rep(first, "127.0.0.1", echo_target.port)
    assert rep.rep == 0x02, f"upstream rejected our password: client must get 0x02, got {rep}"
    line = wait_log(first, rf"^.*{hop_label(1, m.url())}.*$", what="our server's log (naming hop 1)").group(0)
    assert re.search(r"(?i)auth|password|credential|reject|denied", line), f"the hop log line gives no reason: {line}"
    assert wrong not in log_of(first), "our server's log contains the upstream password"


def test_wrong_upstream_password_our_hop_gives_0x02(socksbox, echo_target):
    hop = socksbox("--user", f"{USER}:{PASSWORD}", listen=LO4)
    wrong = "wrong-" + secrets.token_hex(6)
    first = chaining_server(socksbox, hop_url(hop, cred=f"{USER}:{wrong}"))
    rep = connect_rep(first, "127.0.0.1", echo_target.port)
    assert rep.rep == 0x02, f"our hop rejected the password: client must get 0x02, got {rep}"
    wait_log(first, hop_label(1, hop_url(hop)), what="our server's log (naming hop 1)")
    assert wrong not in log_of(first), "our server's log contains the upstream password"
    assert not sessions(hop), f"the hop started a session although the password was wrong: {sessions(hop)}"


def test_upstream_down_gives_0x05_quickly_and_names_the_hop(socksbox, echo_target):
    hold, port = refused_port("127.0.0.1")
    with hold:
        url = f"socks5://127.0.0.1:{port}"
        first = chaining_server(socksbox, url)
        start = time.monotonic()
        rep = connect_rep(first, "127.0.0.1", echo_target.port)
        took = time.monotonic() - start
        assert rep.rep == 0x05, f"nobody listens on the upstream's port: client must get 0x05, got {rep}"
        assert took < CONNECT_TIMEOUT_S + 0.5, (
            f"the 0x05 reply took {took:.1f}s (--connect-timeout {CONNECT_TIMEOUT_S}s)"
        )
        wait_log(first, hop_label(1, url), what="our server's log (naming hop 1)")


def test_second_hop_down_gives_0x05_and_names_hop_2(socksbox, echo_target):
    h1 = socksbox(listen=LO4)
    hold, port = refused_port("127.0.0.1")
    with hold:
        url2 = f"socks5://127.0.0.1:{port}"
        first = chaining_server(socksbox, hop_url(h1), url2)
        rep = connect_rep(first, "127.0.0.1", echo_target.port)
        assert rep.rep == 0x05, f"hop 2 is down (hop 1 got connection refused): client must get 0x05, got {rep}"
        wait_log(first, hop_label(2, url2), what="our server's log (naming hop 2)")


def test_silent_upstream_does_not_hang_beyond_connect_timeout(socksbox, echo_target):
    lsock, port = up.silent_listener()
    with lsock:
        first = socksbox(
            *upstream_args(f"socks5://127.0.0.1:{port}"),
            *VIA_CHAIN,
            "--connect-timeout",
            "1s",
            "--handshake-timeout",
            "5s",
            listen=LO4,
        )
        start = time.monotonic()
        sock, rep = rs.connect5(first.addr4, "127.0.0.1", echo_target.port, timeout=8)
        sock.close()
        took = time.monotonic() - start
    # A time-out reaching the target (here: its hop) answers host unreachable 0x04 (docs/ARCHITECTURE.md).
    assert (rep.rep, rep.atyp, rep.host, rep.port) == (0x04, rs.ATYP_V4, "0.0.0.0", 0), (
        f"an upstream that never answers: expected 0x04 (time-out), got {rep}"
    )
    assert took < 3.0, f"an upstream that never answers held the client for {took:.1f}s with --connect-timeout 1s"


def test_upstream_reply_code_is_passed_on(socksbox):
    hop = socksbox("--deny-target", "127.0.0.9/32", listen=LO4)
    first = chaining_server(socksbox, hop_url(hop))
    rep = connect_rep(first, "127.0.0.9", 80)
    assert rep.rep == 0x02, f"the hop answers 0x02 (target denied); the client must get 0x02, got {rep}"
    hold, port = refused_port("127.0.0.1")
    with hold:
        rep = connect_rep(first, "127.0.0.1", port)
    assert rep.rep == 0x05, f"the hop answers 0x05 (connection refused); the client must get 0x05, got {rep}"
    wait_log(first, hop_label(1, hop_url(hop)), what="our server's log (naming hop 1 for the refusal)")


@pytest.mark.parametrize("cmd", [rs.CMD_BIND, rs.CMD_UDP], ids=["bind", "udp-associate"])
def test_upstream_command_not_supported_is_passed_on(socksbox, microsocks, cmd):
    m = microsocks()  # microsocks speaks CONNECT only and answers 0x07 to anything else
    first = chaining_server(socksbox, m.url())
    sock = rs.open5(first.addr4)
    with sock:
        sock.sendall(rs.request5(cmd, "127.0.0.1", 0))
        rep = rs.read_reply5(sock, IO_TIMEOUT, "reply")
    assert rep.rep == 0x07, f"microsocks answers 0x07 to command {cmd}; the client must get 0x07, got {rep}"


def test_ipv6_target_through_chain(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop), extra=("--route", "cidr:::1/128=chain"))
    sock = connect_ok(first, "::1", echo_target.port, "CONNECT [::1] through the chain")
    with sock:
        echo(sock, b"ipv6 target")
    wait_session(hop, "CONNECT", f"[::1]:{echo_target.port}", "the hop (IPv6 target)")


def test_socks4_upstream_failure_is_a_failure_reply(socksbox):
    hop = socksbox(listen=LO4)
    first = chaining_server(socksbox, hop_url(hop, "socks4"))
    hold, port = refused_port("127.0.0.1")
    with hold:
        rep = connect_rep(first, "127.0.0.1", port)
        sock, rep4 = rs.connect4(first.addr4, "127.0.0.1", port)
        sock.close()
    # docs/ARCHITECTURE.md, "Upstream chains": a SOCKS4 upstream's 91 becomes 0x01 for a SOCKS5 client.
    assert rep.rep == 0x01, f"the SOCKS4 hop rejected the request (91); a SOCKS5 client must get 0x01, got {rep}"
    assert rep4.cd == rs.S4_REJECTED, f"the SOCKS4 hop rejected the request; a SOCKS4 client must get 91, got {rep4}"


# ---------------------------------------------------------------------------
# 8. routing
# ---------------------------------------------------------------------------


def test_route_rules_pick_direct_or_chain_in_order(socksbox, echo_target, http_target):
    hop = socksbox(listen=LO4)
    first = socksbox(
        *upstream_args(hop_url(hop)),
        "--route",
        f"ports:{echo_target.port}=direct",
        "--route",
        "cidr:127.0.0.0/8=chain",
        *FAST,
        listen=LO4,
    )
    sock = connect_ok(first, "127.0.0.1", echo_target.port, "ports rule -> direct")
    with sock:
        echo(sock, b"direct")
    sock = connect_ok(first, "127.0.0.1", http_target.port, "cidr rule -> chain")
    with sock:
        assert http_peer(sock) == "127.0.0.1"
    wait_session(hop, "CONNECT", f"127.0.0.1:{http_target.port}", "the hop (cidr rule -> chain)")
    assert not any(t == f"127.0.0.1:{echo_target.port}" for _, _, t in sessions(hop)), (
        f"the target matched by `ports:{echo_target.port}=direct` (first rule) went through the chain: {sessions(hop)}"
    )


def test_route_rules_first_match_wins(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = socksbox(
        *upstream_args(hop_url(hop)),
        "--route",
        "cidr:127.0.0.0/8=chain",
        "--route",
        f"ports:{echo_target.port}=direct",
        *FAST,
        listen=LO4,
    )
    sock = connect_ok(first, "127.0.0.1", echo_target.port, "first rule (cidr -> chain) wins")
    with sock:
        echo(sock, b"chain")
    wait_session(hop, "CONNECT", f"127.0.0.1:{echo_target.port}", "the hop (the earlier cidr rule must win)")


def test_route_refuse_answers_0x02_and_91(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = socksbox(
        *upstream_args(hop_url(hop)),
        "--route",
        f"ports:{echo_target.port}=refuse",
        "--route",
        "domain:localhost=refuse",
        *VIA_CHAIN,
        *FAST,
        listen=LO4,
    )
    rep = connect_rep(first, "127.0.0.1", echo_target.port)
    assert rep.rep == 0x02, f"`ports:{echo_target.port}=refuse`: expected 0x02, got {rep}"
    rep = connect_rep(first, "localhost", 1)
    assert rep.rep == 0x02, f"`domain:localhost=refuse`: expected 0x02, got {rep}"
    sock, rep4 = rs.connect4(first.addr4, "127.0.0.1", echo_target.port)
    sock.close()
    assert rep4.cd == rs.S4_REJECTED, f"refused SOCKS4 request: expected CD=91, got {rep4}"
    assert not sessions(hop), f"refused requests reached the hop: {sessions(hop)}"


def test_private_targets_go_direct_by_default(socksbox, echo_target):
    hop = socksbox(listen=LO4)
    first = socksbox(*upstream_args(hop_url(hop)), *FAST, listen=LO4)
    for host in ("127.0.0.1", "localhost"):
        sock = connect_ok(first, host, echo_target.port, f"{host} (private_direct default)")
        with sock:
            echo(sock, b"private")
    assert not sessions(hop), (
        f"loopback targets went through the chain although private_direct is on by default: {sessions(hop)}"
    )


DEFAULT_CASES = [
    # id, routing default, private_direct, rules (TOML), expect: {target label: "chain"|"direct"|0x02}
    ("default-chain-private-off", "chain", False, None, {"echo": "chain", "http": "chain"}),
    ("default-chain-private-on", "chain", True, None, {"echo": "direct", "http": "direct"}),
    (
        "default-refuse-rule-chain",
        "refuse",
        False,
        '[ { ports = "ECHO", action = "chain" } ]',
        {"echo": "chain", "http": 0x02},
    ),
    (
        "default-direct-rules-in-order",
        "direct",
        False,
        '[ { ports = "HTTP", action = "direct" }, { cidr = "127.0.0.1/32", action = "chain" } ]',
        {"echo": "chain", "http": "direct"},
    ),
]


@pytest.mark.parametrize(
    "default,private,rules,expect", [c[1:] for c in DEFAULT_CASES], ids=[c[0] for c in DEFAULT_CASES]
)
def test_routing_default_and_toml_rules(socksbox, echo_target, http_target, default, private, rules, expect):
    hop = socksbox(listen=LO4)
    if rules is not None:
        rules = rules.replace("ECHO", str(echo_target.port)).replace("HTTP", str(http_target.port))
    first = socksbox(*FAST, listen=LO4, config=chain_toml([hop_url(hop)], private, default, rules))
    ports = {"echo": echo_target.port, "http": http_target.port}
    for label, want in expect.items():
        target = f"127.0.0.1:{ports[label]}"
        sock, rep = rs.connect5(first.addr4, "127.0.0.1", ports[label])
        sock.close()
        if isinstance(want, int):
            assert rep.rep == want, f"{target} (default={default}): expected {rs.rep_name(want)}, got {rep}"
            continue
        assert rep.rep == 0, f"{target} (default={default}, expected {want}): CONNECT answered {rep}"
        if want == "chain":
            wait_session(hop, "CONNECT", target, f"the hop ({target} must go through the chain)")
    for label, want in expect.items():
        target = f"127.0.0.1:{ports[label]}"
        if want != "chain":
            assert not any(t == target for _, _, t in sessions(hop)), (
                f"{target} must not use the chain (expected {want}), but the hop got it: {sessions(hop)}"
            )


def test_routing_matchers_domain_suffix_cidr_ports(socksbox, recording_hop):
    hop = recording_hop(reply=0x04)  # answers 0x04 to everything, records every request
    rules = (
        '[ { domain = "localhost", action = "chain" }, '
        '{ suffix = "corp.test", action = "chain" }, '
        '{ domain = "exact.test", action = "chain" }, '
        '{ cidr = "127.0.0.8/29", action = "chain" }, '
        '{ ports = "40001-40005", action = "chain" } ]'
    )
    first = socksbox(*FAST, listen=LO4, config=chain_toml([hop.url()], False, "refuse", rules))
    require_unresolved_names(first, hop)
    cases = [
        ("corp.test", 80, "chain"),
        ("a.b.corp.test", 80, "chain"),
        ("xcorp.test", 80, "refuse"),
        ("exact.test", 80, "chain"),
        ("sub.exact.test", 80, "refuse"),
        ("127.0.0.9", 80, "chain"),
        ("127.0.0.1", 80, "refuse"),
        ("other.test", 40003, "chain"),
        ("other.test", 40006, "refuse"),
        ("127.0.0.1", 40001, "chain"),
    ]
    for host, port, want in cases:
        before = len(hop.snapshot())
        rep = connect_rep(first, host, port)
        new = hop.snapshot()[before:]
        if want == "chain":
            assert rep.rep == 0x04 and any(r.host == host and r.port == port for r in new), (
                f"{host}:{port} must go through the chain (the hop answers 0x04): client got {rep}, hop saw {new}"
            )
        else:
            assert rep.rep == 0x02 and not new, (
                f"{host}:{port} matches no rule and default is refuse: expected 0x02 and nothing at the hop, "
                f"got {rep}, hop saw {new}"
            )


# ---------------------------------------------------------------------------
# 9. SIGHUP reload
# ---------------------------------------------------------------------------


def reload_config(srv, new_text: str):
    config_path(srv).write_text(new_text)
    os.kill(srv.pid, signal.SIGHUP)
    wait_log(srv, r"configuration reloaded", 5.0, "our server's log after SIGHUP")


def session_closed(srv, sid: str) -> bool:
    return re.search(rf"(session ended|request failed)[^\n]* id={sid} ", log_of(srv)) is not None


def test_sighup_new_sessions_use_new_chain_running_ones_stay(socksbox, echo_target):
    a, b = socksbox(listen=LO4), socksbox(listen=LO4)
    first = socksbox(*FAST, listen=LO4, config=chain_toml([hop_url(a)]))
    target = f"127.0.0.1:{echo_target.port}"
    old = connect_ok(first, "127.0.0.1", echo_target.port, "session before the reload")
    with old:
        echo(old, b"before reload")
        sid = wait_session(a, "CONNECT", target, "chain A's hop")
        reload_config(first, chain_toml([hop_url(b)]))
        echo(old, b"after reload, same session")
        assert not session_closed(a, sid), "the session through chain A was closed by the reload"
        new = connect_ok(first, "127.0.0.1", echo_target.port, "session after the reload")
        with new:
            echo(new, b"new session")
        wait_session(b, "CONNECT", target, "chain B's hop (new sessions after the reload)")
        assert len(sessions(a, "CONNECT")) == 1, f"a session after the reload still went via chain A: {sessions(a)}"
        echo(old, b"still alive")
    assert up.wait_text(lambda: "closed" if session_closed(a, sid) else "", "closed", LOG_WAIT), (
        "closing the old session did not end a session at chain A's hop: it was not running through A"
    )


def test_sighup_applies_new_routing(socksbox, echo_target):
    a = socksbox(listen=LO4)
    first = socksbox(*FAST, listen=LO4, config=chain_toml([hop_url(a)], default="chain"))
    sock = connect_ok(first, "127.0.0.1", echo_target.port, "before the reload")
    sock.close()
    reload_config(first, chain_toml([hop_url(a)], default="refuse"))
    rep = connect_rep(first, "127.0.0.1", echo_target.port)
    assert rep.rep == 0x02, f'after reloading with default = "refuse" a new session must get 0x02, got {rep}'


def test_command_line_upstream_overrides_config_even_after_reload(socksbox, echo_target):
    a, b, c = socksbox(listen=LO4), socksbox(listen=LO4), socksbox(listen=LO4)
    first = socksbox(*upstream_args(hop_url(c)), *FAST, listen=LO4, config=chain_toml([hop_url(a)]))
    target = f"127.0.0.1:{echo_target.port}"
    with connect_ok(first, "127.0.0.1", echo_target.port, "before the reload") as s:
        echo(s, b"x")
    wait_session(c, "CONNECT", target, "the --upstream hop (command line overrides the file)")
    reload_config(first, chain_toml([hop_url(b)]))
    with connect_ok(first, "127.0.0.1", echo_target.port, "after the reload") as s:
        echo(s, b"y")
    up.wait_text(lambda: str(len(sessions(c, "CONNECT"))), "2", LOG_WAIT)
    assert len(sessions(c, "CONNECT")) == 2, (
        f"after the reload --upstream must still win: hop C sessions {sessions(c)}, B {sessions(b)}"
    )
    assert not sessions(a) and not sessions(b), f"the file's chain was used: A {sessions(a)}, B {sessions(b)}"


# ---------------------------------------------------------------------------
# 10. --check-upstream
# ---------------------------------------------------------------------------


def check_upstream(*args, timeout: float = 30):
    res = run_tool([server_binary(), *args, "--connect-timeout", f"{CONNECT_TIMEOUT_S}s"], timeout=timeout)
    return res, res.stdout.decode(errors="replace"), res.stderr.decode(errors="replace")


def assert_line(out: str, pattern: str, what: str):
    m = re.search(pattern, out, re.MULTILINE)
    assert m, f"--check-upstream: no line for {what} matching {pattern!r}; stdout:\n{out}"
    return m


def test_check_upstream_two_hops_ok(socksbox, tcp_udp_echo):
    h1 = socksbox("--user", f"{USER}:{PASSWORD}", listen=LO4)
    h2 = socksbox(listen=LO4)
    u1 = hop_url(h1, cred=f"{USER}:{PASSWORD}")
    target = f"127.0.0.1:{tcp_udp_echo.port}"
    res, out, err = check_upstream(*upstream_args(u1, hop_url(h2)), "--check-upstream", target)
    assert_line(out, rf"^hop 1 {re.escape(hop_url(h1))} ok \d+(?:\.\d+)?ms$", "hop 1 (printed without user:pass)")
    assert_line(out, rf"^hop 2 {re.escape(hop_url(h2))} ok \d+(?:\.\d+)?ms$", "hop 2")
    assert_line(out, rf"^target {re.escape(target)} ok \d+(?:\.\d+)?ms$", "the target")
    assert_line(out, r"^udp ok \d+(?:\.\d+)?ms$", "UDP")
    assert res.returncode == 0, f"everything worked but --check-upstream exited {res.returncode}\n{out}\n{err}"
    assert PASSWORD not in out and PASSWORD not in err, f"--check-upstream printed the password:\n{out}\n{err}"
    wait_session(h2, "CONNECT", target, "hop 2 (the check must go through the chain)")


def test_check_upstream_down_hop_reports_error_and_exits_1(socksbox, tcp_udp_echo):
    h1 = socksbox(listen=LO4)
    hold, port = refused_port("127.0.0.1")
    with hold:
        url2 = f"socks5://127.0.0.1:{port}"
        res, out, err = check_upstream(
            *upstream_args(hop_url(h1), url2), "--check-upstream", f"127.0.0.1:{tcp_udp_echo.port}"
        )
    assert_line(out, rf"^hop 1 {re.escape(hop_url(h1))} ok \d+(?:\.\d+)?ms$", "hop 1 (working)")
    assert_line(out, rf"^hop 2 {re.escape(url2)} error: \S.*$", "hop 2 (down)")
    assert not re.search(r"^target .* ok", out, re.MULTILINE), f"the target was reported ok behind a down hop:\n{out}"
    assert res.returncode == 1, f"a hop is down: --check-upstream must exit 1, exited {res.returncode}\n{out}\n{err}"


def test_check_upstream_target_down_exits_1(socksbox):
    h1 = socksbox(listen=LO4)
    hold, port = refused_port("127.0.0.1")
    with hold:
        target = f"127.0.0.1:{port}"
        res, out, err = check_upstream(*upstream_args(hop_url(h1)), "--check-upstream", target)
    assert_line(out, rf"^hop 1 {re.escape(hop_url(h1))} ok \d+(?:\.\d+)?ms$", "hop 1")
    assert_line(out, rf"^target {re.escape(target)} error: \S.*$", "the refused target")
    assert res.returncode == 1, f"the target is down: expected exit 1, got {res.returncode}\n{out}\n{err}"


def test_check_upstream_socks4_hop_reports_udp_unsupported(socksbox, tcp_udp_echo):
    h1 = socksbox(listen=LO4)
    h2 = socksbox(listen=LO4)
    url2 = hop_url(h2, "socks4a", cred="someid")
    target = f"127.0.0.1:{tcp_udp_echo.port}"
    res, out, err = check_upstream(*upstream_args(hop_url(h1), url2), "--check-upstream", target)
    assert_line(out, rf"^hop 2 {re.escape(hop_url(h2, 'socks4a'))} ok \d+(?:\.\d+)?ms$", "hop 2 (SOCKS4a)")
    assert_line(out, rf"^target {re.escape(target)} ok \d+(?:\.\d+)?ms$", "the target")
    assert_line(out, r"^udp unsupported: \S.*$", "UDP behind a SOCKS4a hop")


def test_check_upstream_never_prints_the_password_on_failure(microsocks, tcp_udp_echo):
    m = microsocks(user="muser", password="right-pw")
    wrong = "wrong-" + secrets.token_hex(6)
    res, out, err = check_upstream(
        "--upstream", m.url(cred=f"muser:{wrong}"), "--check-upstream", f"127.0.0.1:{tcp_udp_echo.port}"
    )
    assert_line(out, rf"^hop 1 {re.escape(m.url())} error: \S.*$", "hop 1 (password rejected)")
    assert res.returncode == 1, f"the hop rejected the password: expected exit 1, got {res.returncode}"
    assert wrong not in out and wrong not in err, f"--check-upstream printed the password:\n{out}\n{err}"
