"""Malformed input, slow clients, client policy, signals and bad configs."""

from __future__ import annotations

import contextlib
import random
import selectors
import signal
import subprocess
import threading
import time

import pytest

import rawsocks as rs
from support import PASSWORD, USER, clean_env, curl, server_binary

QUICK_CLOSE = 2.0  # malformed input must be closed promptly, long before the handshake timeout


def long_handshake_server(socksbox, *extra):
    # A long handshake timeout, so a quick close proves the server reacted to
    # the bad bytes rather than to its timer.
    return socksbox("--handshake-timeout", "10s", *extra)


# ---------------------------------------------------------------------------
# malformed greetings / requests: closed at once
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "extra"),
    [
        (b"\x06\x01\x00", ()),
        (b"\x00\x01\x00", ()),
        (b"\x01\x01\x00\x00", ()),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", ("--no-http",)),
    ],
    ids=["version-6", "version-0", "version-1", "http-request-with-http-off"],
)
def test_wrong_version_byte_is_closed(socksbox, payload, extra):
    srv = long_handshake_server(socksbox, *extra)
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        rs.send_quietly(sock, payload)
        # Neither SOCKS4 nor SOCKS5: there is no reply format to answer in.
        rs.assert_closed(sock, QUICK_CLOSE, f"greeting {payload!r} with a wrong version byte", expect=b"")


def test_nmethods_zero_is_closed(socksbox):
    srv = long_handshake_server(socksbox)
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        sock.sendall(b"\x05\x00")
        # A malformed greeting, not an offer of no acceptable method: no 05 FF.
        rs.assert_closed(sock, QUICK_CLOSE, "greeting 05 00 (NMETHODS 0)", expect=b"")


def test_socks5_request_with_wrong_version_is_closed(socksbox):
    srv = long_handshake_server(socksbox)
    sock = rs.open5(srv.addr4)
    with sock:
        # A SOCKS4-looking request after a SOCKS5 greeting: VER must be 5.
        sock.sendall(bytes([4, 1, 0, 1, 127, 0, 0, 1, 0, 80]))
        # The greeting settled the version: the request is answered in SOCKS5,
        # general failure 0x01, then closed.
        rs.assert_closed(sock, QUICK_CLOSE, "request with VER 4 after a SOCKS5 greeting", expect=rs.error_reply5(0x01))


@pytest.mark.parametrize(
    "what,payload",
    [
        ("socks4-userid", b"\x04\x01\x00\x50\x7f\x00\x00\x01" + b"A" * 300),
        ("socks4a-domain", b"\x04\x01\x00\x50\x00\x00\x00\x01" + b"user\x00" + b"d" * 300),
    ],
    ids=["socks4-userid", "socks4a-domain"],
)
def test_socks4_field_over_255_bytes_without_nul_replies_91_and_closes(socksbox, what, payload):
    srv = long_handshake_server(socksbox)
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        rs.send_quietly(sock, payload)
        rs.assert_closed(
            sock, QUICK_CLOSE, f"a SOCKS4 {what} of 300 bytes without NUL: reply 91, then close", expect=rs.REJECTED4
        )


# ---------------------------------------------------------------------------
# handshake timeout
# ---------------------------------------------------------------------------

HANDSHAKE_TIMEOUT = 1.0
CLOSED_WITHIN = 3.0
# The server's clock starts when it accepts, a moment after the client's:
# closing earlier than this is not the handshake timeout.
NOT_BEFORE = HANDSHAKE_TIMEOUT - 0.2

SLOW_CASES = [
    ("silent", b"", None),
    ("half-greeting", b"\x05", None),
    ("short-methods", b"\x05\x03\x00", None),
    ("half-request", b"\x05\x01\x00", b"\x05\x01\x00\x01\x7f\x00"),
    ("half-domain-request", b"\x05\x01\x00", b"\x05\x01\x00\x03\x14local"),
    ("socks4-no-nul", b"\x04\x01\x00\x50\x7f\x00\x00\x01abc", None),
    ("socks4a-no-domain-nul", b"\x04\x01\x00\x50\x00\x00\x00\x01\x00localh", None),
]


