"""Raw-byte SOCKS4/4a/5 protocol checks (RFC 1928, RFC 1929, SOCKS4/4a)."""

from __future__ import annotations

import random
import socket
import struct
import time

import pytest

import rawsocks as rs
from support import PASSWORD, USER, accept_one, bind_same_port, listen_on, nothing_accepted, refused_port

CLOSE_WITHIN = 3.0  # an error reply must be followed by a close this quickly


def exchange_both_ways(client, target_conn, label: str):
    client.sendall(b"ping from client " + label.encode())
    got = rs.recv_exact(target_conn, 17 + len(label), what=f"{label}: client->target data")
    assert got == b"ping from client " + label.encode(), f"{label}: target got {got!r}"
    target_conn.sendall(b"pong from target")
    got = rs.recv_exact(client, 16, what=f"{label}: target->client data")
    assert got == b"pong from target", f"{label}: client got {got!r}"


def expect_error5(sock, request: bytes, expected_rep: int, what: str):
    """The request is answered with exactly the error reply for expected_rep
    (BND 0.0.0.0:0), and then the connection is closed (EOF)."""
    sock.sendall(request)
    rs.assert_closed(
        sock,
        CLOSE_WITHIN,
        f"{what}: request {request.hex(' ')} must get REP {rs.rep_name(expected_rep)}",
        expect=rs.error_reply5(expected_rep),
    )


def expect_rejected4(sock, rep: rs.Reply4, what: str):
    """A SOCKS4 reply that is exactly the server's 91 (DSTPORT 0, DSTIP 0.0.0.0), then EOF."""
    assert (rep.vn, rep.cd, rep.port, rep.ip) == (0, rs.S4_REJECTED, 0, "0.0.0.0"), (
        f"{what}: got {rep}, expected VN=0 CD=91 DSTPORT=0 DSTIP=0.0.0.0"
    )
    rs.assert_closed(sock, CLOSE_WITHIN, f"{what}: after the 91 reply")


# ---------------------------------------------------------------------------
# successful CONNECT
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "listener,target_host",
    [("v4", "127.0.0.1"), ("v6", "::1"), ("v4", "::1"), ("v6", "127.0.0.1")],
    ids=["v4-listener-v4-target", "v6-listener-v6-target", "v4-listener-v6-target", "v6-listener-v4-target"],
)
def test_connect_reply_bnd_names_the_address_the_target_saw(server, listener, target_host):
    proxy = server.addr4 if listener == "v4" else server.addr6
    lsock = listen_on(target_host)
    port = lsock.getsockname()[1]
    with lsock:
        client, rep = rs.connect5_ok(proxy, target_host, port)
        with client:
            conn, peer = accept_one(lsock)
            with conn:
                want_atyp = rs.ATYP_V6 if ":" in target_host else rs.ATYP_V4
                assert rep.atyp == want_atyp, f"BND ATYP {rep.atyp}, expected {want_atyp} for a {target_host} target"
                assert (rs.canon(rep.host), rep.port) == (rs.canon(peer[0]), peer[1]), (
                    f"CONNECT reply BND is {rep.host}:{rep.port} but the target saw its peer as {peer[0]}:{peer[1]}"
                )
                exchange_both_ways(client, conn, "connect5")


def test_socks4_connect_granted_and_relays(server):
    lsock = listen_on("127.0.0.1")
    with lsock:
        client, rep = rs.connect4(server.addr4, "127.0.0.1", lsock.getsockname()[1], userid=b"someone")
        with client:
            assert (rep.vn, rep.cd) == (0, rs.S4_GRANTED), f"SOCKS4 CONNECT reply {rep}, expected VN=0 CD=90"
            conn, _ = accept_one(lsock)
            with conn:
                exchange_both_ways(client, conn, "connect4")


