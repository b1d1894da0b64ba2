"""Per-user and per-device policy ([[auth.users]] and [[devices]] with
commands, destinations, sessions at once, expiry and access hours), driven
by curl (SOCKS5 and HTTP) and raw SOCKS4/SOCKS5 clients on loopback. A
refusal is 0x02 (SOCKS5), 91 (SOCKS4) or 403 (HTTP), with a log line that
says whose rule refused and why; a running session the policy stops
allowing ends within a few seconds.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import glob
import os
import signal
import socket
import threading
import time
import tomllib

import socks

import rawsocks as rs
from conftest import SMALL_BODY, SocksServer
from support import curl, require, server_binary, wait_log

GUEST, GUEST_PW = "guest", "guest-password"
ALICE, ALICE_PW = "alice", "alice-password"
WAIT = 10.0


def users_config(guest_policy: str, devices: str = "", alice_policy: str = "") -> str:
    return (
        f'[[auth.users]]\nname = "{GUEST}"\npassword = "{GUEST_PW}"\n{guest_policy}\n'
        f'[[auth.users]]\nname = "{ALICE}"\npassword = "{ALICE_PW}"\n{alice_policy}\n'
        f"{devices}"
    )


def socks_reply(srv, cmd: int, host: str, port: int, auth) -> int:
    sock = rs.open5(srv.addr4, auth)
    with sock:
        sock.sendall(rs.request5(cmd, host, port))
        return rs.read_reply5(sock, what=f"reply to command {cmd}").rep


def curl_socks(srv, url: str, user: str, password: str):
    return curl("-x", f"socks5h://{user}:{password}@{srv.addr4[0]}:{srv.addr4[1]}", url)


def curl_http(srv, url: str, user: str, password: str):
    return curl(
        "-x",
        f"http://{srv.addr4[0]}:{srv.addr4[1]}",
        "-U",
        f"{user}:{password}",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        url,
    )


def iso(seconds_from_now: float) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_commands_are_limited_per_user(socksbox, http_target, echo_target):
    srv = socksbox(config=users_config('commands = ["connect"]'), listen=("127.0.0.1:0",))
    done = curl_socks(srv, http_target.url("127.0.0.1", "/small"), GUEST, GUEST_PW)
    assert done.returncode == 0 and done.stdout == SMALL_BODY, done.stderr
    guest, alice = (GUEST, GUEST_PW), (ALICE, ALICE_PW)
    assert socks_reply(srv, rs.CMD_BIND, "0.0.0.0", 0, guest) == 0x02, "BIND for a connect-only user"
    assert socks_reply(srv, rs.CMD_UDP, "127.0.0.1", 5000, guest) == 0x02, "UDP ASSOCIATE for a connect-only user"
    wait_log(srv, r"request failed: user guest: may not use bind \(only connect\)", "the refusal's reason")
    assert socks_reply(srv, rs.CMD_UDP, "127.0.0.1", 5000, alice) == 0x00, "a user without a policy keeps every command"


def test_destinations_are_allowed_and_denied_per_user(socksbox, http_target, echo_target):
    policy = f'allow_targets = ["localhost", "127.0.0.0/8:{http_target.port}"]\ndeny_targets = ["127.0.0.9"]'
    srv = socksbox(config=users_config(policy), listen=("127.0.0.1:0",))
    guest = (GUEST, GUEST_PW)
    done = curl_socks(srv, http_target.url("127.0.0.1", "/small"), *guest)
    assert done.returncode == 0 and done.stdout == SMALL_BODY, done.stderr
    done = curl_socks(srv, f"http://localhost:{http_target.port}/small", *guest)
    assert done.returncode == 0 and done.stdout == SMALL_BODY, "an allowed name"
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, guest) == 0x02, "a port outside the list"
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.9", http_target.port, guest) == 0x02, "a denied address"
    # A name that spells the denied address is that address.
    assert socks_reply(srv, rs.CMD_CONNECT, "2130706441", http_target.port, guest) == 0x02
    wait_log(srv, r"user guest: may not reach 127\.0\.0\.9:\d+ \(denied by 127\.0\.0\.9\)", "the deny rule in the log")
    # The same rules over HTTP: 403.
    assert curl_http(srv, f"http://127.0.0.1:{echo_target.port}/", *guest).stdout == b"403"
    assert curl_http(srv, http_target.url("127.0.0.1", "/small"), *guest).stdout == b"200"
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (ALICE, ALICE_PW)) == 0x00


def test_sessions_at_once_are_limited_per_user(socksbox, echo_target):
    srv = socksbox(config=users_config("max_sessions = 2"), listen=("127.0.0.1:0",))
    guest = (GUEST, GUEST_PW)
    held = [rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, guest)[0] for _ in range(2)]
    try:
        assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, guest) == 0x02
        wait_log(srv, r"user guest: has 2 sessions open, its most", "the session limit in the log")
        assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (ALICE, ALICE_PW)) == 0x00
    finally:
        held.pop().close()
    deadline = time.monotonic() + WAIT
    while socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, guest) != 0x00:
        assert time.monotonic() < deadline, "a freed session was not given back"
        time.sleep(0.1)
    for sock in held:
        sock.close()


def test_an_expired_user_is_refused_and_an_expiring_one_is_cut_off(socksbox, echo_target):
    srv = socksbox(
        config=users_config(f'expires = "{iso(-60)}"', alice_policy=f'expires = "{iso(3)}"'), listen=("127.0.0.1:0",)
    )
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02
    wait_log(srv, r"user guest: expired at \S+", "the expiry in the log")
    sock, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (ALICE, ALICE_PW))
    with sock:
        sock.sendall(b"still here")
        assert rs.recv_exact(sock, 10) == b"still here"
        closed = rs.wait_closed(sock, 8.0)
        assert closed.closed, "the session of a user who expired was not ended"
    wait_log(srv, r"session ended: user alice: expired at", "the end in the log")


def test_access_hours_refuse_outside_and_a_change_ends_running_sessions(socksbox, tmp_path, echo_target):
    now = datetime.datetime.now()  # the server's local time: the test's TZ
    day = now.strftime("%a")
    other = (now + datetime.timedelta(days=3)).strftime("%a")
    srv = socksbox(
        config=users_config(f'hours = ["{day} 00:00-24:00"]', alice_policy=f'hours = ["{other} 00:00-24:00"]'),
        listen=("127.0.0.1:0",),
    )
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (ALICE, ALICE_PW)) == 0x02
    wait_log(srv, rf"user alice: outside its access hours \({other} 00:00-24:00\)", "the hours in the log")
    sock, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
    with sock:
        # The file changes: today is no longer the guest's day.
        config = next(tmp_path.glob("config-*.toml"))
        config.write_text(users_config(f'hours = ["{other} 00:00-24:00"]'))
        os.kill(srv.pid, signal.SIGHUP)
        closed = rs.wait_closed(sock, 8.0)
        assert closed.closed, "a session the new hours do not allow was not ended"
    wait_log(srv, r"session ended: user guest: outside its access hours", "the end in the log")


def test_a_device_policy_applies_to_whoever_uses_it_and_the_stricter_wins(socksbox, http_target):
    devices = '[[devices]]\nname = "tv"\naddress = "127.0.0.2"\ncommands = ["connect"]\n'
    srv = socksbox(config=users_config("", devices=devices), listen=("127.0.0.1:0",))
    for source, expected in (("127.0.0.1", 0x00), ("127.0.0.2", 0x02)):
        sock = rs.open5(srv.addr4, (ALICE, ALICE_PW), source=source)
        with sock:
            sock.sendall(rs.request5(rs.CMD_UDP, source, 5000))
            got = rs.read_reply5(sock).rep
        assert got == expected, f"UDP ASSOCIATE from {source}: {got:#04x}, expected {expected:#04x}"
    wait_log(srv, r"device tv: may not use udp", "the device's rule in the log")
    done = curl(
        "--interface",
        "127.0.0.2",
        "-x",
        f"socks5h://{ALICE}:{ALICE_PW}@{srv.addr4[0]}:{srv.addr4[1]}",
        http_target.url("127.0.0.1", "/small"),
    )
    assert done.returncode == 0 and done.stdout == SMALL_BODY, "CONNECT from the device is allowed"


def test_a_device_policy_covers_socks4_clients_without_users(socksbox, http_target, echo_target):
    devices = (
        f'[[devices]]\naddress = "127.0.0.0/8"\nallow_targets = ["*:{http_target.port}"]\ncommands = ["connect"]\n'
    )
    config = "[auth]\nrequired = false\n" + devices
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    sock, rep = rs.connect4(srv.addr4, "127.0.0.1", echo_target.port)
    sock.close()
    assert rep.cd == 91, f"SOCKS4 to a port outside the device's list: {rep}"
    sock, rep = rs.connect4(srv.addr4, "127.0.0.1", http_target.port)
    sock.close()
    assert rep.cd == 90, f"SOCKS4 to the allowed port: {rep}"
    wait_log(
        srv, r"device 127\.0\.0\.0/8: may not reach 127\.0\.0\.1:\d+ \(not among its allowed destinations\)", "why"
    )
    # SOCKS4 BIND: not among the device's commands.
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        sock.sendall(rs.request4(2, "0.0.0.0", 0))
        assert rs.read_reply4(sock).cd == 91, "SOCKS4 BIND for a connect-only device"
    wait_log(srv, r"device 127\.0\.0\.0/8: may not use bind", "the command in the log")


def test_users_in_a_file_make_passwords_required(socksbox, echo_target):
    srv = socksbox(config=users_config(""), listen=("127.0.0.1:0",))
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        assert rs.negotiate5(sock, (rs.M_NOAUTH,)) == rs.M_NONE, "a file with users let a client in without a password"


# ---------------------------------------------------------------------------
# bandwidth
# ---------------------------------------------------------------------------

RATE = 2_000_000  # bytes per second


def timed_download(srv, url: str, user: str, password: str, http: bool = False) -> tuple[float, int]:
    """Downloads url through the proxy; (bytes per second, bytes)."""
    proxy = (
        ["-x", f"http://{srv.addr4[0]}:{srv.addr4[1]}", "-U", f"{user}:{password}"]
        if http
        else ["-x", f"socks5h://{user}:{password}@{srv.addr4[0]}:{srv.addr4[1]}"]
    )
    started = time.monotonic()
    done = curl(*proxy, url, max_time=60)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    return len(done.stdout) / took, len(done.stdout)


def test_a_user_rate_limit_holds_for_socks_and_http(socksbox, http_target):
    """Within 10 % over 10 s (SOCKS5: 8 MiB at 800 KB/s), and over HTTP."""
    slow = 800_000
    config = users_config(f'rate_limit = "{slow // 1000} KB/s"', alice_policy=f'rate_limit = "{RATE // 1000} KB/s"')
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    url = http_target.url("127.0.0.1", "/big")
    for (user, password), limit, http in (((GUEST, GUEST_PW), slow, False), ((ALICE, ALICE_PW), RATE, True)):
        rate, size = timed_download(srv, url, user, password, http=http)
        assert size == len(http_target.big)
        assert 0.9 * limit <= rate <= 1.1 * limit, f"{'HTTP' if http else 'SOCKS5'}: {rate:.0f} B/s for {limit} B/s"
    config_free = users_config("")
    free = socksbox(config=config_free, listen=("127.0.0.1:0",))
    fast, _ = timed_download(free, url, GUEST, GUEST_PW)
    assert fast > 3 * RATE, f"a user without a limit got {fast:.0f} B/s"


def parallel_rates(srv, url: str, logins) -> list[float]:
    with concurrent.futures.ThreadPoolExecutor(len(logins)) as pool:
        return [r for r, _ in pool.map(lambda login: timed_download(srv, url, *login), logins)]


def test_a_user_limit_is_shared_by_its_sessions(socksbox, http_target):
    srv = socksbox(config=users_config(f'rate_limit = "{RATE // 1000} KB/s"'), listen=("127.0.0.1:0",))
    rates = parallel_rates(srv, http_target.url("127.0.0.1", "/big"), [(GUEST, GUEST_PW)] * 2)
    # Each download is alone for its last part, so the sum is a little above.
    assert sum(rates) <= 1.25 * RATE, f"two sessions of one user got {rates} B/s for a {RATE} B/s limit"
    assert min(rates) >= 0.3 * RATE, f"one of the two sessions starved: {rates}"


def test_the_server_limit_is_shared_fairly_between_users(socksbox, http_target):
    config = f'[limits]\nrate_limit = "{RATE // 1000} KB/s"\n' + users_config("")
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    rates = parallel_rates(srv, http_target.url("127.0.0.1", "/big"), [(GUEST, GUEST_PW), (ALICE, ALICE_PW)])
    assert sum(rates) <= 1.25 * RATE, f"two users got {rates} B/s under a {RATE} B/s server limit"
    assert min(rates) / max(rates) >= 0.6, f"the server's limit was not shared fairly: {rates}"


def test_datagrams_over_a_rate_limit_are_dropped(socksbox, udp_echo_target):
    srv = socksbox(config=users_config('rate_limit = "20 KB/s"'), listen=("127.0.0.1:0",))
    client = rs.udp_socket("127.0.0.1")
    with client:
        control = rs.open5(srv.addr4, (GUEST, GUEST_PW))
        with control:
            control.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", client.getsockname()[1]))
            reply = rs.read_reply5(control)
            assert reply.rep == 0, reply
            relay = (reply.host, reply.port)
            payload = b"x" * 1000
            for _ in range(50):
                client.sendto(rs.udp_wrap("127.0.0.1", udp_echo_target.port, payload), relay)
            back = 0
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                data, _ = rs.udp_recv(client, 0.3)
                if data is None:
                    break
                back += 1
    # The bucket holds at most 4 KiB (its smallest burst) to start.
    assert 1 <= back <= 5, f"{back} of 50 datagrams of 1000 bytes came back under a 20 KB/s limit"


# ---------------------------------------------------------------------------
# quotas
# ---------------------------------------------------------------------------


def echo_bytes(sock, size: int) -> bool:
    """Sends size bytes through an echo and reads them back; False if the
    session ended first (a quota ends it within a second)."""
    chunk = b"q" * 65536
    sent = 0
    try:
        while sent < size:
            sock.sendall(chunk)
            rs.recv_exact(sock, len(chunk), timeout=WAIT)
            sent += len(chunk)
    except (OSError, rs.ProtocolError):
        return False
    return True


def quota_used(state_dir, owner: str) -> int:
    path = state_dir / "quota.toml"
    if not path.exists():
        return 0
    entry = tomllib.loads(path.read_text()).get("quota", {}).get(owner)
    return entry["day"]["used"] if entry else 0


def test_over_its_quota_a_user_is_refused_and_its_running_sessions_end(socksbox, echo_target):
    srv = socksbox(config=users_config('quota = "1 MB/day"'), listen=("127.0.0.1:0",))
    held, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
    with held:
        echo_bytes(held, 600 * 1024)  # 1.2 MB counted: up and down together
        closed = rs.wait_closed(held, 5.0)
        assert closed.closed, "a session over its user's quota was not ended"
    wait_log(srv, r"session ended: user guest: over its quota of 1 MB/day", "the quota in the log")
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (ALICE, ALICE_PW)) == 0x00


def test_quota_counts_survive_a_kill_and_a_stop(socksbox, tmp_path, echo_target):
    """The crash test of the quota file: counts written every 10 s are read
    back after a kill -9 (at most that much counting is lost), and a normal
    stop writes them at once."""
    state = tmp_path / "state"
    config = tmp_path / "quota.toml.conf"
    config.write_text(users_config('quota = "1 GB/day"'))
    cmd = [server_binary(), "--listen", "127.0.0.1:0", "--config", config, "--state-dir", state]
    first = SocksServer(cmd, tmp_path, 1)
    try:
        sock, _ = rs.connect5_ok(first.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
        with sock:
            assert echo_bytes(sock, 1024 * 1024), "the first session ended early"
        deadline = time.monotonic() + 20
        while quota_used(state, "user guest") < 2 * 1024 * 1024:
            assert time.monotonic() < deadline, "the quota count was not written within 20 s"
            time.sleep(0.2)
    finally:
        first.kill()
        first.close_files()
    # Started again with a quota the kept count nearly fills.
    config.write_text(users_config('quota = "3 MB/day"'))
    second = socksbox("--config", config, "--state-dir", state, listen=("127.0.0.1:0",))
    sock, _ = rs.connect5_ok(second.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
    with sock:
        echo_bytes(sock, 512 * 1024)
        assert rs.wait_closed(sock, 5.0).closed, "the count kept across the kill was not applied"
    assert socks_reply(second, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02
    rc, _ = second.stop()
    assert rc == 0
    assert quota_used(state, "user guest") >= 3_000_000, "the stop did not write the count"
    assert not list(state.glob(".*.new")), "a temporary file was left behind"


def test_a_session_ends_when_its_access_window_closes(socksbox, echo_target, monkeypatch):
    """The server's local time is set (a POSIX TZ offset in seconds) a few
    seconds before a minute ends, and the guest's window ends with it."""
    utc = datetime.datetime.now(datetime.UTC)
    offset = (54 - utc.second) % 60
    monkeypatch.setenv("TZ", f"SBX-00:00:{offset:02d}")
    local = utc + datetime.timedelta(seconds=offset)
    start = local.replace(second=0, microsecond=0)
    end = start + datetime.timedelta(minutes=1)
    end_text = "24:00" if (end.hour, end.minute) == (0, 0) else end.strftime("%H:%M")
    window = f"{start.strftime('%a')} {start.strftime('%H:%M')}-{end_text}"
    srv = socksbox(config=users_config(f'hours = ["{window}"]'), listen=("127.0.0.1:0",))
    sock, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
    with sock:
        sock.sendall(b"inside the window")
        assert rs.recv_exact(sock, 17) == b"inside the window"
        closed = rs.wait_closed(sock, 12.0)
        assert closed.closed, f"the session outlived its window {window}"
    wait_log(srv, r"session ended: user guest: outside its access hours", "the window's end in the log")
    assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02


