"""UDP ASSOCIATE with raw datagrams (RFC 1928 section 7)."""

from __future__ import annotations

import socket
import time

import pytest

import rawsocks as rs

NO_DATAGRAM_WAIT = 0.7  # how long we listen to conclude "dropped"


def associate(proxy, client_udp: socket.socket | None, name_port: bool = True):
    """Open the TCP control connection and request UDP ASSOCIATE.

    With name_port the request names the client's UDP address and port,
    otherwise it names 0.0.0.0:0 (or [::]:0)."""
    tcp = rs.open5(proxy)
    if name_port and client_udp is not None:
        host, port = client_udp.getsockname()[:2]
    else:
        host, port = ("::" if ":" in proxy[0] else "0.0.0.0"), 0
    tcp.sendall(rs.request5(rs.CMD_UDP, host, port))
    rep = rs.read_reply5(tcp, what="UDP ASSOCIATE reply")
    if rep.rep != 0:
        tcp.close()
        pytest.fail(f"UDP ASSOCIATE ({host}:{port}) via {proxy} failed: {rep}")
    lo = "::1" if ":" in proxy[0] else "127.0.0.1"
    assert rs.canon(rep.host) == lo and rep.port != 0, (
        f"UDP ASSOCIATE reply must name where to send datagrams ({lo} and a port), got {rep}"
    )
    return tcp, (rep.host, rep.port)


def expect_reply(client: socket.socket, relay, payload: bytes, src_host: str, src_port: int, what: str):
    data, frm = rs.udp_recv(client, 3.0)
    assert data is not None, f"{what}: no datagram came back through the relay within 3s"
    assert (rs.canon(frm[0]), frm[1]) == (rs.canon(relay[0]), relay[1]), (
        f"{what}: datagram came from {frm[:2]}, expected the relay {relay}"
    )
    d = rs.udp_unwrap(data)
    assert d.rsv == b"\x00\x00" and d.frag == 0, f"{what}: bad header RSV={d.rsv!r} FRAG={d.frag} in {data[:40]!r}"
    want_atyp = rs.ATYP_V6 if ":" in src_host else rs.ATYP_V4
    assert (d.atyp, rs.canon(d.host), d.port) == (want_atyp, rs.canon(src_host), src_port), (
        f"{what}: header names source {d.host}:{d.port} (ATYP {d.atyp}), expected {src_host}:{src_port} "
        f"(ATYP {want_atyp})"
    )
    assert d.data == payload, f"{what}: payload {d.data[:60]!r}, expected {payload[:60]!r}"


def nothing_arrives(sock: socket.socket, timeout: float = NO_DATAGRAM_WAIT):
    data, frm = rs.udp_recv(sock, timeout)
    return data is None, (data, frm)


UDP_CASES = [
    # id, listener family, client address, target host sent in the header, the source the reply names.
    # "localhost" is ::1 then 127.0.0.1, and a datagram for a name goes to its first address
    # (docs/ARCHITECTURE.md), so the echo from ::1 answers it.
    ("v4-client-v4-target", "v4", "127.0.0.1", "127.0.0.1", "127.0.0.1"),
    ("v6-client-v6-target", "v6", "::1", "::1", "::1"),
    ("v4-client-localhost", "v4", "127.0.0.1", "localhost", "::1"),
    ("v6-client-localhost", "v6", "::1", "localhost", "::1"),
    ("v4-client-v6-target", "v4", "127.0.0.1", "::1", "::1"),
]


@pytest.mark.parametrize("lfam,client_host,target,source", [c[1:] for c in UDP_CASES], ids=[c[0] for c in UDP_CASES])
def test_udp_echo_reply_header_names_the_real_source(server, udp_echo_target, lfam, client_host, target, source):
    proxy = server.addr4 if lfam == "v4" else server.addr6
    client = rs.udp_socket(client_host)
    with client:
        tcp, relay = associate(proxy, client)
        with tcp:
            for i in range(5):
                payload = b"udp %d " % i + bytes(range(256)) * (i + 1)
                client.sendto(rs.udp_wrap(target, udp_echo_target.port, payload), relay)
                expect_reply(client, relay, payload, source, udp_echo_target.port, f"datagram {i} to {target}")


def test_udp_datagram_from_another_port_is_dropped(server):
    client = rs.udp_socket("127.0.0.1")
    intruder = rs.udp_socket("127.0.0.1")
    target = rs.udp_socket("127.0.0.1")
    with client, intruder, target:
        tcp, relay = associate(server.addr4, client, name_port=True)
        with tcp:
            tport = target.getsockname()[1]
            intruder.sendto(rs.udp_wrap("127.0.0.1", tport, b"from the intruder"), relay)
            client.sendto(rs.udp_wrap("127.0.0.1", tport, b"from the client"), relay)
            data, _ = rs.udp_recv(target, 3.0)
            assert data is not None, "the client's own datagram never reached the target"
            assert data == b"from the client", (
                f"target received {data!r}: a datagram from a port other than the one named in the request was relayed"
            )
            quiet, got = nothing_arrives(target)
            assert quiet, f"target received a second datagram {got}: the intruder's datagram was relayed"


