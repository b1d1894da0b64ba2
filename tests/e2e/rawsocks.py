"""Byte-level SOCKS4/4a/5 client helpers, written from RFC 1928, RFC 1929 and
Ying-Da Lee's SOCKS4 text. They are deliberately independent of the server's
Rust code: every message is assembled and parsed here by hand.

Every socket operation is bounded by a timeout.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import time
from dataclasses import dataclass

DEFAULT_TIMEOUT = 5.0

# SOCKS5 constants (RFC 1928)
VER5 = 0x05
M_NOAUTH = 0x00
M_GSSAPI = 0x01
M_USERPASS = 0x02
M_NONE = 0xFF
CMD_CONNECT = 0x01
CMD_BIND = 0x02
CMD_UDP = 0x03
ATYP_V4 = 0x01
ATYP_DOMAIN = 0x03
ATYP_V6 = 0x04

REP_NAMES = {
    0x00: "succeeded",
    0x01: "general failure",
    0x02: "not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
}

# SOCKS4 constants
VER4 = 0x04
S4_CONNECT = 1
S4_BIND = 2
S4_GRANTED = 90
S4_REJECTED = 91


def error_reply5(rep: int) -> bytes:
    """A SOCKS5 failure reply as this server sends it: REP, then BND
    0.0.0.0:0 (ATYP 1), since RFC 1928 gives BND no meaning on failure."""
    return bytes([VER5, rep, 0x00, ATYP_V4, 0, 0, 0, 0, 0, 0])


# A SOCKS4 rejection as this server sends it: VN 0, CD 91, DSTPORT 0, DSTIP 0.0.0.0.
REJECTED4 = bytes([0, S4_REJECTED, 0, 0, 0, 0, 0, 0])


class ProtocolError(AssertionError):
    """The peer sent something (or nothing) we did not expect."""


def rep_name(rep: int) -> str:
    return f"0x{rep:02x} ({REP_NAMES.get(rep, 'unassigned')})"


# ---------------------------------------------------------------------------
# plain socket helpers
# ---------------------------------------------------------------------------


def family_of(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_connect(addr, timeout: float = DEFAULT_TIMEOUT, source: str | None = None) -> socket.socket:
    """Connect a TCP socket to addr=(host, port); optionally bind the source IP first."""
    host, port = addr[0], addr[1]
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source is not None:
            s.bind((source, 0))
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def recv_exact(sock: socket.socket, n: int, timeout: float = DEFAULT_TIMEOUT, what: str = "data") -> bytes:
    """Read exactly n bytes, or raise ProtocolError saying how far we got."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while len(buf) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProtocolError(
                f"timed out after {timeout}s waiting for {what}: got {len(buf)} of {n} bytes: {bytes(buf)!r}"
            )
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(n - len(buf))
        except TimeoutError:
            continue
        except ConnectionResetError as e:
            raise ProtocolError(
                f"connection reset while waiting for {what}: got {len(buf)} of {n} bytes: {bytes(buf)!r}"
            ) from e
        if not chunk:
            raise ProtocolError(
                f"connection closed (EOF) while waiting for {what}: got {len(buf)} of {n} bytes: {bytes(buf)!r}"
            )
        buf += chunk
    return bytes(buf)