@pytest.mark.parametrize("first,second", [c[1:] for c in SLOW_CASES], ids=[c[0] for c in SLOW_CASES])
def test_truncated_handshake_is_closed_at_the_handshake_timeout(socksbox, first, second):
    srv = socksbox("--handshake-timeout", "1s")
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        start = time.monotonic()
        if first:
            sock.sendall(first)
        if second is not None:
            assert rs.recv_exact(sock, 2, what="method reply") == b"\x05\x00"
            sock.sendall(second)
        sent = f"{first!r}{' + ' + repr(second) if second else ''}"
        # Nothing to answer yet: closed without a byte, when the timer runs out.
        rs.assert_closed(sock, CLOSED_WITHIN, f"after {sent} and silence (--handshake-timeout 1s)", expect=b"")
        took = time.monotonic() - start
        assert took >= NOT_BEFORE, (
            f"after {sent} the server closed after {took:.2f}s, before its 1s handshake timeout: "
            f"it must wait for the rest of the handshake"
        )


def test_truncated_auth_is_closed_at_the_handshake_timeout(socksbox):
    srv = socksbox("--handshake-timeout", "1s", "--user", f"{USER}:{PASSWORD}")
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        start = time.monotonic()
        m = rs.negotiate5(sock, (rs.M_USERPASS,))
        assert m == rs.M_USERPASS, f"passwords required: expected method 0x02, got 0x{m:02x}"
        sock.sendall(b"\x01\x05ali")
        rs.assert_closed(
            sock, CLOSED_WITHIN, "half an RFC 1929 message then silence (--handshake-timeout 1s)", expect=b""
        )
        took = time.monotonic() - start
        assert took >= NOT_BEFORE, f"half an RFC 1929 message: closed after {took:.2f}s, before the 1s timeout"


def test_trickled_request_is_still_bounded_by_the_handshake_timeout(socksbox):
    """One byte every 0.3 s must not keep a handshake stage alive forever."""
    srv = socksbox("--handshake-timeout", "1s")
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        assert rs.negotiate5(sock) == rs.M_NOAUTH
        # A domain request that would take 0.3 s * 40 = 12 s to send in full.
        req = bytes([5, 1, 0, 3, 35]) + b"a" * 35
        start = time.monotonic()
        how = "open"
        received = b""
        for b in req:
            if not rs.send_quietly(sock, bytes([b])):
                how = "reset (on send)"
                break
            res = rs.wait_closed(sock, 0.3)
            received += res.data
            if res.closed:
                how = res.how
                break
            if time.monotonic() - start > 5.0:
                break
        took = time.monotonic() - start
        assert how != "open" and took < 4.0, (
            f"a client trickling its request one byte per 0.3s was not closed within 4s "
            f"(--handshake-timeout 1s; still open after {took:.1f}s)"
        )
        assert (how, received) == ("eof", b""), (
            f"a trickled request cut off by the handshake timeout: expected EOF without a reply, "
            f"got {how} after {received.hex(' ') or 'nothing'}"
        )


# ---------------------------------------------------------------------------
# client policy
# ---------------------------------------------------------------------------


def assert_refused_without_reply(addr, what: str):
    """A refused client is reset without a reply (README, "Safe by default")."""
    try:
        sock = rs.tcp_connect(addr)
    except ConnectionResetError:
        return  # the server's reset came in before connect() returned: the same answer
    with sock:
        rs.send_quietly(sock, rs.greeting5())
        rs.assert_reset(sock, QUICK_CLOSE, what)


def assert_served(addr, what: str):
    sock = rs.tcp_connect(addr)
    with sock:
        try:
            m = rs.negotiate5(sock)
        except rs.ProtocolError as e:
            pytest.fail(f"{what}: an allowed client was not served: {e}")
        assert m == rs.M_NOAUTH, f"{what}: expected 05 00, got method 0x{m:02x}"


def test_command_line_overrides_config_timeout(socksbox):
    srv = socksbox("--handshake-timeout", "1s", config='[timeouts]\nhandshake = "30s"\n')
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        rs.assert_closed(
            sock, CLOSED_WITHIN, "config says handshake = 30s, --handshake-timeout 1s must override it: a silent client"
        )


def test_config_timeout_applies_without_flag(socksbox):
    srv = socksbox(config='[timeouts]\nhandshake = "1s"\n')
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        rs.assert_closed(sock, CLOSED_WITHIN, "config handshake = 1s: a silent client")


