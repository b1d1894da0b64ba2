"""PySocks clients (TCP over SOCKS4/4a/5, UDP over SOCKS5) through the server."""

from __future__ import annotations

import socket

import pytest
import socks  # PySocks

from support import PASSWORD, USER

IO_TIMEOUT = 5.0


def echo_once(sock, payload: bytes) -> bytes:
    sock.sendall(payload)
    got = bytearray()
    while len(got) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return bytes(got)


TCP_CASES = [
    # (id, proxy type, rdns, target host, family of the proxy listener)
    ("socks4", socks.SOCKS4, False, "127.0.0.1", 4),
    ("socks4a-localhost", socks.SOCKS4, True, "localhost", 4),
    ("socks5-ip", socks.SOCKS5, False, "127.0.0.1", 4),
    ("socks5-ipv6-target", socks.SOCKS5, False, "::1", 4),
    ("socks5-rdns-localhost", socks.SOCKS5, True, "localhost", 4),
    ("socks5-via-ipv6-listener", socks.SOCKS5, True, "localhost", 6),
    ("socks4-via-ipv6-listener", socks.SOCKS4, False, "127.0.0.1", 6),
]


@pytest.mark.parametrize("ptype,rdns,target,lfam", [c[1:] for c in TCP_CASES], ids=[c[0] for c in TCP_CASES])
def test_pysocks_tcp_echo_roundtrip(server, echo_target, ptype, rdns, target, lfam):
    phost, pport = server.addr4 if lfam == 4 else server.addr6
    # PySocks connects this very socket to the proxy, so its family is the listener's.
    fam = socket.AF_INET6 if lfam == 6 else socket.AF_INET
    s = socks.socksocket(fam, socket.SOCK_STREAM)
    s.set_proxy(ptype, phost, pport, rdns=rdns)
    s.settimeout(IO_TIMEOUT)
    try:
        s.connect((target, echo_target.port))
        payload = b"pysocks payload \x00\xff" * 100
        got = echo_once(s, payload)
        assert got == payload, f"echo via {ptype} to {target} came back as {len(got)} bytes, expected {len(payload)}"
    finally:
        s.close()


def test_pysocks_socks5_username_password(auth_server, echo_target):
    s = socks.socksocket(socket.AF_INET, socket.SOCK_STREAM)
    s.set_proxy(socks.SOCKS5, *auth_server.addr4, rdns=True, username=USER, password=PASSWORD)
    s.settimeout(IO_TIMEOUT)
    try:
        s.connect(("localhost", echo_target.port))
        assert echo_once(s, b"with credentials") == b"with credentials", "echo with SOCKS5 auth failed"
    finally:
        s.close()


def test_pysocks_socks5_wrong_password_is_rejected(auth_server, echo_target):
    s = socks.socksocket(socket.AF_INET, socket.SOCK_STREAM)
    s.set_proxy(socks.SOCKS5, *auth_server.addr4, username=USER, password="definitely-wrong")
    s.settimeout(IO_TIMEOUT)
    try:
        with pytest.raises(socks.ProxyError) as ei:
            s.connect(("127.0.0.1", echo_target.port))
    finally:
        s.close()
    assert "authentication" in str(ei.value).lower() or "rejected" in str(ei.value).lower(), (
        f"expected an authentication failure, got {ei.value!r}"
    )


def test_pysocks_socks5_connect_refused_reports_error(server):
    from support import refused_port

    hold, port = refused_port("127.0.0.1")
    s = socks.socksocket(socket.AF_INET, socket.SOCK_STREAM)
    s.set_proxy(socks.SOCKS5, *server.addr4)
    s.settimeout(IO_TIMEOUT)
    try:
        with pytest.raises(socks.GeneralProxyError) as ei:
            s.connect(("127.0.0.1", port))
    finally:
        s.close()
        hold.close()
    assert "refused" in str(ei.value).lower(), f"expected 'Connection refused' (REP 0x05), got {ei.value!r}"


UDP_CASES = [
    ("ipv4-target", "127.0.0.1", False),
    ("localhost-rdns", "localhost", True),
]


@pytest.mark.parametrize("target,rdns", [c[1:] for c in UDP_CASES], ids=[c[0] for c in UDP_CASES])
def test_pysocks_udp_echo_several_datagrams(server, udp_echo_target, target, rdns):
    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    s.set_proxy(socks.SOCKS5, *server.addr4, rdns=rdns)
    s.settimeout(IO_TIMEOUT)
    try:
        for i in range(5):
            payload = f"datagram {i} ".encode() * (i + 1)
            s.sendto(payload, (target, udp_echo_target.port))
            try:
                data, src = s.recvfrom(65535)
            except TimeoutError:
                pytest.fail(f"no UDP echo for datagram {i} to {target}:{udp_echo_target.port} within {IO_TIMEOUT}s")
            assert data == payload, f"datagram {i}: got {data!r}, expected {payload!r}"
            assert src[1] == udp_echo_target.port, (
                f"datagram {i}: reply names source {src}, expected port {udp_echo_target.port}"
            )
    finally:
        s.close()


def test_pysocks_udp_ipv6_target(server, udp_echo_target):
    # PySocks only speaks UDP ASSOCIATE over an IPv4 TCP connection, so this is
    # an IPv4 association whose target is [::1] (ATYP 4 in both directions).
    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    s.set_proxy(socks.SOCKS5, *server.addr4)
    s.settimeout(IO_TIMEOUT)
    try:
        for i in range(3):
            payload = b"v6 datagram %d" % i
            s.sendto(payload, ("::1", udp_echo_target.port))
            try:
                data, src = s.recvfrom(65535)
            except TimeoutError:
                pytest.fail(f"no UDP echo from [::1]:{udp_echo_target.port} for datagram {i} within {IO_TIMEOUT}s")
            assert data == payload, f"got {data!r}, expected {payload!r}"
            assert src[0] == "::1" and src[1] == udp_echo_target.port, (
                f"reply source {src}, expected ('::1', {udp_echo_target.port})"
            )
    finally:
        s.close()
