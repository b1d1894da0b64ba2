"""The server facing hostile clients: password guessing, names that dodge
the destination checks, connections that hold slots, forged log lines,
slow DNS, UDP memory, and the rest of the LAN's tricks.

Clients on other loopback addresses (127.0.0.2, 127.0.0.3, ...) stand for
other hosts: the per-client caps count an IPv4 address as one client, and
the tests turn on `limits.per_client_limits_for_loopback` so that they
apply to loopback clients too. Everything stays on loopback.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import struct
import threading
import time

import pytest

import rawsocks as rs
from support import PASSWORD, USER, hostname_on_loopback

CLOSE_WITHIN = 3.0


def throttle_config(delay="100ms", max_delay="400ms", block_after=4, block_for="60s") -> str:
    return f"""
[auth]
required = true
users = [{{ name = "{USER}", password = "{PASSWORD}" }}]
[auth.throttle]
delay = "{delay}"
max_delay = "{max_delay}"
block_after = {block_after}
window = "10m"
block_for = "{block_for}"
"""


def login(proxy, password: str, source: str) -> tuple[int, float]:
    """One RFC 1929 login from `source`: (status, seconds until it came)."""
    sock = rs.tcp_connect(proxy, source=source)
    with sock:
        assert rs.negotiate5(sock, (rs.M_USERPASS,)) == rs.M_USERPASS
        started = time.monotonic()
        ver, status = rs.userpass5(sock, USER, password, timeout=10)
        return status, time.monotonic() - started


# ---------------------------------------------------------------------------
# 1. password guessing
# ---------------------------------------------------------------------------


def test_failed_logins_back_off_then_block_the_source_alone(socksbox):
    srv = socksbox(config=throttle_config())
    proxy = srv.addr4
    delays = []
    for n in range(4):
        status, took = login(proxy, f"guess-{n}", "127.0.0.2")
        assert status != 0, f"guess {n} was accepted"
        delays.append(took)
    # Each failure waits before it is answered, twice as long each time up
    # to the maximum: 0.1, 0.2, 0.4, 0.4 s (lower bounds: a busy machine only
    # adds).
    for took, least in zip(delays, (0.1, 0.2, 0.4, 0.4), strict=True):
        assert took >= least - 0.02, f"failure replies came after {delays}, expected at least 0.1/0.2/0.4/0.4 s"
    # Blocked now: even the right password is refused, after the delay.
    status, took = login(proxy, PASSWORD, "127.0.0.2")
    assert status != 0, "a blocked source logged in with the right password"
    assert took >= 0.38, f"a blocked source was answered after {took:.2f}s, not after the delay"
    # Another client is not affected: it logs in at once.
    status, took = login(proxy, PASSWORD, "127.0.0.3")
    assert status == 0, "a client on another address was refused with the right password"
    assert took < 0.3, f"the other client waited {took:.2f}s"
    log = srv.stderr_text(200_000)
    warned = [line for line in log.splitlines() if " WARN " in line and "authentication failed" in line]
    assert len(warned) == 1, f"failed logins must be logged once per source and minute, not per attempt:\n{log[-3000:]}"
    assert "blocked for 1m after 4 failed logins" in log, log[-3000:]


def test_guessing_with_many_connections_at_once_still_blocks(socksbox):
    srv = socksbox(config=throttle_config(delay="50ms", max_delay="100ms", block_after=5))
    proxy = srv.addr4
    results = []

    def guess(n):
        results.append(login(proxy, f"parallel-{n}", "127.0.0.4")[0])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 20 and all(status != 0 for status in results), results
    status, _ = login(proxy, PASSWORD, "127.0.0.4")
    assert status != 0, "the right password got through after 20 parallel guesses"


# ---------------------------------------------------------------------------
# 2. names that are addresses
# ---------------------------------------------------------------------------

ADDRESS_SPELLINGS = ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.0.0.1.", "0x7f000001"]


def connect_name(proxy, name: str, port: int, atyp=rs.ATYP_DOMAIN) -> rs.Reply5:
    sock = rs.open5(proxy)
    with sock:
        sock.sendall(rs.request5(rs.CMD_CONNECT, name, port, atyp_override=rs.encode_addr(name, atyp)))
        return rs.read_reply5(sock, what=f"CONNECT to {name!r}")


@pytest.mark.parametrize("name", ADDRESS_SPELLINGS)
def test_a_refuse_rule_for_a_range_catches_every_spelling_of_its_addresses(socksbox, echo_target, name):
    srv = socksbox("--route", "cidr:127.0.0.0/8=refuse")
    reply = connect_name(srv.addr4, name, echo_target.port)
    assert reply.rep == 0x02, f"{name!r} dodged the refuse rule for 127.0.0.0/8: {reply}"


@pytest.mark.parametrize("name", [*ADDRESS_SPELLINGS, "::ffff:127.0.0.1", "hosts-file"])
def test_deny_rules_hold_through_the_chain_for_every_spelling(socksbox, echo_target, name):
    if name == "hosts-file":
        name = hostname_on_loopback()
        if name is None:
            pytest.fail("this machine's hosts file maps no name but localhost to 127.x: cannot test hosts-file names")
    hop = socksbox(listen=("127.0.0.1:0",))
    # Loopback targets go to the chain too (private_direct off); the deny
    # rule must hold for a name the upstream would resolve to 127.0.0.1.
    srv = socksbox(
        "--upstream",
        f"socks5://127.0.0.1:{hop.addr4[1]}",
        "--deny-target",
        "127.0.0.0/8",
        config="[routing]\nprivate_direct = false\n",
    )
    atyp = rs.ATYP_V6 if name.startswith("::ffff:") else rs.ATYP_DOMAIN
    reply = connect_name(srv.addr4, name, echo_target.port, atyp)
    assert reply.rep == 0x02, f"{name!r} through the chain dodged --deny-target 127.0.0.0/8: {reply}"
    assert "CONNECT" not in hop.stderr_text(), "the request reached the upstream hop"


def test_a_socks4_upstream_never_resolves_a_name_the_policy_refuses(socksbox, echo_target):
    hop = socksbox(listen=("127.0.0.1:0",))
    srv = socksbox(
        "--upstream",
        f"socks4://127.0.0.1:{hop.addr4[1]}",
        "--deny-target",
        "127.0.0.0/8",
        config="[routing]\nprivate_direct = false\n",
    )
    name = hostname_on_loopback() or "localhost"
    reply = connect_name(srv.addr4, name, echo_target.port)
    assert reply.rep == 0x02, f"{name!r} resolved for a SOCKS4 hop dodged the deny rule: {reply}"


def test_a_rule_written_as_a_mapped_address_means_its_ipv4_address(socksbox, echo_target):
    srv = socksbox("--deny-target", "::ffff:127.0.0.1")
    reply = connect_name(srv.addr4, "127.0.0.1", echo_target.port, rs.ATYP_V4)
    assert reply.rep == 0x02, f"--deny-target ::ffff:127.0.0.1 did not deny 127.0.0.1: {reply}"


def test_the_monitor_names_the_address_a_name_spells(socksbox, echo_target):
    srv = socksbox()
    sock = rs.open5(srv.addr4)
    with sock:
        sock.sendall(
            rs.request5(
                rs.CMD_CONNECT, "127.1", echo_target.port, atyp_override=rs.encode_addr("127.1", rs.ATYP_DOMAIN)
            )
        )
        assert rs.read_reply5(sock).rep == 0
        sock.sendall(b"x")
        rs.recv_exact(sock, 1)
    deadline = time.monotonic() + 5
    while f"target=127.0.0.1:{echo_target.port}" not in srv.stderr_text():
        assert time.monotonic() < deadline, f"the log names no 127.0.0.1 target:\n{srv.stderr_text()[-2000:]}"
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# 3. slots held before authentication, and the caps
# ---------------------------------------------------------------------------

CAPS = """
[limits]
per_client_limits_for_loopback = true
max_handshakes_per_client = 8
max_sessions_per_client = 20
max_udp_per_client = 2
max_bind_per_client = 2
"""


def test_idle_connections_from_one_client_do_not_delay_another(socksbox, echo_target):
    srv = socksbox(config=CAPS)
    idle = []
    refused = 0
    try:
        for _ in range(200):
            try:
                idle.append(rs.tcp_connect(srv.addr4, source="127.0.0.2"))
            except ConnectionResetError:
                # Refused so fast that the reset came before connect() returned.
                refused += 1
        # The ones over the cap are refused at once: closed, with nothing sent.
        for s in idle[8:]:
            res = rs.wait_closed(s, 2.0)
            refused += res.closed
        assert refused == 192, f"{refused} of the 192 connections over the per-client cap were closed"
        held = [s for s in idle[:8] if not rs.wait_closed(s, 0.1).closed]
        assert len(held) == 8, f"{8 - len(held)} of the 8 connections within the cap were closed"
        # A client on another address is served at once.
        started = time.monotonic()
        sock, reply = rs.connect5(srv.addr4, "127.0.0.1", echo_target.port, timeout=5)
        with sock:
            assert reply.rep == 0
        took = time.monotonic() - started
        assert took < 1.0, f"a real client waited {took:.2f}s behind another client's idle connections"
    finally:
        for s in idle:
            s.close()
    log = srv.stderr_text(500_000)
    assert log.count("refused: over the limit of 8 connections in their handshake per client") == 1, (
        f"the refusals must be one line a minute:\n{log[-3000:]}"
    )


def test_a_connection_over_a_cap_gets_the_protocol_refusal(socksbox):
    srv = socksbox(config=CAPS)
    held = [rs.tcp_connect(srv.addr4, source="127.0.0.2") for _ in range(8)]
    try:
        over5 = rs.tcp_connect(srv.addr4, source="127.0.0.2")
        with over5:
            over5.sendall(rs.greeting5())
            rs.assert_closed(over5, CLOSE_WITHIN, "SOCKS5 over the handshake cap", expect=bytes([5, 0xFF]))
        over4 = rs.tcp_connect(srv.addr4, source="127.0.0.2")
        with over4:
            over4.sendall(rs.request4(rs.S4_CONNECT, "127.0.0.1", 1, b"x"))
            rs.assert_closed(over4, CLOSE_WITHIN, "SOCKS4 over the handshake cap", expect=rs.REJECTED4)
    finally:
        for s in held:
            s.close()


def test_udp_associations_and_bind_listeners_are_capped_per_client(socksbox):
    srv = socksbox(config=CAPS)
    held = []
    try:
        for command, what in ((rs.CMD_UDP, "UDP ASSOCIATE"), (rs.CMD_BIND, "BIND")):
            for n in range(3):
                sock = rs.open5(srv.addr4, source="127.0.0.5")
                held.append(sock)
                sock.sendall(rs.request5(command, "0.0.0.0", 0))
                reply = rs.read_reply5(sock, what=f"{what} {n + 1}")
                if n < 2:
                    assert reply.rep == 0, f"{what} {n + 1} of 2 allowed: {reply}"
                else:
                    assert reply.rep == 0x02, f"a third {what} from one client: {reply}"
        # Another client still gets its own.
        other = rs.open5(srv.addr4, source="127.0.0.6")
        held.append(other)
        other.sendall(rs.request5(rs.CMD_UDP, "0.0.0.0", 0))
        assert rs.read_reply5(other).rep == 0
    finally:
        for s in held:
            s.close()


def test_datagrams_over_the_associations_rate_are_dropped(socksbox, udp_echo_target):
    srv = socksbox(config="[limits]\nudp_datagrams_per_second = 50\n")
    control = rs.open5(srv.addr4)
    with control:
        client = rs.udp_socket("127.0.0.1")
        with client:
            control.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", client.getsockname()[1]))
            reply = rs.read_reply5(control)
            assert reply.rep == 0
            for n in range(500):
                client.sendto(rs.udp_wrap("127.0.0.1", udp_echo_target.port, b"d%d" % n), (reply.host, reply.port))
            echoed = 0
            while rs.udp_recv(client, 0.5)[0] is not None:
                echoed += 1
            # A second's burst (50) at most, plus what refilled meanwhile.
            assert 40 <= echoed <= 80, f"{echoed} of 500 datagrams sent at once went through a 50/s association"


# ---------------------------------------------------------------------------
# 4. UDP ASSOCIATE with port 0
# ---------------------------------------------------------------------------


def test_udp_port_zero_is_refused_while_passwords_are_required(socksbox):
    srv = socksbox("--user", f"{USER}:{PASSWORD}")
    sock = rs.open5(srv.addr4, auth=(USER, PASSWORD))
    with sock:
        sock.sendall(rs.request5(rs.CMD_UDP, "0.0.0.0", 0))
        rs.assert_closed(sock, CLOSE_WITHIN, "UDP ASSOCIATE port 0 with passwords", expect=rs.error_reply5(0x02))
    allowed = socksbox("--user", f"{USER}:{PASSWORD}", config="[udp]\nallow_unbound_port = true\n")
    sock = rs.open5(allowed.addr4, auth=(USER, PASSWORD))
    with sock:
        sock.sendall(rs.request5(rs.CMD_UDP, "0.0.0.0", 0))
        assert rs.read_reply5(sock).rep == 0, "udp.allow_unbound_port did not allow port 0"


# ---------------------------------------------------------------------------
# 5. control characters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [b"x\n2026-12-01T10:00:00Z ERROR forged line", b"esc\x1b[31m.example", b"a b.example"])
def test_names_with_control_bytes_are_refused_and_never_logged_raw(socksbox, name):
    srv = socksbox()
    sock = rs.open5(srv.addr4)
    with sock:
        sock.sendall(rs.request5(rs.CMD_CONNECT, name, 80))
        rs.assert_closed(sock, CLOSE_WITHIN, f"CONNECT to {name!r}", expect=rs.error_reply5(0x04))
    socks4 = rs.tcp_connect(srv.addr4)
    with socks4:
        socks4.sendall(rs.request4a(rs.S4_CONNECT, name, 80))
        rs.assert_closed(socks4, CLOSE_WITHIN, f"SOCKS4a CONNECT to {name!r}", expect=rs.REJECTED4)
    log = srv.stderr_text()
    assert not any(line.startswith("2026-12-01T10:00:00Z") for line in log.splitlines()), log[-2000:]
    assert "\x1b" not in log, "an escape sequence from a client reached the log"


def test_a_socks4_userid_with_a_newline_is_logged_escaped(socksbox, echo_target):
    srv = socksbox()
    userid = b"bob\n2026-12-01T10:00:00Z ERROR proxy_core: forged"
    sock, reply = rs.connect4(srv.addr4, "127.0.0.1", echo_target.port, userid=userid)
    with sock:
        assert reply.cd == rs.S4_GRANTED
    deadline = time.monotonic() + 5
    while "forged" not in srv.stderr_text():
        assert time.monotonic() < deadline, "the session with the USERID was never logged"
        time.sleep(0.05)
    time.sleep(0.2)
    lines = srv.stderr_text().splitlines()
    assert not any(line.startswith("2026-12-01T10:00:00Z") for line in lines), "the USERID forged a log line"
    assert any("bob\\n2026" in line for line in lines), "the USERID is not shown escaped"


# ---------------------------------------------------------------------------
# 7. UDP associations hold no buffers while idle
# ---------------------------------------------------------------------------


def test_two_thousand_idle_udp_associations_cost_under_10_mib(socksbox):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2000 + 500
    if soft < want:
        if hard < want:
            pytest.fail(f"the test needs {want} descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    srv = socksbox(listen=("127.0.0.1:0",), config="[limits]\nmax_sessions = 4096\n", log_level="warn")
    controls = []
    try:
        # Warm up the server's runtime and allocator first.
        for _ in range(50):
            s = rs.open5(srv.addr4)
            s.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", 9))
            assert rs.read_reply5(s).rep == 0
            controls.append(s)
        time.sleep(0.5)
        before = srv.rss_kib()
        for n in range(2000):
            s = rs.open5(srv.addr4)
            s.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", 10_000 + n % 50_000))
            reply = rs.read_reply5(s)
            assert reply.rep == 0, f"association {n}: {reply}"
            controls.append(s)
        time.sleep(0.5)
        after = srv.rss_kib()
        grew = (after - before) / 1024
        print(f"2,000 idle UDP associations: RSS {before} -> {after} KiB, {grew:.1f} MiB")
        assert grew < 10, f"2,000 idle UDP associations grew the server by {grew:.1f} MiB"
    finally:
        for s in controls:
            s.close()


# ---------------------------------------------------------------------------
# 9. slow DNS
# ---------------------------------------------------------------------------


class SilentDns:
    """A DNS server on loopback that reads every query and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.stop = threading.Event()
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                self.sock.recvfrom(4096)
                self.queries += 1
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self):
        self.stop.set()
        self.sock.close()