def recv_all_until_eof(sock: socket.socket, timeout: float = DEFAULT_TIMEOUT, limit: int = 64 << 20) -> bytes:
    """Read until the peer closes its write side. Raises ProtocolError on timeout."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProtocolError(f"no EOF within {timeout}s; received {len(buf)} bytes so far")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(1 << 16)
        except TimeoutError:
            continue
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > limit:
            raise ProtocolError(f"received more than {limit} bytes without EOF")


@dataclass
class CloseResult:
    data: bytes  # bytes received before the close
    how: str  # "eof", "reset" or "open"
    after: float  # seconds until the close was seen (or the timeout)

    @property
    def closed(self) -> bool:
        return self.how in ("eof", "reset")


def wait_closed(sock: socket.socket, timeout: float) -> CloseResult:
    """Read (and keep) whatever arrives until EOF/reset, or until timeout."""
    start = time.monotonic()
    deadline = start + timeout
    buf = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return CloseResult(bytes(buf), "open", time.monotonic() - start)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return CloseResult(bytes(buf), "reset", time.monotonic() - start)
        if not chunk:
            return CloseResult(bytes(buf), "eof", time.monotonic() - start)
        buf += chunk
        if len(buf) > (1 << 20):
            return CloseResult(bytes(buf), "open", time.monotonic() - start)


def assert_closed(sock: socket.socket, timeout: float, what: str, expect: bytes = b"") -> CloseResult:
    """The peer sends exactly `expect` (by default nothing) and then closes
    its side (FIN: EOF here, not a reset) within timeout."""
    res = wait_closed(sock, timeout)
    assert res.how == "eof", (
        f"{what}: expected {expect.hex(' ') or 'no bytes'} then EOF within {timeout}s, "
        + ("but the connection stayed open" if res.how == "open" else f"but it was reset after {res.after:.2f}s")
        + f" (received {res.data.hex(' ') or 'nothing'})"
    )
    assert res.data == expect, (
        f"{what}: expected exactly {expect.hex(' ') or 'no bytes'} before the close, "
        f"received {res.data.hex(' ') or 'nothing'}"
    )
    return res


def assert_reset(sock: socket.socket, timeout: float, what: str) -> CloseResult:
    """The peer resets the connection (RST) within timeout without sending a byte."""
    res = wait_closed(sock, timeout)
    assert res.how == "reset", (
        f"{what}: expected a reset without a reply within {timeout}s, got "
        + ("no close" if res.how == "open" else "EOF (a FIN)")
        + f" after {res.after:.2f}s (received {res.data.hex(' ') or 'nothing'})"
    )
    assert res.data == b"", f"{what}: expected no bytes before the reset, received {res.data.hex(' ')}"
    return res


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """sendall that tolerates the peer having already closed/reset."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
        return False


# ---------------------------------------------------------------------------
# address encoding (RFC 1928 section 5)
# ---------------------------------------------------------------------------


def encode_addr(host: str | bytes, atyp: int | None = None) -> bytes:
    """ATYP + DST.ADDR. IP literals become ATYP 1/4, anything else a domain."""
    if isinstance(host, bytes):
        if len(host) > 255:
            raise ValueError("domain too long for SOCKS5")
        return bytes([ATYP_DOMAIN, len(host)]) + host
    if atyp is None:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            atyp = ATYP_DOMAIN
        else:
            atyp = ATYP_V4 if ip.version == 4 else ATYP_V6
    if atyp == ATYP_V4:
        return bytes([ATYP_V4]) + socket.inet_pton(socket.AF_INET, host)
    if atyp == ATYP_V6:
        return bytes([ATYP_V6]) + socket.inet_pton(socket.AF_INET6, host)
    raw = host.encode("ascii")
    return bytes([ATYP_DOMAIN, len(raw)]) + raw


def encode_addr_port(host, port: int) -> bytes:
    return encode_addr(host) + struct.pack("!H", port)


def read_addr_port(sock: socket.socket, atyp: int, timeout: float, what: str):
    if atyp == ATYP_V4:
        host = socket.inet_ntop(socket.AF_INET, recv_exact(sock, 4, timeout, what))
    elif atyp == ATYP_V6:
        host = socket.inet_ntop(socket.AF_INET6, recv_exact(sock, 16, timeout, what))
    elif atyp == ATYP_DOMAIN:
        n = recv_exact(sock, 1, timeout, what)[0]
        host = recv_exact(sock, n, timeout, what).decode("ascii", "replace")
    else:
        raise ProtocolError(f"{what}: reply has unknown ATYP 0x{atyp:02x}")
    (port,) = struct.unpack("!H", recv_exact(sock, 2, timeout, what))
    return host, port