def test_each_datagram_is_held_to_the_users_destinations(socksbox, udp_echo_target):
    srv = socksbox(config=users_config('deny_targets = ["127.0.0.9"]'), listen=("127.0.0.1:0",))
    client = rs.udp_socket("127.0.0.1")
    with client:
        control = rs.open5(srv.addr4, (GUEST, GUEST_PW))
        with control:
            control.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", client.getsockname()[1]))
            reply = rs.read_reply5(control)
            assert reply.rep == 0, reply
            relay = (reply.host, reply.port)
            client.sendto(rs.udp_wrap("127.0.0.9", udp_echo_target.port, b"denied"), relay)
            client.sendto(rs.udp_wrap("127.0.0.1", udp_echo_target.port, b"allowed"), relay)
            data, _ = rs.udp_recv(client, 3.0)
            assert data is not None and rs.udp_unwrap(data).data == b"allowed"
            extra, _ = rs.udp_recv(client, 0.5)
            assert extra is None, "a datagram to a denied destination was relayed"
    wait_log(srv, r"datagram dropped: user guest: may not reach 127\.0\.0\.9", "the dropped datagram in the log")


# ---------------------------------------------------------------------------
# a clock the tests move: libfaketime (real time passes from a chosen start)
# ---------------------------------------------------------------------------


