"""GSS-API (RFC 1961) against a real MIT Kerberos KDC of the tests' own.

The realm runs on loopback (kdc.py): a service principal rcmd/localhost
with its keytab for the server, users with tickets from `kinit`. Clients:
curl's --socks5-gssapi and --socks5-gssapi-nec (a curl that can: see
`gss_curl`), python-gssapi with our RFC 1961 framing (gsssocks.py) for the
protection levels and the bad tokens, and the server itself as the client
of a second copy, as a chain's hop.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

import gsssocks as gs
import kdc
import rawsocks as rs
from support import REPO_ROOT, require, wait_log

WAIT = 10.0


def gss_curl() -> str | None:
    """A curl whose SOCKS5 GSS-API works: $SOCKSBOX_GSS_CURL, else the one
    scripts/bootstrap builds, else the system's if it is 8.22 or newer.
    Debian 12's curl (7.88) and bookworm-backports' (8.14) cannot: once
    they wait for the proxy's method selection they forget GSS-API was
    allowed, and stop with error 97 ("SOCKS5 GSSAPI per-message
    authentication is not supported") whatever the proxy is."""
    for candidate in (os.environ.get("SOCKSBOX_GSS_CURL"), str(REPO_ROOT / ".cache/curl-gss/bin/curl")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    require(
        not kdc.missing_programs(),
        f"MIT Kerberos is missing {kdc.missing_programs()}: apt-get install krb5-kdc krb5-admin-server krb5-user",
    )
    base = tmp_path_factory.mktemp("realm")
    realm = kdc.Realm(base).start()
    realm.keytab = base / "proxy.keytab"
    realm.add_service("rcmd/localhost", realm.keytab)
    for name in ("alice", "bob"):
        realm.add_user(name, f"{name}-password")
    old = os.environ.get("KRB5_CONFIG")
    os.environ["KRB5_CONFIG"] = str(base / "krb5.conf")
    yield realm
    if old is None:
        os.environ.pop("KRB5_CONFIG", None)
    else:
        os.environ["KRB5_CONFIG"] = old
    realm.stop()


@pytest.fixture
def tickets(realm, tmp_path, monkeypatch):
    """kinit(name, lifetime=None): a ticket for NAME in a cache of this
    test's own, made the default one (KRB5CCNAME) for the clients here."""

    def kinit(name: str, lifetime: str | None = None) -> dict:
        cache = tmp_path / f"{name}.ccache"
        env = realm.kinit(name, f"{name}-password", cache, lifetime)
        monkeypatch.setenv("KRB5CCNAME", env["KRB5CCNAME"])
        return env

    return kinit


def gss_server(socksbox, realm, extra: str = "", **kwargs):
    config = f'[gssapi]\nkeytab = "{realm.keytab}"\n{extra}\n'
    return socksbox(config=config, listen=("127.0.0.1:0",), **kwargs)


def run_curl(curl: str, srv, url: str, env: dict, *flags) -> subprocess.CompletedProcess:
    host, port = srv.addr4
    proxy = f"socks5h://localhost:{port}"
    cmd = [curl, "-sS", "--max-time", "15", "--socks5-gssapi", *flags, "--proxy", proxy, url]
    return subprocess.run(cmd, env=env, capture_output=True, timeout=30)


# ---------------------------------------------------------------------------
# curl
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("nec", [False, True], ids=["rfc1961", "nec"])
def test_curl_logs_in_with_its_ticket(socksbox, realm, tickets, http_target, nec):
    curl = gss_curl()
    require(curl is not None, "no curl that can do SOCKS5 GSS-API: scripts/bootstrap test builds one")
    env = tickets("alice")
    srv = gss_server(socksbox, realm)
    flags = ["--socks5-gssapi-nec"] if nec else []
    out = run_curl(curl, srv, http_target.url("127.0.0.1", "/small"), env, *flags)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout == b"hello from the socksbox e2e http server\n"
    # The principal is the session's user.
    wait_log(srv, r"session ended: .*user=alice@SOCKSBOX\.TEST ", "the principal as the user")
    wait_log(
        srv,
        r"GSS-API context established client=alice@SOCKSBOX\.TEST proposed=\w+ level=none clear="
        + ("true" if nec else "false"),
        "the agreed level",
    )


def test_curl_stops_where_the_server_requires_protection(socksbox, realm, tickets, http_target):
    """curl cannot seal messages: a server that requires a protection
    level agrees it, and curl gives up with its own words."""
    curl = gss_curl()
    require(curl is not None, "no curl that can do SOCKS5 GSS-API: scripts/bootstrap test builds one")
    env = tickets("alice")
    srv = gss_server(socksbox, realm, 'protection = ["integrity"]')
    out = run_curl(curl, srv, http_target.url("127.0.0.1", "/small"), env)
    assert out.returncode != 0
    assert b"protection" in out.stderr, out.stderr.decode()
    wait_log(srv, r"proposed=\w+ level=integrity", "integrity agreed")
    wait_log(
        srv,
        r"protected connection closed: not a sealed message: unsupported GSS-API message version 0x05",
        "why it ended",
    )


# ---------------------------------------------------------------------------
# protection levels, with python-gssapi
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level", [gs.INTEGRITY, gs.CONFIDENTIALITY, gs.SELECTIVE], ids=["integrity", "confidentiality", "selective"]
)
def test_every_message_is_sealed_at_the_agreed_level(socksbox, realm, tickets, echo_target, level):
    tickets("alice")
    srv = gss_server(socksbox, realm, 'protection = ["integrity", "confidentiality", "selective"]')
    session = gs.connect(srv.addr4, level=level)
    with session.sock:
        assert session.level == level, "the server agreed the level proposed"
        reply = session.request(rs.CMD_CONNECT, "127.0.0.1", echo_target.port)
        assert reply.rep == 0, str(reply)
        payload = b"secret-payload-" * 4000  # 60 KB: several sealed messages
        session.send(payload)
        assert session.recv_exact(len(payload)) == payload
        # What crossed the wire was sealed: read the raw frames of one more
        # echo, which must open and, under confidentiality, not show it.
        session.send(b"canary-text-for-the-wire")
        mtyp, token = gs.read_message(session.sock)
        assert mtyp == gs.ENCAPSULATED
        assert session.ctx.unwrap(token).message == b"canary-text-for-the-wire"
        if level != gs.INTEGRITY:
            assert b"canary-text" not in token, "confidentiality left the bytes readable"
        else:
            assert b"canary-text" in token, "integrity is not meant to encrypt"


def test_a_forged_message_closes_a_protected_session(socksbox, realm, tickets, echo_target):
    tickets("alice")
    srv = gss_server(socksbox, realm, 'protection = ["integrity"]')
    session = gs.connect(srv.addr4, level=gs.INTEGRITY)
    with session.sock:
        assert session.request(rs.CMD_CONNECT, "127.0.0.1", echo_target.port).rep == 0
        sealed = bytearray(session.seal(b"hello"))
        sealed[-1] ^= 0x01  # one bit of the checksum
        session.sock.sendall(bytes(sealed))
        closed = rs.wait_closed(session.sock, 5.0)
        assert closed.closed and closed.data == b"", "a forged message was relayed"


def test_udp_datagrams_are_sealed_both_ways(socksbox, realm, tickets, udp_echo_target):
    tickets("alice")
    srv = gss_server(socksbox, realm, 'protection = ["confidentiality"]')
    session = gs.connect(srv.addr4, level=gs.CONFIDENTIALITY)
    udp = rs.udp_socket("127.0.0.1")
    with session.sock, udp:
        reply = session.request(rs.CMD_UDP, "127.0.0.1", udp.getsockname()[1])
        assert reply.rep == 0, str(reply)
        relay = (reply.host, reply.port)
        datagram = rs.udp_wrap("127.0.0.1", udp_echo_target.port, b"sealed datagram")
        # A datagram in the clear is dropped: the association is protected.
        udp.sendto(datagram, relay)
        data, _ = rs.udp_recv(udp, 1.0)
        assert data is None, "a clear datagram was relayed on a protected association"
        udp.sendto(session.seal(datagram), relay)
        data, _ = rs.udp_recv(udp, WAIT)
        assert data is not None, "no answer to the sealed datagram"
        assert b"sealed datagram" not in data, "the answer came back in the clear"
        answer = rs.udp_unwrap(session.open(data))
        assert (answer.host, answer.port, answer.data) == ("127.0.0.1", udp_echo_target.port, b"sealed datagram")


# ---------------------------------------------------------------------------
# refusals: the abort message, a closed connection, a log line that says why
# ---------------------------------------------------------------------------


def test_a_principal_outside_the_allowed_list_is_aborted(socksbox, realm, tickets, echo_target):
    srv = gss_server(socksbox, realm, f'allow = ["alice@{kdc.REALM}"]')
    tickets("bob")
    with pytest.raises(gs.Aborted):
        gs.connect(srv.addr4)
    wait_log(srv, r"GSS-API authentication failed: bob@SOCKSBOX\.TEST is not allowed \(gssapi\.allow\)", "the refusal")
    tickets("alice")
    session = gs.connect(srv.addr4)
    with session.sock:
        assert session.request(rs.CMD_CONNECT, "127.0.0.1", echo_target.port).rep == 0


def test_an_expired_ticket_is_aborted(socksbox, realm, tickets, tmp_path, monkeypatch):
    """A ticket of three seconds, its token made at once, reaches a server
    whose clock (libfaketime) is six seconds ahead and which allows one
    second of clock skew (its own krb5.conf): for the server the ticket has
    expired. MIT Kerberos checks the expiry before the skew, so the reason
    is the expiry."""
    import glob

    import gssapi

    libraries = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    require(bool(libraries), "libfaketime is not installed: apt-get install -y faketime")
    tickets("alice", lifetime="3s")
    name = gssapi.Name("rcmd@localhost", gssapi.NameType.hostbased_service)
    token = gssapi.SecurityContext(name=name, usage="initiate").step()
    strict = tmp_path / "server-krb5.conf"
    strict.write_text(
        (realm.dir / "krb5.conf").read_text().replace("[libdefaults]", "[libdefaults]\n    clockskew = 1")
    )
    monkeypatch.setenv("KRB5_CONFIG", str(strict))
    monkeypatch.setenv("LD_PRELOAD", libraries[0])
    monkeypatch.setenv("FAKETIME", "+6")
    monkeypatch.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
    srv = gss_server(socksbox, realm)
    sock = socket.create_connection(srv.addr4, timeout=WAIT)
    with sock:
        gs.greet(sock)
        sock.sendall(gs.frame(gs.AUTH, token))
        assert rs.recv_exact(sock, 2, timeout=WAIT) == b"\x01\xff", "no abort message"
        assert rs.wait_closed(sock, 5.0).closed
    wait_log(srv, r"GSS-API authentication failed: the client's token was refused: .*\(Ticket expired\)", "the expiry")


def test_a_garbage_token_gets_the_abort_message_and_is_never_logged(socksbox, realm):
    srv = gss_server(socksbox, realm)
    garbage = b"NOT-A-KERBEROS-TOKEN-" * 10
    sock = socket.create_connection(srv.addr4, timeout=WAIT)
    with sock:
        gs.greet(sock)
        sock.sendall(gs.frame(gs.AUTH, garbage))
        assert rs.recv_exact(sock, 2, timeout=WAIT) == b"\x01\xff", "no abort message"
        assert rs.wait_closed(sock, 5.0).closed, "the connection stayed open after the abort"
    line = wait_log(srv, r"GSS-API authentication failed: the client's token was refused: [^\n]+", "the reason")
    assert "NOT-A-KERBEROS" not in srv.stderr_text(60000), line


def test_a_wrong_message_type_and_a_bad_version_are_aborted(socksbox, realm):
    srv = gss_server(socksbox, realm)
    for bad in (gs.frame(gs.PROTECTION, b"\x00"), b"\x05\x01\x00\x00"):
        sock = socket.create_connection(srv.addr4, timeout=WAIT)
        with sock:
            gs.greet(sock)
            sock.sendall(bad)
            assert rs.recv_exact(sock, 2, timeout=WAIT) == b"\x01\xff", f"no abort for {bad!r}"
            assert rs.wait_closed(sock, 5.0).closed


def test_a_client_without_gssapi_is_told_no_method_is_acceptable(socksbox, realm):
    srv = gss_server(socksbox, realm)
    sock = rs.tcp_connect(srv.addr4)
    with sock:
        assert rs.negotiate5(sock, (rs.M_NOAUTH,)) == 0xFF
    wait_log(srv, r"server needs GSS-API or username/password", "what the server needs")


# ---------------------------------------------------------------------------
# a chain whose hop is a second copy of the server, configured for GSS-API
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("protection", ["none", "integrity", "confidentiality"])
def test_a_chain_hop_with_gssapi(socksbox, realm, tickets, http_target, protection):
    tickets("alice")
    hop = gss_server(socksbox, realm, f'protection = ["{protection}"]')
    front = socksbox(
        "--upstream",
        f"socks5+gssapi://localhost:{hop.addr4[1]}",
        "--route",
        "cidr:127.0.0.0/8=chain",
        listen=("127.0.0.1:0",),
    )
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "15",
            "--proxy",
            f"socks5h://{front.addr4[0]}:{front.addr4[1]}",
            http_target.url("127.0.0.1", "/big"),
        ],
        capture_output=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if "proxy" not in k.lower()},
    )
    assert out.returncode == 0, out.stderr.decode() + front.stderr_text()
    import hashlib

    assert hashlib.sha256(out.stdout).hexdigest() == http_target.big_sha256
    wait_log(hop, rf"level={protection} ", "the level the hop agreed")
    wait_log(hop, r"session ended: .*user=alice@SOCKSBOX\.TEST ", "the front's user at the hop")


def test_a_principal_taken_off_the_list_loses_its_running_session(socksbox, realm, tickets, echo_target, tmp_path):
    import signal

    config = tmp_path / "gss.toml"
    allow = f'[gssapi]\nkeytab = "{realm.keytab}"\nallow = ["alice@{kdc.REALM}", "bob@{kdc.REALM}"]\n'
    config.write_text(allow)
    srv = socksbox("--config", config, listen=("127.0.0.1:0",))
    tickets("alice")
    session = gs.connect(srv.addr4)
    with session.sock:
        assert session.request(rs.CMD_CONNECT, "127.0.0.1", echo_target.port).rep == 0
        session.send(b"still here")
        assert session.recv_exact(10) == b"still here"
        config.write_text(allow.replace(f'"alice@{kdc.REALM}", ', ""))
        os.kill(srv.pid, signal.SIGHUP)
        assert rs.wait_closed(session.sock, 5.0).closed, "alice's session outlived her removal"
    wait_log(srv, r"sessions of principals GSS-API no longer admits ended ended=1", "the end in the log")
    with pytest.raises(gs.Aborted):
        gs.connect(srv.addr4)