@pytest.mark.parametrize("bound", ["127.0.0.1", "::1"])
def test_socks4a_localhost_reaches_target_bound_to_one_family(server, bound):
    lsock, hold, port = listener_and_refused_twin(bound)
    with lsock, hold:
        client, rep = rs.connect4(server.addr4, "0.0.0.1", port, userid=b"", domain=b"localhost")
        with client:
            assert (rep.vn, rep.cd) == (0, rs.S4_GRANTED), (
                f"SOCKS4a CONNECT localhost:{port} (listening only on {bound}) -> {rep}, expected CD=90. "
                f"{system_localhost_note()}"
            )
            conn, _ = accept_one(lsock)
            with conn:
                exchange_both_ways(client, conn, "connect4a")


def system_localhost_note() -> str:
    """What the system resolver says about 'localhost' (for failure messages)."""
    try:
        addrs = sorted({ai[4][0] for ai in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)})
    except OSError as e:
        addrs = [f"error {e}"]
    return f"(For reference, this machine's getaddrinfo('localhost') returns {addrs}.)"


def listener_and_refused_twin(bound: str):
    """A listener on bound (127.0.0.1 or ::1) and a socket bound, not
    listening, to the same port on the other loopback address: a connect
    there is refused. Returns (listener, twin, port)."""
    s4, s6, port = bind_same_port(socket.SOCK_STREAM)
    lsock, hold = (s4, s6) if bound == "127.0.0.1" else (s6, s4)
    lsock.listen(8)
    lsock.settimeout(rs.DEFAULT_TIMEOUT)
    return lsock, hold, port


@pytest.mark.parametrize("bound", ["127.0.0.1", "::1"])
def test_socks5_localhost_reaches_target_bound_to_one_family(server, bound):
    lsock, hold, port = listener_and_refused_twin(bound)
    with lsock, hold:
        client, rep = rs.connect5(server.addr4, "localhost", port)
        with client:
            assert rep.rep == 0, (
                f"CONNECT localhost:{port} where only {bound} listens (the other address refuses): got {rep}; "
                f"the server must try every address 'localhost' resolves to (::1 and 127.0.0.1). "
                f"{system_localhost_note()}"
            )
            conn, peer = accept_one(lsock)
            with conn:
                assert (rs.canon(rep.host), rep.port) == (rs.canon(peer[0]), peer[1]), (
                    f"BND {rep.host}:{rep.port} vs peer seen by target {peer}"
                )
                exchange_both_ways(client, conn, "connect5-localhost")


def test_socks5_auth_success_then_connect(auth_server):
    lsock = listen_on("127.0.0.1")
    with lsock:
        sock = rs.tcp_connect(auth_server.addr4)
        with sock:
            m = rs.negotiate5(sock, (rs.M_NOAUTH, rs.M_USERPASS))
            assert m == rs.M_USERPASS, f"passwords required: server must pick 0x02, picked 0x{m:02x}"
            ver, status = rs.userpass5(sock, USER, PASSWORD)
            assert (ver, status) == (1, 0), (
                f"RFC 1929 with the right password: reply {bytes([ver, status])!r}, expected 01 00"
            )
            sock.sendall(rs.request5(rs.CMD_CONNECT, "127.0.0.1", lsock.getsockname()[1]))
            rep = rs.read_reply5(sock)
            assert rep.rep == 0, f"CONNECT after successful auth: {rep}"
            conn, _ = accept_one(lsock)
            with conn:
                exchange_both_ways(sock, conn, "auth-connect")


@pytest.mark.parametrize("variant", ["socks4", "socks4a"])
def test_socks4_rejected_with_91_when_passwords_required(auth_server, variant):
    lsock = listen_on("127.0.0.1")
    with lsock:
        port = lsock.getsockname()[1]
        domain = b"localhost" if variant == "socks4a" else None
        sock, rep = rs.connect4(auth_server.addr4, "127.0.0.1", port, userid=USER.encode(), domain=domain)
        with sock:
            expect_rejected4(sock, rep, f"{variant} CONNECT while passwords are required")
        assert nothing_accepted(lsock, 0.2), f"the server connected to the target for a rejected {variant} request"