def parse_addr_port(buf: bytes, offset: int):
    """Parse ATYP ADDR PORT from a buffer; returns (atyp, host, port, next_offset)."""
    atyp = buf[offset]
    offset += 1
    if atyp == ATYP_V4:
        host = socket.inet_ntop(socket.AF_INET, buf[offset : offset + 4])
        offset += 4
    elif atyp == ATYP_V6:
        host = socket.inet_ntop(socket.AF_INET6, buf[offset : offset + 16])
        offset += 16
    elif atyp == ATYP_DOMAIN:
        n = buf[offset]
        host = buf[offset + 1 : offset + 1 + n].decode("ascii", "replace")
        offset += 1 + n
    else:
        raise ProtocolError(f"unknown ATYP 0x{atyp:02x} in {buf!r}")
    (port,) = struct.unpack("!H", buf[offset : offset + 2])
    return atyp, host, port, offset + 2


# ---------------------------------------------------------------------------
# SOCKS5
# ---------------------------------------------------------------------------


@dataclass
class Reply5:
    ver: int
    rep: int
    rsv: int
    atyp: int
    host: str
    port: int

    def __str__(self):
        return f"VER={self.ver} REP={rep_name(self.rep)} RSV={self.rsv} ATYP={self.atyp} BND={self.host}:{self.port}"


def greeting5(methods=(M_NOAUTH,)) -> bytes:
    return bytes([VER5, len(methods), *methods])


def negotiate5(sock: socket.socket, methods=(M_NOAUTH,), timeout: float = DEFAULT_TIMEOUT) -> int:
    """Send the greeting, return the METHOD the server picked."""
    sock.sendall(greeting5(methods))
    ver, method = recv_exact(sock, 2, timeout, "method selection reply")
    if ver != VER5:
        raise ProtocolError(f"method selection reply VER is {ver}, expected 5")
    return method


def userpass_msg(user: bytes | str, password: bytes | str) -> bytes:
    u = user.encode() if isinstance(user, str) else user
    p = password.encode() if isinstance(password, str) else password
    return bytes([0x01, len(u)]) + u + bytes([len(p)]) + p


def userpass5(sock: socket.socket, user, password, timeout: float = DEFAULT_TIMEOUT):
    """RFC 1929 sub-negotiation; returns (ver, status)."""
    sock.sendall(userpass_msg(user, password))
    ver, status = recv_exact(sock, 2, timeout, "RFC 1929 status reply")
    return ver, status


def request5(cmd: int, host, port: int, atyp_override: bytes | None = None) -> bytes:
    addr = atyp_override if atyp_override is not None else encode_addr(host)
    return bytes([VER5, cmd, 0x00]) + addr + struct.pack("!H", port)


def read_reply5(sock: socket.socket, timeout: float = DEFAULT_TIMEOUT, what: str = "SOCKS5 reply") -> Reply5:
    ver, rep, rsv, atyp = recv_exact(sock, 4, timeout, what)
    if ver != VER5:
        raise ProtocolError(f"{what}: VER is {ver}, expected 5 (first bytes {bytes([ver, rep, rsv, atyp])!r})")
    host, port = read_addr_port(sock, atyp, timeout, what)
    return Reply5(ver, rep, rsv, atyp, host, port)


def open5(proxy, auth=None, timeout: float = DEFAULT_TIMEOUT, source=None) -> socket.socket:
    """Connect to the proxy and complete method negotiation (+ RFC 1929 if auth)."""
    sock = tcp_connect(proxy, timeout, source=source)
    try:
        if auth is None:
            m = negotiate5(sock, (M_NOAUTH,), timeout)
            if m != M_NOAUTH:
                raise ProtocolError(f"server picked method 0x{m:02x}, expected 0x00 (no auth)")
        else:
            m = negotiate5(sock, (M_USERPASS,), timeout)
            if m != M_USERPASS:
                raise ProtocolError(f"server picked method 0x{m:02x}, expected 0x02 (username/password)")
            ver, status = userpass5(sock, *auth, timeout=timeout)
            if (ver, status) != (1, 0):
                raise ProtocolError(f"RFC 1929 auth failed: reply {bytes([ver, status])!r}")
    except BaseException:
        sock.close()
        raise
    return sock