def test_config_listen_list_is_used(socksbox):
    srv = socksbox(listen=(), config='listen = ["127.0.0.1:0", "[::1]:0"]\n', expect_listeners=2)
    assert_served(srv.addr4, "IPv4 listener from the config's listen list")
    assert_served(srv.addr6, "IPv6 listener from the config's listen list")


def test_client_outside_allow_list_is_closed_without_reply(socksbox):
    srv = socksbox("--allow", "10.0.0.0/8")
    assert_refused_without_reply(srv.addr4, "127.0.0.1 client with --allow 10.0.0.0/8")
    assert_refused_without_reply(srv.addr6, "::1 client with --allow 10.0.0.0/8")


def test_allow_rule_is_per_family(socksbox):
    srv = socksbox("--allow", "127.0.0.0/8")
    assert_served(srv.addr4, "127.0.0.1 with --allow 127.0.0.0/8")
    assert_refused_without_reply(srv.addr6, "::1 client with --allow 127.0.0.0/8")
    srv6 = socksbox("--allow", "::1/128")
    assert_served(srv6.addr6, "::1 with --allow ::1/128")
    assert_refused_without_reply(srv6.addr4, "127.0.0.1 client with --allow ::1/128")


def test_allow_loopback_word_admits_loopback_clients(socksbox):
    srv = socksbox("--allow", "loopback")
    assert_served(srv.addr4, "127.0.0.1 with --allow loopback")
    assert_served(srv.addr6, "::1 with --allow loopback")


def test_allow_any_admits_loopback_clients_with_password(socksbox):
    # With passwords, so that "any" is not an open proxy.
    srv = socksbox("--allow", "any", "--user", f"{USER}:{PASSWORD}")
    for addr in (srv.addr4, srv.addr6):
        sock = rs.tcp_connect(addr)
        with sock:
            m = rs.negotiate5(sock, (rs.M_USERPASS,))
            assert m == rs.M_USERPASS, f"{addr} with --allow any: expected method 0x02, got 0x{m:02x}"
            assert rs.userpass5(sock, USER, PASSWORD) == (1, 0), f"{addr}: auth failed with --allow any"


def test_config_client_allow_list_refuses_loopback(socksbox):
    srv = socksbox(config='[clients]\nallow = ["10.0.0.0/8"]\n')
    assert_refused_without_reply(srv.addr4, "127.0.0.1 client with clients.allow = [10.0.0.0/8] in the config")


# ---------------------------------------------------------------------------
# many garbage connections at once
# ---------------------------------------------------------------------------


def garbage_payload(i: int, rng: random.Random) -> bytes:
    """Never a complete request: random bytes never start with 4 or 5."""
    kind = i % 7
    if kind == 0:
        first = rng.choice([b for b in range(256) if b not in (4, 5)])
        return bytes([first]) + rng.randbytes(rng.randint(0, 63))
    if kind == 1:
        return b""  # silence
    if kind == 2:
        return b"\x05\x05\x00"  # half a greeting
    if kind == 3:
        return b"\x04\x01\x00\x50\x7f\x00\x00\x01" + b"x" * rng.randint(0, 100)  # SOCKS4 without NUL
    if kind == 4:
        return b"\x05\x01\x00" + b"\x05\x01\x00"  # greeting + half a request
    if kind == 5:
        first = rng.choice([b for b in range(256) if b not in (4, 5)])
        return bytes([first]) + rng.randbytes(4095)
    return b"\x05\x01\x00\x05\x01\x00\x03\xff" + b"z" * 20  # domain that never ends