def test_socks4_accepted_with_socks4_without_password(socksbox):
    srv = socksbox("--user", f"{USER}:{PASSWORD}", "--socks4-without-password")
    lsock = listen_on("127.0.0.1")
    with lsock:
        client, rep = rs.connect4(srv.addr4, "127.0.0.1", lsock.getsockname()[1])
        with client:
            assert rep.cd == rs.S4_GRANTED, f"SOCKS4 with --socks4-without-password: got {rep}, expected CD=90"
            conn, _ = accept_one(lsock)
            with conn:
                exchange_both_ways(client, conn, "socks4-without-password")


def test_socks5_picks_no_auth_when_no_password_required(server):
    sock = rs.tcp_connect(server.addr4)
    with sock:
        m = rs.negotiate5(sock, (rs.M_USERPASS, rs.M_GSSAPI, rs.M_NOAUTH))
        assert m == rs.M_NOAUTH, f"no passwords configured: offered 02 01 00, server picked 0x{m:02x}, expected 0x00"


# ---------------------------------------------------------------------------
# method negotiation and RFC 1929 failures
# ---------------------------------------------------------------------------


def test_no_acceptable_method_replies_ff_and_closes(server):
    sock = rs.tcp_connect(server.addr4)
    with sock:
        m = rs.negotiate5(sock, (rs.M_GSSAPI, 0x80))
        assert m == rs.M_NONE, f"offered only GSSAPI and 0x80: expected 05 FF, got method 0x{m:02x}"
        rs.assert_closed(sock, CLOSE_WITHIN, "after 05 FF")


def test_no_auth_offer_rejected_with_ff_when_password_required(auth_server):
    sock = rs.tcp_connect(auth_server.addr4)
    with sock:
        m = rs.negotiate5(sock, (rs.M_NOAUTH,))
        assert m == rs.M_NONE, f"passwords required, client offered only 0x00: expected 05 FF, got 0x{m:02x}"
        rs.assert_closed(sock, CLOSE_WITHIN, "after 05 FF")


@pytest.mark.parametrize(
    "user,password",
    [(USER, "wrong"), ("nobody", PASSWORD), (USER, PASSWORD + "x"), (USER, PASSWORD[:-1])],
    ids=["wrong-password", "unknown-user", "password-with-suffix", "password-prefix"],
)
def test_rfc1929_failure_status_nonzero_and_close(auth_server, user, password):
    sock = rs.tcp_connect(auth_server.addr4)
    with sock:
        assert rs.negotiate5(sock, (rs.M_USERPASS,)) == rs.M_USERPASS
        ver, status = rs.userpass5(sock, user, password)
        assert (ver, status) == (1, 1), (
            f"credentials {user}:{password}: RFC 1929 reply {bytes([ver, status]).hex(' ')}, expected 01 01 (failure)"
        )
        rs.assert_closed(sock, CLOSE_WITHIN, "after RFC 1929 failure")


# ---------------------------------------------------------------------------
# error replies
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["127.0.0.1", "::1"])
def test_connect_refused_replies_0x05_and_closes(server, target):
    hold, port = refused_port(target)
    with hold:
        sock = rs.open5(server.addr4)
        with sock:
            expect_error5(sock, rs.request5(rs.CMD_CONNECT, target, port), 0x05, f"CONNECT {target}:{port} (refused)")


def test_socks4_connect_refused_replies_91_and_closes(server):
    hold, port = refused_port("127.0.0.1")
    with hold:
        sock, rep = rs.connect4(server.addr4, "127.0.0.1", port)
        with sock:
            expect_rejected4(sock, rep, "SOCKS4 CONNECT to a refused port")


def test_domain_with_nul_byte_replies_host_unreachable_0x04(server):
    sock = rs.open5(server.addr4)
    with sock:
        req = bytes([5, 1, 0]) + rs.encode_addr(b"local\x00host") + struct.pack("!H", 80)
        expect_error5(sock, req, 0x04, "CONNECT to a domain containing NUL")


