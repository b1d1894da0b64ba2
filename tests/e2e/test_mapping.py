"""Port mappings (`--map` and `[[mappings]]`), driven by real programs:
curl through a TCP mapping to an HTTP server, dig through a UDP (and a TCP)
mapping to a real DNS server (dnsmasq) on loopback, a byte-exact echo, each
direct and through a chain of Dante; a target that refuses, a name that
cannot be resolved, and an address already in use. Everything runs on
loopback; the LAN side (a refused client address, this machine's loopback
services out of reach) is in test_lan.py.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

import upstreams as up
from conftest import SMALL_BODY
from support import clean_env, curl, refused_port, require, run_tool, wait_log

DANTE_EXT = "127.0.0.5"  # Dante's outgoing address: what the target sees through the chain
MAPPING_RE = re.compile(
    r"^mapping (?P<name>.+) listening on (?P<host>\[[^\]]+\]|[\d.]+):(?P<port>\d+) \((?P<what>TCP|UDP)\)$"
)
WAIT = 10.0
DNS_NAME, DNS_ADDR = "game.mapped.test", "192.0.2.77"


def mapped(srv, count: int) -> dict:
    """The mappings' listening addresses the server printed: {(name, "TCP"|"UDP"): (host, port)}."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = {}
        for line in list(srv.stdout_lines):
            m = MAPPING_RE.match(line)
            if m:
                found[(m["name"], m["what"])] = (m["host"].strip("[]"), int(m["port"]))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    pytest.fail(f"the server printed {count} mapping line(s) within {WAIT}s: {srv.stdout_lines!r}\n{srv.stderr_text()}")


def mapping_config(*mappings: dict, chain: str | None = None, dns: int | None = None) -> str:
    lines = []
    if chain:
        lines += ["[upstream]", f'chain = ["{chain}"]', ""]
    if dns:
        lines += ["[dns]", f'servers = ["127.0.0.1:{dns}"]', ""]
    for m in mappings:
        lines.append("[[mappings]]")
        lines += [
            f"{key} = {value}" if value in ("true", "false") else f'{key} = "{value}"' for key, value in m.items()
        ]
        lines.append("")
    return "\n".join(lines)


@pytest.fixture
def dante(tmp_path):
    yield from up.upstream_factory(tmp_path, up.Dante, "Dante", up.danted_available(), up.DANTED, "dante-server")