def test_six_hundred_stuck_lookups_hold_up_neither_localhost_nor_addresses(socksbox, echo_target):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1500 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1500, hard))
    dns = SilentDns()
    srv = socksbox(
        listen=("127.0.0.1:0",),
        config=f'[dns]\nservers = ["127.0.0.1:{dns.port}"]\ntimeout = "8s"\n[timeouts]\nconnect = "8s"\n',
        log_level="warn",
    )
    stuck = []
    try:
        for n in range(600):
            s = rs.open5(srv.addr4)
            s.sendall(rs.request5(rs.CMD_CONNECT, f"slow{n}.example".encode(), 80))
            stuck.append(s)
        deadline = time.monotonic() + 5
        while dns.queries < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert dns.queries >= 200, f"only {dns.queries} queries reached the silent DNS server"
        for target in ("localhost", "127.0.0.1"):
            started = time.monotonic()
            sock, reply = rs.connect5(srv.addr4, target, echo_target.port)
            took = time.monotonic() - started
            with sock:
                assert reply.rep == 0, f"{target}: {reply}"
            assert took < 1.0, f"a CONNECT to {target} waited {took:.2f}s behind 600 stuck lookups"
        # The stuck ones end within their limit, as host unreachable.
        s = stuck[0]
        res = rs.wait_closed(s, 12)
        assert res.closed and res.data[:2] == bytes([5, 0x04]), f"a stuck lookup ended with {res}"
    finally:
        for s in stuck:
            s.close()
        dns.close()