def connect5(proxy, host, port: int, auth=None, timeout: float = DEFAULT_TIMEOUT):
    """Full SOCKS5 CONNECT; returns (sock, Reply5). Does not check REP."""
    sock = open5(proxy, auth, timeout)
    try:
        sock.sendall(request5(CMD_CONNECT, host, port))
        rep = read_reply5(sock, timeout, "CONNECT reply")
    except BaseException:
        sock.close()
        raise
    return sock, rep


def connect5_ok(proxy, host, port: int, auth=None, timeout: float = DEFAULT_TIMEOUT):
    sock, rep = connect5(proxy, host, port, auth, timeout)
    if rep.rep != 0:
        sock.close()
        raise ProtocolError(f"CONNECT to {host}:{port} via {proxy} failed: {rep}")
    return sock, rep


# ---------------------------------------------------------------------------
# SOCKS4 / 4a
# ---------------------------------------------------------------------------


@dataclass
class Reply4:
    vn: int
    cd: int
    port: int
    ip: str

    def __str__(self):
        return f"VN={self.vn} CD={self.cd} DSTPORT={self.port} DSTIP={self.ip}"


def request4(cd: int, ip: str, port: int, userid: bytes = b"", domain: bytes | None = None) -> bytes:
    msg = bytes([VER4, cd]) + struct.pack("!H", port) + socket.inet_pton(socket.AF_INET, ip) + userid + b"\x00"
    if domain is not None:
        msg += domain + b"\x00"
    return msg


def request4a(cd: int, domain: bytes | str, port: int, userid: bytes = b"") -> bytes:
    d = domain.encode() if isinstance(domain, str) else domain
    return request4(cd, "0.0.0.1", port, userid, d)


def read_reply4(sock: socket.socket, timeout: float = DEFAULT_TIMEOUT, what: str = "SOCKS4 reply") -> Reply4:
    raw = recv_exact(sock, 8, timeout, what)
    vn, cd, port = struct.unpack("!BBH", raw[:4])
    ip = socket.inet_ntop(socket.AF_INET, raw[4:])
    return Reply4(vn, cd, port, ip)


def connect4(proxy, ip: str, port: int, userid: bytes = b"", domain=None, timeout: float = DEFAULT_TIMEOUT):
    sock = tcp_connect(proxy, timeout)
    try:
        if domain is None:
            sock.sendall(request4(S4_CONNECT, ip, port, userid))
        else:
            sock.sendall(request4a(S4_CONNECT, domain, port, userid))
        rep = read_reply4(sock, timeout, "SOCKS4 CONNECT reply")
    except BaseException:
        sock.close()
        raise
    return sock, rep


# ---------------------------------------------------------------------------
# UDP (RFC 1928 section 7)
# ---------------------------------------------------------------------------


def udp_header(host, port: int, frag: int = 0) -> bytes:
    return b"\x00\x00" + bytes([frag]) + encode_addr(host) + struct.pack("!H", port)


def udp_wrap(host, port: int, data: bytes, frag: int = 0) -> bytes:
    return udp_header(host, port, frag) + data


@dataclass
class UdpDatagram:
    rsv: bytes
    frag: int
    atyp: int
    host: str
    port: int
    data: bytes


def udp_unwrap(buf: bytes) -> UdpDatagram:
    if len(buf) < 10:
        raise ProtocolError(f"UDP datagram too short for a SOCKS5 header: {buf!r}")
    atyp, host, port, off = parse_addr_port(buf, 3)
    return UdpDatagram(buf[:2], buf[2], atyp, host, port, buf[off:])


def udp_recv(sock: socket.socket, timeout: float):
    """recvfrom with a timeout; returns (data, addr) or (None, None) on timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recvfrom(65535)
    except TimeoutError:
        return None, None


def udp_socket(host: str) -> socket.socket:
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(DEFAULT_TIMEOUT)
    return s


def canon(host: str) -> str:
    """Canonical text form of an IP literal (so '::1' and '0:0::1' compare equal)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host