class Dnsmasq:
    """A real DNS server on 127.0.0.1 (UDP and TCP, one port) that knows one
    name and answers NXDOMAIN for every other under .test and .invalid."""

    def __init__(self, workdir):
        self.port = up.free_port()
        self.log = workdir / f"dnsmasq-{self.port}.log"
        cmd = [
            shutil.which("dnsmasq") or "/usr/sbin/dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            f"--port={self.port}",
            f"--address=/{DNS_NAME}/{DNS_ADDR}",
            "--local=/test/",
            "--local=/invalid/",
            f"--log-facility={self.log}",
            "--log-queries",
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        with open(workdir / f"dnsmasq-{self.port}.err", "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=clean_env())
        if not up.wait_text(lambda: self.log.read_text() if self.log.exists() else "", r"started", WAIT):
            self.stop()
            pytest.fail(f"dnsmasq did not start: {(workdir / f'dnsmasq-{self.port}.err').read_text()}")
        self.addr = ("127.0.0.1", self.port)

    def queries(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def dnsmasq(tmp_path):
    require(
        shutil.which("dnsmasq") or os.path.exists("/usr/sbin/dnsmasq"),
        "dnsmasq is not installed: apt-get install -y dnsmasq-base",
    )
    require(shutil.which("dig"), "dig is not installed: apt-get install -y dnsutils")
    server = Dnsmasq(tmp_path)
    yield server
    server.stop()


def dig(host: str, port: int, name: str, *extra: str) -> str:
    done = run_tool(
        ["dig", f"@{host}", "-p", str(port), name, "A", "+short", "+time=3", "+tries=1", *extra], timeout=20
    )
    assert done.returncode == 0, f"dig via {host}:{port} failed: {done.stdout!r} {done.stderr!r}"
    return done.stdout.decode().strip()


def echo_exact(addr, payload: bytes) -> bytes:
    """Sends payload, half-closes, reads until the other side closes."""
    with socket.create_connection(addr, timeout=WAIT) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def udp_roundtrip(addr, payload: bytes) -> tuple[bytes, tuple]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        for _ in range(3):  # UDP: a lost datagram is sent again, three times at most
            s.sendto(payload, addr)
            try:
                return s.recvfrom(65535)
            except TimeoutError:
                continue
    pytest.fail(f"no reply through the UDP mapping {addr} after 3 tries")


# ---------------------------------------------------------------------------
# TCP
# ---------------------------------------------------------------------------


def test_tcp_mapping_relays_bytes_exactly_with_half_close(socksbox, echo_target):
    srv = socksbox("--map", f"127.0.0.1:0=127.0.0.1:{echo_target.port}", listen=("127.0.0.1:0",))
    addr = mapped(srv, 1)[("127.0.0.1:0/tcp", "TCP")]
    payload = random.Random(16).randbytes(3 * 1024 * 1024 + 17)
    back = echo_exact(addr, payload)
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(payload).hexdigest(), (
        f"{len(back)} bytes came back for {len(payload)} sent"
    )
    line = wait_log(srv, r"mapped connection ended: both sides closed.*", "the mapped session's end")
    assert f"up={len(payload)}" in line and f"down={len(payload)}" in line, line


def test_curl_through_a_tcp_mapping_gets_the_page_byte_for_byte(socksbox, http_target):
    srv = socksbox("--map", f"127.0.0.1:0=localhost:{http_target.port}", listen=("127.0.0.1:0",))
    host, port = mapped(srv, 1)[("127.0.0.1:0/tcp", "TCP")]
    done = curl(f"http://{host}:{port}/big")
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(done.stdout).digest() == hashlib.sha256(http_target.big).digest()
    peer = curl(f"http://{host}:{port}/peer").stdout.decode().split()[0]
    # localhost: the server resolved the name itself (either loopback address).
    assert peer in ("127.0.0.1", "::1"), f"a direct mapping connects from this machine, the target saw {peer}"


def test_tcp_mapping_through_a_dante_chain(socksbox, dante, http_target, echo_target):
    d = dante(external=DANTE_EXT)
    config = mapping_config(
        {"name": "web", "listen": "127.0.0.1:0", "target": f"127.0.0.1:{http_target.port}", "route": "chain"},
        {"name": "echo", "listen": "127.0.0.1:0", "target": f"localhost:{echo_target.port}", "route": "chain"},
        chain=d.url(),
    )
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    found = mapped(srv, 2)
    host, port = found[("web", "TCP")]
    done = curl(f"http://{host}:{port}/big")
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(done.stdout).digest() == hashlib.sha256(http_target.big).digest()
    peer = curl(f"http://{host}:{port}/peer").stdout.decode().split()[0]
    assert peer == DANTE_EXT, f"through the chain the target must see Dante's {DANTE_EXT}, it saw {peer}"
    payload = random.Random(17).randbytes(512 * 1024)
    assert echo_exact(found[("echo", "TCP")], payload) == payload


def test_a_refusing_target_closes_the_client_at_once_and_says_why(socksbox):
    holder, port = refused_port()
    with holder:
        srv = socksbox("--map", f"127.0.0.1:0=127.0.0.1:{port}", listen=("127.0.0.1:0",))
        host, mport = mapped(srv, 1)[("127.0.0.1:0/tcp", "TCP")]
        started = time.monotonic()
        done = curl(f"http://{host}:{mport}/", max_time=10)
        took = time.monotonic() - started
        assert done.returncode in (7, 52, 56), (
            f"curl through a mapping to a refusing target: {done.returncode} {done.stderr!r}"
        )
        assert took < 3, f"the client waited {took:.1f}s for a target that refuses"
        wait_log(
            srv, rf"mapped connection closed: cannot reach 127\.0\.0\.1:{port}: .*[Rr]efused", "the refusal's reason"
        )


def test_a_name_that_cannot_be_resolved_closes_the_client_and_says_why(socksbox, dnsmasq):
    config = mapping_config(
        {"name": "nowhere", "listen": "127.0.0.1:0", "target": "nowhere.mapped.test:80"}, dns=dnsmasq.port
    )
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    host, port = mapped(srv, 1)[("nowhere", "TCP")]
    done = curl(f"http://{host}:{port}/", max_time=10)
    assert done.returncode in (7, 52, 56), (
        f"curl through a mapping to an unknown name: {done.returncode} {done.stderr!r}"
    )
    wait_log(srv, r"mapped connection closed: cannot reach nowhere\.mapped\.test:80: .*", "the lookup failure's reason")
    # dnsmasq writes its log when idle: wait for the line.
    assert up.wait_text(dnsmasq.queries, r"query\[A+\] nowhere\.mapped\.test from 127\.0\.0\.1", WAIT), (
        f"the name was not looked up at the configured DNS server:\n{dnsmasq.queries()[-1500:]}"
    )


def test_an_address_in_use_fails_that_mapping_only(socksbox, echo_target, http_target):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    with taken:
        busy = taken.getsockname()[1]
        srv = socksbox(
            "--map",
            f"127.0.0.1:{busy}=127.0.0.1:{echo_target.port}",
            "--map",
            f"127.0.0.1:0=127.0.0.1:{echo_target.port}",
            listen=("127.0.0.1:0",),
        )
        found = mapped(srv, 1)
        failed = [line for line in srv.stdout_lines if line.startswith(f"mapping 127.0.0.1:{busy}/tcp failed: ")]
        assert failed and "already in use by another program" in failed[0], srv.stdout_lines
        assert echo_exact(found[("127.0.0.1:0/tcp", "TCP")], b"still here") == b"still here"
        done = curl("-x", f"socks5h://{srv.addr4[0]}:{srv.addr4[1]}", http_target.url("127.0.0.1", "/small"))
        assert done.returncode == 0, f"the SOCKS server must keep serving: {done.stderr!r}"


# ---------------------------------------------------------------------------
# UDP
# ---------------------------------------------------------------------------


def test_udp_mapping_to_an_echo_replies_from_the_mapped_port(socksbox, udp_echo_target):
    srv = socksbox("--map", f"127.0.0.1:0=127.0.0.1:{udp_echo_target.port}/udp", listen=("127.0.0.1:0",))
    addr = mapped(srv, 1)[("127.0.0.1:0/udp", "UDP")]
    for size in (1, 1400, 8000):
        payload = random.Random(size).randbytes(size)
        data, source = udp_roundtrip(addr, payload)
        assert data == payload, f"{size}-byte datagram came back as {len(data)} bytes"
        assert source == addr, f"the reply came from {source}, not the mapping's {addr}"


def test_dig_through_udp_and_tcp_mappings_to_dnsmasq(socksbox, dnsmasq):
    srv = socksbox("--map", f"127.0.0.1:0=127.0.0.1:{dnsmasq.port}/both", listen=("127.0.0.1:0",))
    found = mapped(srv, 2)
    udp, tcp = found[("127.0.0.1:0/both", "UDP")], found[("127.0.0.1:0/both", "TCP")]
    assert udp[1] == tcp[1], "both protocols listen on one port"
    assert dig(*udp, DNS_NAME) == DNS_ADDR
    assert dig(*tcp, DNS_NAME, "+tcp") == DNS_ADDR
    assert dig(*udp, "other.mapped.test") == "", "an unknown name has no answer"


def test_udp_mapping_through_a_dante_chain(socksbox, dante, dnsmasq, udp_echo_target):
    d = dante(external=DANTE_EXT)
    config = mapping_config(
        {
            "name": "dns",
            "listen": "127.0.0.1:0",
            "target": f"127.0.0.1:{dnsmasq.port}",
            "protocol": "udp",
            "route": "chain",
        },
        {
            "name": "echo",
            "listen": "127.0.0.1:0",
            "target": f"127.0.0.1:{udp_echo_target.port}",
            "protocol": "udp",
            "route": "chain",
        },
        chain=d.url(),
    )
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    found = mapped(srv, 2)
    assert dig(*found[("dns", "UDP")], DNS_NAME) == DNS_ADDR
    # Dante's address as the query's source (dnsmasq writes its log when idle).
    assert up.wait_text(dnsmasq.queries, rf"query\[A\] {re.escape(DNS_NAME)} from {re.escape(DANTE_EXT)}", WAIT), (
        f"dnsmasq must see the query from Dante's {DANTE_EXT}:\n{dnsmasq.queries()[-1500:]}"
    )
    payload = b"through the chain"
    data, source = udp_roundtrip(found[("echo", "UDP")], payload)
    assert (data, source) == (payload, found[("echo", "UDP")])
    sources = {src[0] for src, seen in udp_echo_target.seen if seen == payload}
    assert sources == {DANTE_EXT}, f"the echo saw the datagram from {sources}"
    wait_log(srv, r"mapping=echo.*|mapped UDP flow started.*mapping=echo", "the flow in the log")


def test_udp_mapping_ignores_replies_from_other_hosts(socksbox):
    """A datagram sent to the flow's outgoing port from anywhere but the target is not relayed."""
    target = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target.bind(("127.0.0.1", 0))
    target.settimeout(WAIT)
    with target:
        srv = socksbox("--map", f"127.0.0.1:0=127.0.0.1:{target.getsockname()[1]}/udp", listen=("127.0.0.1:0",))
        addr = mapped(srv, 1)[("127.0.0.1:0/udp", "UDP")]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(1.5)
            client.sendto(b"hello", addr)
            data, flow = target.recvfrom(100)
            assert data == b"hello"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
                stranger.bind(("127.0.0.2", 0))
                stranger.sendto(b"spoofed", flow)
            target.sendto(b"genuine", flow)
            got, _ = client.recvfrom(100)
            assert got == b"genuine", f"the first datagram relayed was {got!r}"
            with pytest.raises(TimeoutError):
                client.recvfrom(100)


def test_a_udp_flow_ends_after_the_udp_idle_time(socksbox, udp_echo_target):
    srv = socksbox(
        "--udp-idle-timeout",
        "1s",
        "--map",
        f"127.0.0.1:0=127.0.0.1:{udp_echo_target.port}/udp",
        listen=("127.0.0.1:0",),
    )
    addr = mapped(srv, 1)[("127.0.0.1:0/udp", "UDP")]
    assert udp_roundtrip(addr, b"once")[0] == b"once"
    line = wait_log(srv, r"mapped UDP flow ended: no datagram for the UDP idle time.*", "the idle flow's end")
    assert "up=4" in line and "down=4" in line, line
    # A new datagram opens a new flow.
    assert udp_roundtrip(addr, b"again")[0] == b"again"


def test_a_reload_starts_changes_and_stops_mappings(socksbox, tmp_path, echo_target, http_target):
    port = up.free_port()
    first = mapping_config({"name": "m", "listen": f"127.0.0.1:{port}", "target": f"127.0.0.1:{echo_target.port}"})
    srv = socksbox(config=first, listen=("127.0.0.1:0",))
    mapped(srv, 1)
    assert echo_exact(("127.0.0.1", port), b"before") == b"before"
    config_file = next(p for p in tmp_path.glob("config-*.toml"))

    config_file.write_text(
        mapping_config({"name": "m", "listen": f"127.0.0.1:{port}", "target": f"127.0.0.1:{http_target.port}"})
    )
    os.kill(srv.pid, signal.SIGHUP)
    wait_log(srv, r"configuration reloaded", "the reload")
    done = curl(f"http://127.0.0.1:{port}/small")
    assert done.returncode == 0 and done.stdout == SMALL_BODY, f"the changed mapping: {done.returncode} {done.stderr!r}"

    config_file.write_text(
        mapping_config(
            {"name": "m", "listen": f"127.0.0.1:{port}", "target": f"127.0.0.1:{http_target.port}", "enabled": "false"}
        )
    )
    os.kill(srv.pid, signal.SIGHUP)
    wait_log(srv, r"(?s)configuration reloaded.*configuration reloaded", "the second reload")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