def test_300_garbage_connections_are_closed_and_a_curl_still_works(socksbox, http_target):
    srv = socksbox("--handshake-timeout", "2s", log_level="warn")
    proxy = f"socks5h://{srv.addr4[0]}:{srv.addr4[1]}"
    warm = curl("-x", proxy, http_target.url("localhost", "/small"))
    assert warm.returncode == 0, f"warm-up curl failed: {warm.stderr!r}"
    rss_before = srv.rss_kib()

    rng = random.Random(1928)
    sel = selectors.DefaultSelector()
    opened = {}
    curl_res = None
    start = time.monotonic()
    try:
        for i in range(300):
            s = rs.tcp_connect(srv.addr4, timeout=5)
            payload = garbage_payload(i, rng)
            if payload:
                rs.send_quietly(s, payload)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
            opened[i] = (s, time.monotonic())
            if i == 150:
                curl_res = curl("-x", proxy, http_target.url("localhost", "/big"), max_time=30)
        assert curl_res is not None and curl_res.returncode == 0, (
            f"curl through the server in the middle of 150 garbage connections failed: "
            f"exit {curl_res.returncode if curl_res else None}, {curl_res.stderr[:300] if curl_res else b''!r}"
        )
        assert curl_res.stdout == http_target.big, "the 8 MiB download in the middle of the garbage was corrupt"

        # Each garbage connection must be closed by the server: 2 s handshake
        # timeout plus a generous margin for the last-opened ones.
        deadline = time.monotonic() + 8.0
        closed_after = {}
        while opened and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                i = key.data
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    closed_after[i] = time.monotonic() - opened[i][1]
                    sel.unregister(s)
                    s.close()
                    del opened[i]
        still_open = sorted(opened)
        assert not still_open, (
            f"{len(still_open)} of 300 garbage connections still open 8s after the last one was made "
            f"(--handshake-timeout 2s); kinds (i % 7) of the first: {[i % 7 for i in still_open[:20]]}"
        )
        slowest = max(closed_after.values())
        assert slowest < 12.0, f"the slowest garbage connection took {slowest:.1f}s to be closed"
    finally:
        for s, _ in opened.values():
            s.close()
        sel.close()

    assert srv.alive(), f"the server died under garbage input:\n{srv.stderr_text()}"
    after = curl("-x", proxy, http_target.url("localhost", "/small"))
    assert after.returncode == 0 and after.stdout == http_target.small, "curl after the garbage storm failed"
    rss_after = srv.rss_kib()
    growth_mib = (rss_after - rss_before) / 1024
    assert growth_mib < 64, f"RSS grew by {growth_mib:.1f} MiB ({rss_before} KiB -> {rss_after} KiB)"
    print(f"garbage storm: {time.monotonic() - start:.1f}s, RSS {rss_before} -> {rss_after} KiB")


# ---------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_with_open_relay_exits_0_quickly(socksbox, echo_target, sig):
    srv = socksbox()
    client, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port)
    idle = rs.tcp_connect(srv.addr6)  # a client stuck in its handshake too
    with client, idle:
        client.sendall(b"alive?")
        assert rs.recv_exact(client, 6, what="echo before the signal") == b"alive?"
        rc, took = srv.stop(sig, timeout=8)
        assert rc is not None, f"server still running 8s after {sig.name} with an open relay"
        assert rc == 0, f"server exited with code {rc} after {sig.name}, expected 0\nstderr:\n{srv.stderr_text()}"
        assert took < 5.0, f"server took {took:.1f}s to exit after {sig.name} (a few seconds at most)"
        rs.assert_closed(client, 3.0, f"the relay's client connection after {sig.name} and the server's exit")
        rs.assert_closed(idle, 3.0, f"a client in its handshake after {sig.name} and the server's exit")


# ---------------------------------------------------------------------------
# invalid configuration
# ---------------------------------------------------------------------------

BAD_CONFIGS = [
    ("clients-allow-bad-cidr", '[clients]\nallow = ["300.1.1.1/8"]\n', ["allow", "300.1.1.1/8"]),
    ("unknown-top-level-key", 'listen = ["127.0.0.1:0"]\nbogus_key = 1\n', ["bogus_key"]),
    ("unknown-key-in-table", '[timeouts]\nhandshake = "1s"\nsnooze = "2s"\n', ["snooze"]),
    ("bad-duration", '[timeouts]\nconnect = "soonish"\n', ["connect", "soonish"]),
    ("targets-deny-bad-cidr", '[targets]\ndeny = ["not-a-cidr"]\n', ["deny", "not-a-cidr"]),
    ("max-sessions-not-a-number", '[limits]\nmax_sessions = "lots"\n', ["max_sessions"]),
]


