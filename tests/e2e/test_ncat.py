"""ncat through the server to the TCP echo server.

ncat's own behaviour on stdin EOF (7.x): by default it shuts down its write
side (half-close) and keeps reading until the other end closes; the echo
server answers the half-close by closing, so ncat exits 0 only if the server
relays the half-close to the target and the target's close back. With
--no-shutdown ncat keeps the connection fully open after stdin EOF and only
its idle timeout (-i) ends it, with exit code 1.
"""

from __future__ import annotations

import random

import pytest

from support import PASSWORD, USER, run_tool


def ncat(proxy_addr, proxy_type, host, port, data: bytes, *extra, timeout=20):
    ph, pp = proxy_addr
    proxy = f"[{ph}]:{pp}" if ":" in ph else f"{ph}:{pp}"
    cmd = ["ncat", "-w", "5", "--proxy", proxy, "--proxy-type", proxy_type, *extra, host, str(port)]
    return run_tool(cmd, timeout=timeout, input=data)


def describe(res) -> str:
    return (
        f"ncat exit {res.returncode}, stdout {res.stdout[:200]!r}, stderr {res.stderr.decode(errors='replace')[:500]!r}"
    )


CASES = [
    ("socks5", "127.0.0.1", ()),
    ("socks5", "::1", ()),
    ("socks5", "localhost", ("--proxy-dns", "remote")),
    ("socks4", "127.0.0.1", ()),
    ("socks4", "localhost", ("--proxy-dns", "remote")),  # ncat sends SOCKS4a here
]


@pytest.mark.parametrize("ptype,target,extra", CASES, ids=[f"{p}-{t}" for p, t, _ in CASES])
def test_ncat_echo_roundtrip_and_exit_after_stdin_eof(server, echo_target, ptype, target, extra):
    data = b"ncat says hello through socksbox\n" * 3
    res = ncat(server.addr4, ptype, target, echo_target.port, data, *extra)
    assert res.stdout == data, f"echo through {ptype} to {target} did not come back intact: {describe(res)}"
    assert res.returncode == 0, (
        f"ncat did not finish cleanly after stdin EOF (the half-close must reach the echo server and its "
        f"close must come back): {describe(res)}"
    )


def test_ncat_socks5_via_ipv6_listener(server, echo_target):
    data = b"over the IPv6 listener\n"
    res = ncat(server.addr6, "socks5", "::1", echo_target.port, data)
    assert res.stdout == data and res.returncode == 0, f"socks5 via [::1] listener: {describe(res)}"


def test_ncat_large_payload_echoes_byte_exact(server, echo_target):
    data = random.Random(7).randbytes(2 * 1024 * 1024)
    res = ncat(server.addr4, "socks5", "127.0.0.1", echo_target.port, data, timeout=40)
    assert res.returncode == 0, f"2 MiB echo through socks5: {describe(res)}"
    assert len(res.stdout) == len(data), f"got {len(res.stdout)} bytes back, sent {len(data)}"
    assert res.stdout == data, "2 MiB echo came back with different bytes"


def test_ncat_socks5_with_proxy_auth(auth_server, echo_target):
    data = b"authenticated hello\n"
    res = ncat(auth_server.addr4, "socks5", "127.0.0.1", echo_target.port, data, "--proxy-auth", f"{USER}:{PASSWORD}")
    assert res.stdout == data and res.returncode == 0, f"socks5 with --proxy-auth: {describe(res)}"


def test_ncat_socks5_with_wrong_proxy_auth_fails(auth_server, echo_target):
    data = b"should not arrive\n"
    res = ncat(
        auth_server.addr4, "socks5", "127.0.0.1", echo_target.port, data, "--proxy-auth", f"{USER}:not-the-password"
    )
    assert res.returncode != 0, f"ncat with a wrong password succeeded: {describe(res)}"
    assert data not in res.stdout, "data was echoed despite a wrong password"


def test_ncat_socks4_refused_when_passwords_required(auth_server, echo_target):
    data = b"socks4 should be refused\n"
    res = ncat(auth_server.addr4, "socks4", "127.0.0.1", echo_target.port, data)
    assert res.returncode != 0, f"SOCKS4 went through although passwords are required: {describe(res)}"
    assert data not in res.stdout


def test_ncat_no_shutdown_keeps_relay_open_until_ncat_idle_timeout(server, echo_target):
    data = b"no half-close this time\n"
    res = ncat(server.addr4, "socks5", "127.0.0.1", echo_target.port, data, "--no-shutdown", "-i", "1")
    assert res.stdout == data, f"echo with --no-shutdown did not come back: {describe(res)}"
    err = res.stderr.decode(errors="replace")
    # The relay must stay open after stdin EOF (no spurious close), so ncat
    # ends through its own idle timeout.
    assert res.returncode == 1 and "Idle timeout" in err, (
        f"expected ncat to end by its 1 s idle timeout (the relay stays open), got: {describe(res)}"
    )
