"""BIND (SOCKS4 CD=2, SOCKS5 CMD=2) end to end."""

from __future__ import annotations

import socket
import time

import pytest

import rawsocks as rs

CLOSE_WITHIN = 3.0
BIND_TIMEOUT = 1.0  # --bind-timeout 1s


def peer_from(addr, source: str | None = None) -> socket.socket:
    try:
        return rs.tcp_connect(addr, timeout=5, source=source)
    except OSError as e:
        pytest.fail(f"the peer could not connect to the BIND address {addr} (from {source or 'default'}): {e}")


def data_both_ways(client, peer, label: str):
    client.sendall(b"client->peer " + label.encode())
    got = rs.recv_exact(peer, 13 + len(label), what=f"{label}: data from the client at the peer")
    assert got == b"client->peer " + label.encode(), f"{label}: peer got {got!r}"
    peer.sendall(b"peer->client " + label.encode())
    got = rs.recv_exact(client, 13 + len(label), what=f"{label}: data from the peer at the client")
    assert got == b"peer->client " + label.encode(), f"{label}: client got {got!r}"


def wait_port_refused(addr, timeout: float = 3.0) -> bool:
    """True once connecting to addr is refused (the listener is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            s = rs.tcp_connect(addr, timeout=1)
        except (ConnectionRefusedError, ConnectionResetError):
            return True
        except OSError as e:
            # A timeout or another error is not a refusal: it proves nothing.
            pytest.fail(f"connecting to {addr} was neither accepted nor refused: {e!r}")
        s.close()
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------------------
# SOCKS5
# ---------------------------------------------------------------------------


def bind5(proxy, expect_host: str, expect_port: int = 0):
    client = rs.open5(proxy)
    client.sendall(rs.request5(rs.CMD_BIND, expect_host, expect_port))
    first = rs.read_reply5(client, what="first BIND reply")
    return client, first


@pytest.mark.parametrize("family", ["v4", "v6"])
def test_socks5_bind_second_reply_names_the_peer_and_relays(server, family):
    proxy, lo = (server.addr4, "127.0.0.1") if family == "v4" else (server.addr6, "::1")
    client, first = bind5(proxy, lo)
    with client:
        assert first.rep == 0, f"first BIND reply failed: {first}"
        want_atyp = rs.ATYP_V4 if family == "v4" else rs.ATYP_V6
        assert first.atyp == want_atyp and rs.canon(first.host) == lo, (
            f"first BIND reply must carry the listening address {lo} (the interface the client came in on), got {first}"
        )
        assert first.port != 0, f"first BIND reply has port 0: {first}"
        peer = peer_from((first.host, first.port))
        with peer:
            second = rs.read_reply5(client, what="second BIND reply")
            pname = peer.getsockname()
            assert second.rep == 0, f"second BIND reply failed although the expected host connected: {second}"
            assert (rs.canon(second.host), second.port) == (rs.canon(pname[0]), pname[1]), (
                f"second BIND reply names {second.host}:{second.port}, but the peer is {pname[0]}:{pname[1]}"
            )
            data_both_ways(client, peer, f"bind5-{family}")


def test_socks5_bind_to_any_accepts_peer_from_other_loopback_ip(server):
    client, first = bind5(server.addr4, "0.0.0.0")
    with client:
        assert first.rep == 0, f"first BIND reply failed: {first}"
        peer = peer_from((first.host, first.port), source="127.0.0.2")
        with peer:
            second = rs.read_reply5(client, what="second BIND reply")
            assert second.rep == 0, f"BIND naming 0.0.0.0 must accept any peer; second reply {second}"
            assert (second.host, second.port) == peer.getsockname(), (
                f"second reply names {second.host}:{second.port}, peer is {peer.getsockname()}"
            )
            data_both_ways(client, peer, "bind5-any")


def test_socks5_bind_peer_address_mismatch_replies_0x02_and_closes_both(server):
    client, first = bind5(server.addr4, "127.0.0.1")
    with client:
        assert first.rep == 0, f"first BIND reply failed: {first}"
        peer = peer_from((first.host, first.port), source="127.0.0.2")
        with peer:
            # docs/ARCHITECTURE.md, "BIND peer check": 0x02, and both connections close.
            rs.assert_closed(
                client,
                CLOSE_WITHIN,
                "request named 127.0.0.1, the peer came from 127.0.0.2: second BIND reply",
                expect=rs.error_reply5(0x02),
            )
            rs.assert_closed(peer, CLOSE_WITHIN, "the mismatched peer's connection")


def test_socks5_bind_timeout_replies_failure_and_closes(socksbox):
    srv = socksbox("--bind-timeout", "1s")
    client, first = bind5(srv.addr4, "127.0.0.1")
    with client:
        assert first.rep == 0, f"first BIND reply failed: {first}"
        # docs/ARCHITECTURE.md, "BIND time limit": general failure 0x01, then the close.
        res = rs.assert_closed(
            client, 5.0, "no peer within --bind-timeout 1s: second BIND reply", expect=rs.error_reply5(0x01)
        )
        assert BIND_TIMEOUT - 0.2 <= res.after < 3.5, (
            f"the BIND timeout reply came after {res.after:.2f}s with --bind-timeout 1s"
        )
    assert wait_port_refused((first.host, first.port)), (
        f"the BIND listener {first.host}:{first.port} still accepts connections after the timeout"
    )


# ---------------------------------------------------------------------------
# SOCKS4
# ---------------------------------------------------------------------------


def bind4(proxy, expect_ip: str, port: int = 21):
    client = rs.tcp_connect(proxy)
    client.sendall(rs.request4(rs.S4_BIND, expect_ip, port, b"binder"))
    first = rs.read_reply4(client, what="first SOCKS4 BIND reply")
    return client, first


def test_socks4_bind_second_reply_names_the_peer_and_relays(server):
    client, first = bind4(server.addr4, "127.0.0.1")
    with client:
        assert (first.vn, first.cd) == (0, rs.S4_GRANTED), f"first SOCKS4 BIND reply: {first}, expected CD=90"
        assert first.ip == "127.0.0.1" and first.port != 0, (
            f"first SOCKS4 BIND reply must carry 127.0.0.1 and the listening port, got {first}"
        )
        peer = peer_from((first.ip, first.port))
        with peer:
            second = rs.read_reply4(client, what="second SOCKS4 BIND reply")
            assert (second.vn, second.cd) == (0, rs.S4_GRANTED), f"second SOCKS4 BIND reply: {second}"
            assert (second.ip, second.port) == peer.getsockname(), (
                f"second SOCKS4 BIND reply names {second.ip}:{second.port}, peer is {peer.getsockname()}"
            )
            data_both_ways(client, peer, "bind4")


def test_socks4_bind_peer_address_mismatch_replies_91_and_closes_both(server):
    client, first = bind4(server.addr4, "127.0.0.1")
    with client:
        assert first.cd == rs.S4_GRANTED, f"first SOCKS4 BIND reply: {first}"
        peer = peer_from((first.ip, first.port), source="127.0.0.2")
        with peer:
            # docs/ARCHITECTURE.md, "BIND peer check": 91, and both connections close.
            rs.assert_closed(
                client,
                CLOSE_WITHIN,
                "request named 127.0.0.1, the peer came from 127.0.0.2: second SOCKS4 BIND reply",
                expect=rs.REJECTED4,
            )
            rs.assert_closed(peer, CLOSE_WITHIN, "the mismatched peer's connection")


def test_socks4_bind_timeout_replies_91_and_closes(socksbox):
    srv = socksbox("--bind-timeout", "1s")
    client, first = bind4(srv.addr4, "127.0.0.1")
    with client:
        assert first.cd == rs.S4_GRANTED, f"first SOCKS4 BIND reply: {first}"
        # docs/ARCHITECTURE.md, "BIND time limit": 91, then the close.
        res = rs.assert_closed(
            client, 5.0, "no peer within --bind-timeout 1s: second SOCKS4 BIND reply", expect=rs.REJECTED4
        )
        assert BIND_TIMEOUT - 0.2 <= res.after < 3.5, (
            f"the SOCKS4 BIND timeout reply came after {res.after:.2f}s with --bind-timeout 1s"
        )
    assert wait_port_refused((first.ip, first.port)), (
        f"the SOCKS4 BIND listener {first.ip}:{first.port} still accepts connections after the timeout"
    )


def test_socks4_bind_from_an_ipv6_client_listens_on_ipv4(server):
    # SOCKS4 replies name IPv4 only: a client that came in over IPv6 gets an
    # IPv4 listening address (the loopback one, for a client on this machine).
    client = rs.tcp_connect(server.addr6)
    with client:
        client.sendall(rs.request4(rs.S4_BIND, "127.0.0.1", 21, b"binder"))
        first = rs.read_reply4(client, what="first SOCKS4 BIND reply over IPv6")
        assert (first.cd, first.ip) == (rs.S4_GRANTED, "127.0.0.1") and first.port != 0, first
        peer = peer_from((first.ip, first.port))
        with peer:
            second = rs.read_reply4(client, what="second SOCKS4 BIND reply over IPv6")
            assert (second.cd, (second.ip, second.port)) == (rs.S4_GRANTED, peer.getsockname()), second
            data_both_ways(client, peer, "bind4-over-v6")


@pytest.mark.parametrize(("over", "expected", "listens"), [("v4", "::1", "::1"), ("v6", "127.0.0.1", "127.0.0.1")])
def test_socks5_bind_listens_in_the_family_of_the_expected_peer(server, over, expected, listens):
    # RFC 1928: DST.ADDR of a BIND is the peer expected. Asked over one
    # family for a peer of the other, the server listens where that peer
    # can reach it, and admits it.
    proxy = server.addr4 if over == "v4" else server.addr6
    client, first = bind5(proxy, expected)
    with client:
        assert first.rep == 0, f"first BIND reply for a peer at {expected} over {over}: {first}"
        assert rs.canon(first.host) == listens and first.port != 0, (
            f"BIND for a peer at {expected} asked over {over} listens on {first.host}, expected {listens}"
        )
        peer = peer_from((first.host, first.port))
        with peer:
            second = rs.read_reply5(client, what="second BIND reply")
            assert second.rep == 0, f"the expected peer at {expected} was refused: {second}"
            assert rs.canon(second.host) == expected, second
            data_both_ways(client, peer, f"bind5-{over}-for-{expected}")