def run_binary(args, timeout: float = 8.0):
    """Run the binary expecting it to refuse to start; fail fast if it starts listening."""
    binary = server_binary()
    if not binary.exists():
        pytest.fail(f"server binary {binary} does not exist (build it or set SOCKSBOX_SERVER)")
    proc = subprocess.Popen(
        [str(binary), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env()
    )
    out, err = bytearray(), bytearray()

    def pump(stream, buf):
        for chunk in iter(lambda: stream.read1(4096), b""):
            buf.extend(chunk)

    readers = [
        threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err), daemon=True),
    ]
    for t in readers:
        t.start()
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if b"listening on" in out:
                pytest.fail(f"the server started ({bytes(out).strip()!r}) with args {args}; it must refuse them")
            if time.monotonic() > deadline:
                pytest.fail(f"the server neither exited nor listened within {timeout}s for args {args}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        for t in readers:
            t.join(2)
        # Closing a pipe another thread is blocked reading would deadlock; a
        # reader still alive here means some process still holds the pipe.
        if not any(t.is_alive() for t in readers):
            proc.stdout.close()
            proc.stderr.close()
    return subprocess.CompletedProcess(args, proc.returncode, bytes(out), bytes(err))


@pytest.mark.parametrize("cfg,needles", [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_invalid_config_exits_nonzero_naming_the_field(tmp_path, cfg, needles):
    path = tmp_path / "bad.toml"
    path.write_text(cfg)
    res = run_binary(["--listen", "127.0.0.1:0", "--config", str(path)])
    err = res.stderr.decode(errors="replace")
    assert res.returncode != 0, f"config {cfg!r} was accepted (exit 0); stdout {res.stdout!r}"
    missing = [n for n in needles if n not in err]
    assert not missing, f"config {cfg!r}: stderr does not name {missing}; stderr was:\n{err[:1500]}"
    assert b"listening on" not in res.stdout, "the server started listening with an invalid config"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--allow", "300.1.1.1/8"], "300.1.1.1/8"),
        (["--handshake-timeout", "forever-ish"], "forever-ish"),
        (["--listen", "127.0.0.1:99999"], "99999"),
    ],
    ids=["bad-allow", "bad-duration", "bad-port"],
)
def test_invalid_command_line_exits_nonzero_naming_the_value(args, needle):
    res = run_binary(["--listen", "127.0.0.1:0", *args] if args[0] != "--listen" else args)
    err = res.stderr.decode(errors="replace")
    assert res.returncode != 0, f"args {args} were accepted (exit 0)"
    assert needle in err, f"args {args}: stderr does not mention {needle!r}:\n{err[:1500]}"


def test_missing_config_file_exits_nonzero(tmp_path):
    missing = tmp_path / "does-not-exist.toml"
    res = run_binary(["--listen", "127.0.0.1:0", "--config", str(missing)])
    assert res.returncode != 0, "a missing --config file was accepted"
    assert str(missing.name) in res.stderr.decode(errors="replace"), (
        f"stderr does not name the missing file: {res.stderr[:500]!r}"
    )


def test_check_config_validates_without_serving(tmp_path):
    """--check-config FILE: exit 0 and a summary for a good file (nothing
    listens, even on a port in use), exit 2 naming the field for a bad one."""
    import socket as socket_module

    holder = socket_module.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    good = tmp_path / "good.toml"
    good.write_text(
        f'listen = ["127.0.0.1:{holder.getsockname()[1]}"]\n[[auth.users]]\nname = "alice"\npassword = "pw-of-alice"\n'
    )
    with holder:
        res = run_binary(["--check-config", str(good)])
    out = res.stdout.decode(errors="replace")
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    assert f"{good}: valid; listens on 127.0.0.1:" in out and "1 user(s), authentication required" in out, out
    assert "pw-of-alice" not in out + res.stderr.decode(errors="replace")
    bad = tmp_path / "bad.toml"
    bad.write_text('[timeouts]\nconnect = "0s"\n')
    res = run_binary(["--check-config", str(bad)])
    assert res.returncode == 2, res
    assert "timeouts.connect" in res.stderr.decode(errors="replace")
    keytabless = tmp_path / "gss.toml"
    keytabless.write_text(f'[gssapi]\nkeytab = "{tmp_path / "no.keytab"}"\n')
    res = run_binary(["--check-config", str(keytabless)])
    assert res.returncode == 2 and b"gssapi" in res.stderr, res