def faked_server(tmp_path, monkeypatch, start: str, config_text: str) -> SocksServer:
    """The server with its wall clock starting at `start` (UTC) and running
    on; its timers (the monotonic clock) are left alone."""
    libraries = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    require(bool(libraries), "libfaketime is not installed: apt-get install -y faketime")
    # The library itself rather than the faketime command, which would stand
    # between the test and the server's signals and exit status.
    monkeypatch.setenv("LD_PRELOAD", libraries[0])
    monkeypatch.setenv("FAKETIME", f"@{start}")
    monkeypatch.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
    monkeypatch.setenv("TZ", "UTC")
    config = tmp_path / f"faked-{time.monotonic_ns()}.toml"
    config.write_text(config_text)
    cmd = [server_binary(), "--listen", "127.0.0.1:0", "--config", config]
    cmd += ["--log-level", "debug"]
    return SocksServer(cmd, tmp_path, 1)


def stopped_cleanly(srv: SocksServer) -> None:
    rc, _ = srv.stop()
    srv.close_files()
    assert rc == 0, f"the server exited with {rc}\n{srv.stderr_text()}"


def test_a_guest_pass_expires_on_the_servers_clock(tmp_path, monkeypatch, echo_target):
    srv = faked_server(tmp_path, monkeypatch, "2026-12-24 17:59:57", users_config('expires = "2026-12-24T18:00:00Z"'))
    try:
        sock, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
        with sock:
            sock.sendall(b"before six")
            assert rs.recv_exact(sock, 10) == b"before six"
            assert rs.wait_closed(sock, 10.0).closed, "the session outlived its user's expiry"
        wait_log(srv, r"session ended: user guest: expired at 2026-12-24T18:00:00Z", "the expiry in the log")
        assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02
    finally:
        stopped_cleanly(srv)