def test_denied_target_replies_0x02_and_is_never_contacted(socksbox):
    srv = socksbox(config='[targets]\ndeny = ["127.0.0.9/32", "::1/128"]\n')
    lsock = listen_on("127.0.0.9")
    lsock6 = listen_on("::1")
    with lsock, lsock6:
        for host, ls in (("127.0.0.9", lsock), ("::1", lsock6)):
            sock = rs.open5(srv.addr4)
            with sock:
                expect_error5(
                    sock,
                    rs.request5(rs.CMD_CONNECT, host, ls.getsockname()[1]),
                    0x02,
                    f"CONNECT {host} with targets.deny covering it",
                )
        # SOCKS4 to a denied target: 91.
        sock, rep = rs.connect4(srv.addr4, "127.0.0.9", lsock.getsockname()[1])
        with sock:
            expect_rejected4(sock, rep, "SOCKS4 CONNECT to a denied target")
        assert nothing_accepted(lsock, 0.3) and nothing_accepted(lsock6, 0.1), (
            "the server connected to a target in targets.deny"
        )
        # A target outside the deny list still works with the same config.
        ok = listen_on("127.0.0.1")
        with ok:
            client, rep = rs.connect5(srv.addr4, "127.0.0.1", ok.getsockname()[1])
            with client:
                assert rep.rep == 0, f"127.0.0.1 is not denied, CONNECT got {rep}"


def test_unknown_command_replies_0x07(server):
    sock = rs.open5(server.addr4)
    with sock:
        expect_error5(sock, rs.request5(0x09, "127.0.0.1", 80), 0x07, "request with CMD 0x09")


def test_unknown_address_type_replies_0x08(server):
    sock = rs.open5(server.addr4)
    with sock:
        # ATYP 0x09 followed by 6 bytes that could be anything.
        expect_error5(sock, bytes([5, 1, 0, 0x09, 127, 0, 0, 1, 0, 80]), 0x08, "request with ATYP 0x09")


def test_empty_domain_replies_0x01(server):
    sock = rs.open5(server.addr4)
    with sock:
        expect_error5(sock, bytes([5, 1, 0, rs.ATYP_DOMAIN, 0, 0, 80]), 0x01, "CONNECT to a zero-length domain")


def test_connect_timeout_gives_failure_reply(socksbox):
    srv = socksbox("--connect-timeout", "1s")
    # A listener whose accept queue is full silently drops new SYNs, so the
    # server's connect hangs until its own timeout.
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    filler = []
    try:
        for _ in range(4):
            f = socket.socket()
            f.settimeout(0.3)
            try:
                f.connect(lsock.getsockname())
            except OSError:  # a time-out too
                f.close()
                break
            filler.append(f)
        sock = rs.open5(srv.addr4)
        with sock:
            start = time.monotonic()
            sock.sendall(rs.request5(rs.CMD_CONNECT, "127.0.0.1", lsock.getsockname()[1]))
            # A time-out reaching the target is host unreachable 0x04 (docs/ARCHITECTURE.md).
            rs.assert_closed(
                sock, 6.0, "CONNECT to a black-holed target with --connect-timeout 1s", expect=rs.error_reply5(0x04)
            )
            took = time.monotonic() - start
            assert took < 4.0, f"failure reply took {took:.1f}s with --connect-timeout 1s"
    finally:
        for f in filler:
            f.close()
        lsock.close()


# ---------------------------------------------------------------------------
# relay behaviour
# ---------------------------------------------------------------------------


def test_half_close_from_client_still_delivers_everything_from_target(server):
    payload = random.Random(3).randbytes(1024 * 1024)
    lsock = listen_on("127.0.0.1")
    with lsock:
        client, _ = rs.connect5_ok(server.addr4, "127.0.0.1", lsock.getsockname()[1])
        with client:
            conn, _ = accept_one(lsock)
            with conn:
                client.sendall(b"request then EOF")
                client.shutdown(socket.SHUT_WR)
                got = rs.recv_all_until_eof(conn, timeout=5)
                assert got == b"request then EOF", (
                    f"target should see the client's bytes then EOF (half-close relayed), got {got!r}"
                )
                conn.sendall(payload)
                conn.shutdown(socket.SHUT_WR)
                back = rs.recv_all_until_eof(client, timeout=10)
                assert len(back) == len(payload) and back == payload, (
                    f"after half-closing, the client received {len(back)} of {len(payload)} bytes from the target"
                )


