"""HTTP clients through an upstream chain, and HTTP proxies as hops: Dante
(SOCKS) behind the server's HTTP front, tinyproxy (a real HTTP proxy) as
an `http://` hop behind both fronts. Everything on loopback."""

from __future__ import annotations

import hashlib
import re

import pytest

import rawsocks as rs
import upstreams as up
from httporigin import PAGE_MARKER, Origin, big_body
from support import curl

# Loopback targets go through the chain (by default they go direct).
VIA_CHAIN = ("--route", "cidr:127.0.0.0/8=chain", "--route", "suffix:localhost=chain")
FAST = ("--connect-timeout", "2s", "--handshake-timeout", "5s")
DANTE_EXT = "127.0.0.5"
HOP_USER, HOP_PASSWORD = "hopuser", "hop-pw-7c1d"


@pytest.fixture(scope="module")
def origin():
    o = Origin(big_body())
    yield o
    o.close()


@pytest.fixture
def tinyproxy(tmp_path):
    """Factory: tinyproxy(user=..., password=...) -> up.Tinyproxy; all stopped at teardown."""
    yield from up.upstream_factory(
        tmp_path, up.Tinyproxy, "tinyproxy", up.tinyproxy_available(), up.TINYPROXY, "tinyproxy"
    )


@pytest.fixture
def dante(tmp_path):
    """Factory: dante(external=...) -> up.Dante; all stopped at teardown."""
    yield from up.upstream_factory(tmp_path, up.Dante, "Dante", up.danted_available(), up.DANTED, "dante-server")


def http_proxy(srv) -> str:
    return f"http://127.0.0.1:{srv.addr4[1]}"


def describe(res) -> str:
    return f"exit {res.returncode}, stderr: {res.stderr.decode(errors='replace').strip()[:500]}"


def log_of(srv) -> str:
    return srv.stderr_text(tail=10**7)


def test_http_clients_go_through_a_dante_chain(socksbox, dante, origin):
    d = dante(external=DANTE_EXT)
    srv = socksbox("--upstream", d.url(), *VIA_CHAIN, *FAST, listen=("127.0.0.1:0",))
    for how, extra in (("forward", ()), ("tunnel", ("-p",))):
        res = curl("-x", http_proxy(srv), *extra, origin.url("127.0.0.1", "/peer"))
        assert res.returncode == 0, f"{how}: {describe(res)}"
        assert res.stdout.split()[0] == DANTE_EXT.encode(), (
            f"{how}: the origin saw the request from {res.stdout!r}, not from Dante's {DANTE_EXT}\n{d.log()[-1500:]}"
        )
    big = curl("-x", http_proxy(srv), origin.url("localhost", "/big"), max_time=60)
    assert big.returncode == 0 and hashlib.sha256(big.stdout).hexdigest() == origin.big_sha256, describe(big)
    assert re.search(r"session ended: .*protocol=HTTP .*command=\"FORWARD\" target=localhost:", log_of(srv))


@pytest.mark.parametrize("client", ["http-forward", "http-tunnel", "socks5h", "socks4a"])
def test_tinyproxy_as_an_http_hop_carries_every_client(socksbox, tinyproxy, origin, client):
    t = tinyproxy(user=HOP_USER, password=HOP_PASSWORD)
    srv = socksbox("--upstream", t.url(cred=f"{HOP_USER}:{HOP_PASSWORD}"), *VIA_CHAIN, *FAST, listen=("127.0.0.1:0",))
    args = {
        "http-forward": ("-x", http_proxy(srv)),
        "http-tunnel": ("-x", http_proxy(srv), "-p"),
        "socks5h": ("-x", f"socks5h://127.0.0.1:{srv.addr4[1]}"),
        "socks4a": ("-x", f"socks4a://127.0.0.1:{srv.addr4[1]}"),
    }[client]
    res = curl(*args, origin.url("localhost", "/page.html"))
    assert res.returncode == 0 and PAGE_MARKER.encode() in res.stdout, f"{client}: {describe(res)}\n{t.log()[-1500:]}"
    # The hop carried it as a CONNECT, to the name the client gave.
    assert f"CONNECT localhost:{origin.port} HTTP/1.1" in t.requests(), t.requests()
    assert HOP_PASSWORD not in log_of(srv), "the hop's password is in the server's log"


def test_a_wrong_password_for_the_http_hop_is_a_clear_failure(socksbox, tinyproxy, origin):
    t = tinyproxy(user=HOP_USER, password=HOP_PASSWORD)
    srv = socksbox("--upstream", t.url(cred=f"{HOP_USER}:not-it"), *VIA_CHAIN, *FAST, listen=("127.0.0.1:0",))
    res = curl("-x", http_proxy(srv), "-i", origin.url("127.0.0.1", "/page.html"))
    # Refused as SOCKS5 refuses it (0x02, not allowed), saying which hop
    # and why; tinyproxy answers the wrong password with 401.
    assert res.returncode == 0 and res.stdout.startswith(b"HTTP/1.1 403 "), describe(res)
    assert b"hop 1" in res.stdout and b"rejected the username/password" in res.stdout, res.stdout
    with rs.tcp_connect(srv.addr4) as s:
        rs.negotiate5(s)
        s.sendall(rs.request5(rs.CMD_CONNECT, "127.0.0.1", origin.port))
        reply = rs.read_reply5(s)
    assert reply.rep == 0x02, f"SOCKS5 CONNECT through a hop that refused the password: {rs.rep_name(reply.rep)}"
    assert "not-it" not in log_of(srv)


@pytest.mark.parametrize("command", ["bind", "udp"])
def test_bind_and_udp_through_an_http_hop_are_refused_with_07(socksbox, tinyproxy, command):
    t = tinyproxy()
    srv = socksbox("--upstream", t.url(), *VIA_CHAIN, *FAST, listen=("127.0.0.1:0",))
    cmd = rs.CMD_BIND if command == "bind" else rs.CMD_UDP
    with rs.tcp_connect(srv.addr4) as s:
        rs.negotiate5(s)
        s.sendall(rs.request5(cmd, "127.0.0.1", 9))
        reply = rs.read_reply5(s)
        assert reply.rep == 0x07, f"{command} through an HTTP hop: reply {rs.rep_name(reply.rep)}"
        rs.assert_closed(s, 3.0, f"{command} refused")
    why = "carries CONNECT only" if command == "bind" else "cannot carry UDP"
    assert re.search(rf"request failed: .*http://127\.0\.0\.1:{t.port}.*{why}", log_of(srv)), log_of(srv)[-2000:]
    assert t.requests() == [], "the refused request reached the HTTP hop"