def test_a_daily_quota_starts_again_at_midnight(tmp_path, monkeypatch, echo_target):
    srv = faked_server(tmp_path, monkeypatch, "2026-12-01 23:59:55", users_config('quota = "1 MB/day"'))
    try:
        sock, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
        with sock:
            echo_bytes(sock, 600 * 1024)
            assert rs.wait_closed(sock, 3.0).closed, "the session over its quota was not ended"
        assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02
        deadline = time.monotonic() + 15
        while socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) != 0x00:
            assert time.monotonic() < deadline, "the quota did not start again at midnight"
            time.sleep(0.5)
        wait_log(srv, r"over its quota of 1 MB/day \(\d+\.\d MB used this day\)", "the quota in the log")
    finally:
        stopped_cleanly(srv)


def test_a_total_quota_does_not_start_again_at_midnight(tmp_path, monkeypatch, echo_target):
    """A guest pass's budget in all ("N GB/total"): the new day that gives
    a daily quota back gives nothing back here."""
    srv = faked_server(tmp_path, monkeypatch, "2026-12-01 23:59:57", users_config('quota = "1 MB/total"'))
    try:
        sock, _ = rs.connect5_ok(srv.addr4, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW))
        with sock:
            echo_bytes(sock, 600 * 1024)
            assert rs.wait_closed(sock, 3.0).closed, "the session over its quota was not ended"
        wait_log(srv, r"over its quota of 1 MB/total \(\d+\.\d MB used in all\)", "the quota in the log")
        time.sleep(4)  # past midnight on the server's clock
        assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (GUEST, GUEST_PW)) == 0x02
        assert socks_reply(srv, rs.CMD_CONNECT, "127.0.0.1", echo_target.port, (ALICE, ALICE_PW)) == 0x00
    finally:
        stopped_cleanly(srv)