def test_half_close_from_target_still_lets_client_send(server):
    lsock = listen_on("127.0.0.1")
    with lsock:
        client, _ = rs.connect5_ok(server.addr4, "127.0.0.1", lsock.getsockname()[1])
        with client:
            conn, _ = accept_one(lsock)
            with conn:
                conn.sendall(b"bye from target")
                conn.shutdown(socket.SHUT_WR)
                got = rs.recv_all_until_eof(client, timeout=5)
                assert got == b"bye from target", f"client should get the target's bytes then EOF, got {got!r}"
                client.sendall(b"client still talking")
                got = rs.recv_exact(conn, 20, what="client data after the target half-closed")
                assert got == b"client still talking", f"target got {got!r}"


def test_pipelined_data_after_socks5_request_reaches_target(server):
    lsock = listen_on("127.0.0.1")
    with lsock:
        sock = rs.open5(server.addr4)
        with sock:
            sock.sendall(rs.request5(rs.CMD_CONNECT, "127.0.0.1", lsock.getsockname()[1]) + b"EARLY-DATA")
            rep = rs.read_reply5(sock)
            assert rep.rep == 0, f"pipelined CONNECT failed: {rep}"
            conn, _ = accept_one(lsock)
            with conn:
                got = rs.recv_exact(conn, 10, what="data pipelined right after the CONNECT request")
                assert got == b"EARLY-DATA", f"target received {got!r} instead of the pipelined bytes"


def test_pipelined_greeting_request_and_data_in_one_segment(server):
    lsock = listen_on("127.0.0.1")
    with lsock:
        sock = rs.tcp_connect(server.addr4)
        with sock:
            sock.sendall(
                rs.greeting5() + rs.request5(rs.CMD_CONNECT, "127.0.0.1", lsock.getsockname()[1]) + b"ALL-AT-ONCE"
            )
            assert rs.recv_exact(sock, 2, what="method reply") == b"\x05\x00"
            rep = rs.read_reply5(sock)
            assert rep.rep == 0, f"pipelined CONNECT failed: {rep}"
            conn, _ = accept_one(lsock)
            with conn:
                got = rs.recv_exact(conn, 11, what="data sent in the same segment as greeting+request")
                assert got == b"ALL-AT-ONCE", f"target received {got!r}"


def test_pipelined_data_after_socks4_request_reaches_target(server):
    lsock = listen_on("127.0.0.1")
    with lsock:
        sock = rs.tcp_connect(server.addr4)
        with sock:
            sock.sendall(rs.request4(rs.S4_CONNECT, "127.0.0.1", lsock.getsockname()[1], b"u") + b"EARLY4")
            rep = rs.read_reply4(sock)
            assert rep.cd == rs.S4_GRANTED, f"pipelined SOCKS4 CONNECT failed: {rep}"
            conn, _ = accept_one(lsock)
            with conn:
                got = rs.recv_exact(conn, 6, what="data pipelined after the SOCKS4 request")
                assert got == b"EARLY4", f"target received {got!r}"


def test_idle_timeout_closes_a_silent_relay_but_not_an_active_one(socksbox):
    srv = socksbox("--idle-timeout", "1s")
    lsock = listen_on("127.0.0.1")
    with lsock:
        client, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", lsock.getsockname()[1])
        with client:
            conn, _ = accept_one(lsock)
            with conn:
                # Active for ~2 s (longer than the idle timeout): must stay open.
                for i in range(8):
                    client.sendall(b"tick%d" % i)
                    got = rs.recv_exact(conn, 5, what=f"tick {i} while traffic flows")
                    assert got == b"tick%d" % i
                    res = rs.wait_closed(conn, 0.25)
                    assert (res.how, res.data) == ("open", b""), (
                        f"after tick {i}, with traffic flowing, the target side saw {res.how} "
                        f"(received {res.data!r}); expected the relay open and nothing more"
                    )
                # Now silence: the relay must be closed, both ways, within a bounded time.
                rs.assert_closed(client, 4.0, "the client side of a relay silent for longer than --idle-timeout 1s")
                rs.assert_closed(conn, 1.0, "the target side of the relay closed for idleness")