def test_udp_datagram_from_another_ip_is_dropped_and_port_zero_locks_on_first_sender(server):
    client = rs.udp_socket("127.0.0.1")
    same_ip_other_port = rs.udp_socket("127.0.0.1")
    other_ip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_ip.bind(("127.0.0.2", 0))
    target = rs.udp_socket("127.0.0.1")
    with client, same_ip_other_port, other_ip, target:
        tcp, relay = associate(server.addr4, client, name_port=False)  # names 0.0.0.0:0
        with tcp:
            tport = target.getsockname()[1]
            other_ip.sendto(rs.udp_wrap("127.0.0.1", tport, b"from 127.0.0.2"), relay)
            quiet, got = nothing_arrives(target)
            assert quiet, f"a datagram from 127.0.0.2 (not the client's IP 127.0.0.1) was relayed: {got}"
            client.sendto(rs.udp_wrap("127.0.0.1", tport, b"first sender"), relay)
            data, _ = rs.udp_recv(target, 3.0)
            assert data == b"first sender", f"the client's first datagram was not relayed (got {data!r})"
            same_ip_other_port.sendto(rs.udp_wrap("127.0.0.1", tport, b"second port"), relay)
            quiet, got = nothing_arrives(target)
            assert quiet, (
                f"the request named port 0 and the first datagram came from port {client.getsockname()[1]}; "
                f"a datagram from port {same_ip_other_port.getsockname()[1]} must be dropped, but target got {got}"
            )
            client.sendto(rs.udp_wrap("127.0.0.1", tport, b"still the client"), relay)
            data, _ = rs.udp_recv(target, 3.0)
            assert data == b"still the client", f"the locked-on client's datagram was not relayed (got {data!r})"


def test_udp_fragmented_datagram_is_dropped(server):
    client = rs.udp_socket("127.0.0.1")
    target = rs.udp_socket("127.0.0.1")
    with client, target:
        tcp, relay = associate(server.addr4, client)
        with tcp:
            tport = target.getsockname()[1]
            for frag in (1, 0x81):
                client.sendto(rs.udp_wrap("127.0.0.1", tport, b"fragment %d" % frag, frag=frag), relay)
                quiet, got = nothing_arrives(target)
                assert quiet, f"a datagram with FRAG=0x{frag:02x} was relayed (must be dropped): {got}"
            client.sendto(rs.udp_wrap("127.0.0.1", tport, b"whole"), relay)
            data, _ = rs.udp_recv(target, 3.0)
            assert data == b"whole", f"an unfragmented datagram after the dropped ones was not relayed: {data!r}"


def test_udp_replies_only_from_addresses_the_client_sent_to(server):
    client = rs.udp_socket("127.0.0.1")
    target = rs.udp_socket("127.0.0.1")
    stranger = rs.udp_socket("127.0.0.1")
    with client, target, stranger:
        tcp, relay = associate(server.addr4, client)
        with tcp:
            tport = target.getsockname()[1]
            client.sendto(rs.udp_wrap("127.0.0.1", tport, b"hello target"), relay)
            data, relay_out = rs.udp_recv(target, 3.0)
            assert data == b"hello target", f"target did not receive the client's datagram: {data!r}"
            # The stranger learns the relay's outgoing address and writes to it.
            stranger.sendto(b"unsolicited", relay_out)
            quiet, got = nothing_arrives(client)
            assert quiet, f"a datagram from an address the client never sent to was relayed to the client: {got}"
            target.sendto(b"answer from target", relay_out)
            expect_reply(client, relay, b"answer from target", "127.0.0.1", tport, "reply from the contacted target")


def test_udp_association_ends_when_its_tcp_connection_closes(server):
    client = rs.udp_socket("127.0.0.1")
    target = rs.udp_socket("127.0.0.1")
    with client, target:
        tcp, relay = associate(server.addr4, client)
        tport = target.getsockname()[1]
        client.sendto(rs.udp_wrap("127.0.0.1", tport, b"before close"), relay)
        data, _ = rs.udp_recv(target, 3.0)
        assert data == b"before close", f"association did not work before the close: {data!r}"
        tcp.close()
        # Poll (bounded) until relaying stops, then confirm it stays stopped.
        deadline = time.monotonic() + 5.0
        stopped = False
        i = 0
        while time.monotonic() < deadline:
            client.sendto(rs.udp_wrap("127.0.0.1", tport, b"after close %d" % i), relay)
            data, _ = rs.udp_recv(target, 0.3)
            i += 1
            if data is None:
                stopped = True
                break
        assert stopped, "datagrams were still relayed 5s after the association's TCP connection closed"
        client.sendto(rs.udp_wrap("127.0.0.1", tport, b"late"), relay)
        quiet, got = nothing_arrives(target)
        assert quiet, f"a datagram sent after the TCP close was relayed: {got}"


def test_udp_idle_timeout_closes_the_tcp_connection(socksbox, udp_echo_target):
    srv = socksbox("--udp-idle-timeout", "1s")
    client = rs.udp_socket("127.0.0.1")
    with client:
        tcp, relay = associate(srv.addr4, client)
        with tcp:
            # Traffic for ~2 s (longer than the idle timeout) keeps the association alive.
            for i in range(6):
                payload = b"keepalive %d" % i
                client.sendto(rs.udp_wrap("127.0.0.1", udp_echo_target.port, payload), relay)
                expect_reply(client, relay, payload, "127.0.0.1", udp_echo_target.port, f"keepalive {i}")
                res = rs.wait_closed(tcp, 0.3)
                assert (res.how, res.data) == ("open", b""), (
                    f"after {i + 1} datagrams, with traffic flowing, the TCP connection saw {res.how} "
                    f"(received {res.data!r}); expected it open and silent"
                )
            rs.assert_closed(tcp, 4.0, "the TCP connection of a UDP association silent beyond --udp-idle-timeout 1s")
        client.sendto(rs.udp_wrap("127.0.0.1", udp_echo_target.port, b"after idle"), relay)
        quiet, got = nothing_arrives(client)
        assert quiet, f"a datagram after the idle timeout still got an answer: {got}"