# ---------------------------------------------------------------------------
# bandwidth over UDP, with PySocks
# ---------------------------------------------------------------------------

UDP_RATE = 400_000  # bytes per second


class UdpSink:
    """Counts the bytes arriving from each source address."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.bytes: dict = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                data, source = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            self.bytes[source] = self.bytes.get(source, 0) + len(data)

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def pysocks_udp_flood(srv, login, sink_port: int, seconds: float, offered: int) -> None:
    """Sends 1000-byte datagrams through PySocks' UDP ASSOCIATE at `offered`
    bytes per second for `seconds`."""
    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    s.set_proxy(socks.SOCKS5, srv.addr4[0], srv.addr4[1], username=login[0], password=login[1])
    payload = b"u" * 1000
    per_tick = max(1, offered // 1000 // 100)  # datagrams per 10 ms
    try:
        start = time.monotonic()
        tick = 0
        while time.monotonic() - start < seconds:
            for _ in range(per_tick):
                s.sendto(payload, ("127.0.0.1", sink_port))
            tick += 1
            pause = start + tick * 0.01 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    finally:
        s.close()


def udp_rates(srv, logins, seconds: float = 4.0) -> list[float]:
    sink = UdpSink()
    try:
        with concurrent.futures.ThreadPoolExecutor(len(logins)) as pool:
            list(pool.map(lambda login: pysocks_udp_flood(srv, login, sink.port, seconds, 4 * UDP_RATE), logins))
        time.sleep(0.3)
    finally:
        sink.close()
    assert len(sink.bytes) == len(logins), f"datagrams came from {list(sink.bytes)}"
    return [n / seconds for n in sink.bytes.values()]


def test_udp_is_held_to_a_users_limit_alone_and_shared(socksbox):
    config = users_config(f'rate_limit = "{UDP_RATE // 1000} KB/s"')
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    (alone,) = udp_rates(srv, [(GUEST, GUEST_PW)])
    assert 0.85 * UDP_RATE <= alone <= 1.1 * UDP_RATE, f"one UDP session: {alone:.0f} B/s for {UDP_RATE} B/s"
    two = udp_rates(srv, [(GUEST, GUEST_PW)] * 2)
    assert 0.85 * UDP_RATE <= sum(two) <= 1.1 * UDP_RATE, f"two UDP sessions of one user: {two} B/s"


def test_udp_sessions_of_two_users_share_the_servers_limit(socksbox):
    config = f'[limits]\nrate_limit = "{UDP_RATE // 1000} KB/s"\n' + users_config("")
    srv = socksbox(config=config, listen=("127.0.0.1:0",))
    rates = udp_rates(srv, [(GUEST, GUEST_PW), (ALICE, ALICE_PW)])
    assert 0.85 * UDP_RATE <= sum(rates) <= 1.1 * UDP_RATE, f"two users: {rates} B/s under {UDP_RATE} B/s"
    assert min(rates) / max(rates) >= 0.6, f"the server's limit was not shared fairly over UDP: {rates}"


def test_a_quota_that_runs_out_ends_a_download(socksbox, http_target):
    srv = socksbox(config=users_config('quota = "2 MB/day"\nrate_limit = "1 MB/s"'), listen=("127.0.0.1:0",))
    done = curl(
        "-x", f"socks5h://{GUEST}:{GUEST_PW}@{srv.addr4[0]}:{srv.addr4[1]}", http_target.url("127.0.0.1", "/big")
    )
    assert done.returncode != 0, "a download past the quota finished"
    got = len(done.stdout)
    assert 1_500_000 <= got <= 3_500_000, f"{got} bytes of {len(http_target.big)} came through a 2 MB quota"
    wait_log(srv, r"session ended: user guest: over its quota of 2 MB/day", "the end in the log")
    http = curl_http(srv, http_target.url("127.0.0.1", "/small"), GUEST, GUEST_PW)
    assert http.stdout == b"403", f"HTTP over the quota: {http.stdout!r}"