# ---------------------------------------------------------------------------
# 10. the smaller ones
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "secret"),
    [
        ("--user", "alice:", "alice"),
        ("--user", "hunter2", "hunter2"),
        ("--upstream", "socks5://u:hunter2@gw.example:0", "hunter2"),
        ("--upstream", "socks5://u:hunter2@gw.example", "hunter2"),
    ],
)
def test_rejected_command_line_values_are_not_repeated(option, value, secret):
    import subprocess

    from support import server_binary

    res = subprocess.run([str(server_binary()), option, value], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2, res
    assert secret not in res.stderr and secret not in res.stdout, f"the rejected value was repeated: {res.stderr}"
    assert option in res.stderr, f"the error does not name {option}: {res.stderr}"


def test_a_removed_users_sessions_end_within_a_second(socksbox, echo_target, tmp_path):
    users = tmp_path / "users.toml"

    def write(names):
        entries = ", ".join(f'{{ name = "{n}", password = "pw-{n}-12345" }}' for n in names)
        users.write_text(f"[auth]\nrequired = true\nusers = [{entries}]\n")

    write(["alice", "bob"])
    srv = socksbox("--config", str(users), listen=("127.0.0.1:0",))
    alice, reply = rs.connect5(srv.addr4, "127.0.0.1", echo_target.port, auth=("alice", "pw-alice-12345"))
    bob, reply_b = rs.connect5(srv.addr4, "127.0.0.1", echo_target.port, auth=("bob", "pw-bob-12345"))
    with alice, bob:
        assert reply.rep == 0 and reply_b.rep == 0
        write(["bob"])
        srv.proc.send_signal(1)  # SIGHUP: reload
        res = rs.wait_closed(alice, 3.0)
        assert res.closed, "the removed user's session is still open 3 s after the reload"
        bob.sendall(b"still here")
        assert rs.recv_exact(bob, 10) == b"still here", "the remaining user's session was ended too"
        # A new password ends that user's sessions too.
        users.write_text('[auth]\nrequired = true\nusers = [{ name = "bob", password = "a-new-password" }]\n')
        srv.proc.send_signal(1)
        assert rs.wait_closed(bob, 3.0).closed, "a session stayed open after its user's password changed"


class ForeignRelayHop:
    """A SOCKS5 upstream that grants UDP ASSOCIATE but names its relay at
    another address than its own (127.0.0.9), as a hostile upstream could."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError):
                conn.settimeout(5)
                rs.recv_exact(conn, 3)  # greeting with one method
                conn.sendall(b"\x05\x00")
                head = rs.recv_exact(conn, 4)
                rs.read_addr_port(conn, head[3], 5, "request")
                conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.9") + struct.pack("!H", 4000))
                rs.wait_closed(conn, 10)
            conn.close()

    def close(self):
        self.stop.set()
        self.listener.close()


def test_an_upstream_naming_a_foreign_udp_relay_is_refused(socksbox):
    hop = ForeignRelayHop()
    try:
        srv = socksbox("--upstream", f"socks5://127.0.0.1:{hop.port}", config="[routing]\nprivate_direct = false\n")
        sock = rs.open5(srv.addr4)
        with sock:
            sock.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", 9))
            reply = rs.read_reply5(sock)
            assert reply.rep == 0x02, f"a relay the hop named at another address was accepted: {reply}"
        deadline = time.monotonic() + 5
        while "not at its own address" not in srv.stderr_text():
            assert time.monotonic() < deadline, f"the log does not say why:\n{srv.stderr_text()[-2000:]}"
            time.sleep(0.05)
        trusting = socksbox(
            "--upstream",
            f"socks5://127.0.0.1:{hop.port}",
            config="[routing]\nprivate_direct = false\n[upstream]\nudp_relay_anywhere = true\n",
        )
        sock = rs.open5(trusting.addr4)
        with sock:
            sock.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", 9))
            assert rs.read_reply5(sock).rep == 0, (
                f"upstream.udp_relay_anywhere did not accept the relay:\n{trusting.stderr_text()[-1500:]}"
            )
    finally:
        hop.close()


# ---------------------------------------------------------------------------
# 11. dual stack: the UDP relay follows the family the request names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("over", "client_host"), [("v4", "::1"), ("v6", "127.0.0.1")])
def test_the_udp_relay_follows_the_family_of_the_clients_address(socksbox, udp_echo_target, over, client_host):
    srv = socksbox()
    proxy = srv.addr4 if over == "v4" else srv.addr6
    control = rs.open5(proxy)
    with control:
        client = rs.udp_socket(client_host)
        with client:
            control.sendall(rs.request5(rs.CMD_UDP, client_host, client.getsockname()[1]))
            reply = rs.read_reply5(control)
            assert reply.rep == 0, reply
            assert rs.canon(reply.host) == rs.canon(client_host), (
                f"asked over {over} for a client at {client_host}, the relay is at {reply.host}"
            )
            client.sendto(rs.udp_wrap(client_host, udp_echo_target.port, b"across families"), (reply.host, reply.port))
            data, _ = rs.udp_recv(client, 5)
            assert data is not None, "no reply through the relay of the other family"
            assert rs.udp_unwrap(data).data == b"across families"


# ---------------------------------------------------------------------------
# running out of file descriptors
# ---------------------------------------------------------------------------


def test_out_of_descriptors_serves_what_it_has_refuses_cleanly_and_recovers(tmp_path, echo_target):
    import subprocess

    from support import clean_env, server_binary

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [str(server_binary()), "--listen", "127.0.0.1:0", "--log-level", "info"],
        stdout=subprocess.PIPE,
        stderr=log,
        env=clean_env(),
        preexec_fn=low_limit,
    )
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("listening on "), line
        proxy = ("127.0.0.1", int(line.rsplit(":", 1)[1]))
        sessions = []
        refused = 0
        for n in range(60):
            started = time.monotonic()
            try:
                sock, reply = rs.connect5(proxy, "127.0.0.1", echo_target.port, timeout=3)
            except (ConnectionResetError, rs.ProtocolError, TimeoutError, OSError):
                refused += 1
                assert time.monotonic() - started < 3, "a connection over the limit was left hanging"
                continue
            if reply.rep != 0:
                refused += 1
                sock.close()
                continue
            sock.sendall(b"n%d" % n)
            rs.recv_exact(sock, len(b"n%d" % n))
            sessions.append(sock)
        assert refused > 0, "64 descriptors held 60 sessions: the limit did not bite"
        assert len(sessions) >= 10, f"only {len(sessions)} sessions fit in 64 descriptors"
        # The sessions it has still relay.
        for i, sock in enumerate(sessions):
            sock.sendall(b"still %d" % i)
            assert rs.recv_exact(sock, len(b"still %d" % i)) == b"still %d" % i
        # Freed descriptors are used again.
        for sock in sessions[: len(sessions) // 2]:
            sock.close()
        del sessions[: len(sessions) // 2]
        deadline = time.monotonic() + 10
        while True:
            try:
                sock, reply = rs.connect5(proxy, "127.0.0.1", echo_target.port, timeout=3)
                if reply.rep == 0:
                    sessions.append(sock)
                    break
                sock.close()
            except OSError:
                pass
            assert time.monotonic() < deadline, "no new session was served after descriptors were freed"
            time.sleep(0.1)
        assert proc.poll() is None, "the server died when descriptors ran out"
        for sock in sessions:
            sock.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_the_readmes_example_configuration_is_accepted(socksbox):
    # The README documents every key with its default: the example must be a
    # configuration the server takes as it is.
    from support import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    example = readme[readme.index("The configuration file is TOML") :].split("```toml", 1)[1].split("```", 1)[0]
    srv = socksbox(listen=("127.0.0.1:0",), config=example)
    assert srv.alive()
