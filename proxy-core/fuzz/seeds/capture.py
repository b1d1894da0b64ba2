#!/usr/bin/env python3
"""Records what real SOCKS clients send, as seeds for the fuzz targets.

Plays a SOCKS4/4a/5 server on loopback just enough for curl, ncat and
PySocks to finish a request (greetings, username/password and requests
all get valid success replies; a UDP ASSOCIATE gets a relay that answers
one datagram), and writes every message into the corpus folder of the
target that parses it:

  corpus/socks5_greeting, socks5_request, userpass_credentials,
  socks4_request, udp_header, target_addr   what the clients sent
  corpus/socks5_method_selection, socks5_reply, userpass_status,
  socks4_reply, hop_handshake               the replies they accepted
                                            (what an upstream would send)
  corpus/session                            whole client conversations,
                                            framed for the session target

Run from anywhere, with a Python that has PySocks (the project's venv):
  /work/main/.venv/bin/python proxy-core/fuzz/seeds/capture.py
It needs curl and ncat on the PATH, and no network beyond loopback: the
targets are TEST-NET addresses and names the clients do not resolve.
"""

import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import socks  # PySocks

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
USER, PASSWORD = "alice", "secret"
TARGET_IP, TARGET_NAME, PORT = "192.0.2.10", "example.test", 80
HTTP_REQUEST = b"GET / HTTP/1.0\r\nHost: example.test\r\n\r\n"
HTTP_ANSWER = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
# What the fake SOCKS server names as its bound address and UDP peer.
BOUND = (bytes([10, 0, 0, 1]), 4321)
LIMIT = 5.0
# A DNS query for example.test, the datagram of the UDP ASSOCIATE.
DNS_QUERY = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x04test\x00\x00\x01\x00\x01"

written = {}


def save(target, name, data):
    """Writes `data` as corpus/<target>/<name>, unless the folder has it."""
    data = bytes(data)
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()
    seen = written.setdefault(target, set())
    if digest in seen:
        return
    seen.add(digest)
    (folder / name).write_bytes(data)


class Conversation:
    """One client connection: its label, the bytes the client sent in
    order, and what the fake server answered."""

    def __init__(self, label):
        self.label = label
        self.sent = bytearray()
        self.command = None
        self.auth = False
        self.socks4 = False

    def recv_exact(self, conn, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"{self.label}: closed after {len(buf)} of {n} bytes")
            buf += chunk
        self.sent += buf
        return bytes(buf)

    def recv_until_nul(self, conn):
        buf = bytearray()
        while True:
            b = self.recv_exact(conn, 1)
            buf += b
            if b == b"\0":
                return bytes(buf)

    def recv_some(self, conn, wait=0.5):
        """What the client sends after the handshake (its HTTP request),
        until a blank line, its end, or a moment of silence."""
        conn.settimeout(wait)
        buf = bytearray()
        try:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except TimeoutError:
            pass
        conn.settimeout(LIMIT)
        self.sent += buf
        return bytes(buf)


def socks5_address(conv, conn):
    """Reads ATYP | ADDR | PORT; returns its bytes."""
    atyp = conv.recv_exact(conn, 1)
    if atyp == b"\x01":
        rest = conv.recv_exact(conn, 4 + 2)
    elif atyp == b"\x04":
        rest = conv.recv_exact(conn, 16 + 2)
    elif atyp == b"\x03":
        length = conv.recv_exact(conn, 1)
        rest = length + conv.recv_exact(conn, length[0] + 2)
    else:
        raise ValueError(f"{conv.label}: address type {atyp!r}")
    return atyp + rest


def socks5_reply(address):
    return b"\x05\x00\x00" + address


def ipv4_address(ip, port):
    return b"\x01" + ip + struct.pack(">H", port)


def serve_socks5(conv, conn, first):
    label = conv.label
    head = first + conv.recv_exact(conn, 1)
    greeting = head + conv.recv_exact(conn, head[1])
    save("socks5_greeting", label, greeting)
    methods = greeting[2:]
    chosen = 2 if 2 in methods else 0
    selection = bytes([5, chosen])
    conn.sendall(selection)
    save("socks5_method_selection", label, selection)
    replies = bytearray(selection)
    if chosen == 2:
        conv.auth = True
        head = conv.recv_exact(conn, 2)
        user = conv.recv_exact(conn, head[1])
        plen = conv.recv_exact(conn, 1)
        password = conv.recv_exact(conn, plen[0])
        save("userpass_credentials", label, head + user + plen + password)
        status = b"\x01\x00"
        conn.sendall(status)
        save("userpass_status", label, status)
        replies += status
    head = conv.recv_exact(conn, 3)
    address = socks5_address(conv, conn)
    save("socks5_request", label, head + address)
    save("target_addr", f"{label}-request", address)
    conv.command = head[1]
    if conv.command == 3:  # UDP ASSOCIATE
        relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        relay.bind(("127.0.0.1", 0))
        relay.settimeout(LIMIT)
        reply = socks5_reply(ipv4_address(bytes([127, 0, 0, 1]), relay.getsockname()[1]))
        conn.sendall(reply)
        save("socks5_reply", f"{label}-udp", reply)
        save("target_addr", f"{label}-udp-reply", reply[3:])
        replies += reply
        datagram, client = relay.recvfrom(65536)
        save("udp_header", label, datagram)
        answer = b"\x00\x00\x00" + ipv4_address(socket.inet_aton(TARGET_IP), 53) + b"answer"
        relay.sendto(answer, client)
        save("udp_header", f"{label}-reply", answer)
        # The association lasts as long as the TCP connection.
        conn.settimeout(LIMIT)
        while conn.recv(4096):
            pass
        relay.close()
    else:
        reply = socks5_reply(ipv4_address(*BOUND))
        conn.sendall(reply)
        save("socks5_reply", label, reply)
        save("target_addr", f"{label}-reply", reply[3:])
        replies += reply
        conv.recv_some(conn)
        conn.sendall(HTTP_ANSWER)
    save_hop_handshake(conv, bytes(replies))


def serve_socks4(conv, conn, first):
    label = conv.label
    conv.socks4 = True
    fixed = first + conv.recv_exact(conn, 7)
    request = fixed + conv.recv_until_nul(conn)
    if fixed[4:7] == b"\0\0\0" and fixed[7] != 0:
        request += conv.recv_until_nul(conn)
    save("socks4_request", label, request)
    conv.command = fixed[1]
    reply = b"\x00\x5a" + struct.pack(">H", BOUND[1]) + BOUND[0]
    conn.sendall(reply)
    save("socks4_reply", label, reply)
    conv.recv_some(conn)
    conn.sendall(HTTP_ANSWER)
    save_hop_handshake(conv, reply)


def save_hop_handshake(conv, replies):
    """The replies as a hop_handshake input: its mode byte names the hop's
    protocol (0 SOCKS5, 1 SOCKS4a), credentials (bits 2-3: 1 a password)
    and command (bits 4-7), then a target byte (2: a name), then the
    upstream's bytes, with a banner after them."""
    protocol = 1 if conv.socks4 else 0
    credentials = 1 if conv.auth else 0
    command = {1: 0, 2: 1, 3: 2}.get(conv.command, 0)
    mode = protocol | credentials << 2 | command << 4
    save("hop_handshake", conv.label, bytes([mode, 2]) + replies + b"SSH-2.0-banner\r\n")


def session_inputs(conv):
    """The conversation framed for the session target (selector, 2-byte
    length, client bytes, upstream bytes), once for each of its servers
    that would accept this client, with what that server's hop would
    answer: SOCKS5 without (servers 0 and 3) or with a password (1), or
    SOCKS4a (2)."""
    client = bytes(conv.sent)
    if conv.command == 3:
        reply5 = socks5_reply(ipv4_address(bytes([10, 0, 0, 2]), 5353))
        payload = b""
    else:
        reply5 = socks5_reply(ipv4_address(*BOUND))
        payload = HTTP_ANSWER
    upstream = {
        0: b"\x05\x00" + reply5 + payload,
        1: b"\x05\x02\x01\x00" + reply5 + payload,
        2: b"\x00\x5a" + struct.pack(">H", BOUND[1]) + BOUND[0] + payload,
        3: b"\x05\x00" + reply5 + payload,
    }
    if conv.socks4:
        servers = [0, 2, 3]
    elif conv.auth:
        servers = [1, 3]
    else:
        servers = [0, 2]
    for server in servers:
        framed = bytes([server]) + struct.pack(">H", len(client)) + client + upstream[server]
        save("session", f"{conv.label}-server{server}", framed)


class FakeServer:
    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.label = None
        self.conversations = []
        self.handlers = []
        self.errors = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.listener.accept()
            conv = Conversation(self.label)
            self.conversations.append(conv)
            handler = threading.Thread(target=self.serve, args=(conv, conn), daemon=True)
            self.handlers.append(handler)
            handler.start()

    def serve(self, conv, conn):
        conn.settimeout(LIMIT)
        try:
            first = conv.recv_exact(conn, 1)
            if first == b"\x05":
                serve_socks5(conv, conn, first)
            elif first == b"\x04":
                serve_socks4(conv, conn, first)
            else:
                raise ValueError(f"{conv.label}: first byte {first!r}")
        except (OSError, EOFError, ValueError) as e:
            self.errors.append(f"{conv.label}: {e}")
            print(f"capture: {conv.label}: {e!r}", file=sys.stderr)
        finally:
            conn.close()


def run_command(server, label, argv, stdin=b""):
    server.label = label
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20, check=False)


def run_pysocks(server, label, proxy_type, target, username=None, password=None, rdns=False):
    server.label = label
    s = socks.socksocket()
    s.settimeout(LIMIT)
    s.set_proxy(proxy_type, "127.0.0.1", server.port, rdns=rdns, username=username, password=password)
    s.connect(target)
    s.sendall(HTTP_REQUEST)
    while s.recv(4096):
        pass
    s.close()


def run_pysocks_udp(server, label):
    server.label = label
    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(LIMIT)
    s.set_proxy(socks.SOCKS5, "127.0.0.1", server.port)
    s.sendto(DNS_QUERY, (TARGET_IP, 53))
    s.recvfrom(4096)
    s.close()


def main():
    server = FakeServer()
    proxy = f"127.0.0.1:{server.port}"
    creds = f"{USER}:{PASSWORD}"
    ip_url, name_url = f"http://{TARGET_IP}/", f"http://{TARGET_NAME}/"
    curl = ["curl", "-s", "-m", "10"]
    runs = [
        ("curl-socks4", curl + ["--socks4", proxy, ip_url]),
        ("curl-socks4-user", curl + ["--socks4", proxy, "--proxy-user", creds, ip_url]),
        ("curl-socks4a", curl + ["--socks4a", proxy, name_url]),
        ("curl-socks5", curl + ["--socks5", proxy, ip_url]),
        ("curl-socks5-user", curl + ["--socks5", proxy, "--proxy-user", creds, ip_url]),
        ("curl-socks5-hostname", curl + ["--socks5-hostname", proxy, name_url]),
        ("curl-socks5-hostname-user", curl + ["--socks5-hostname", proxy, "--proxy-user", creds, name_url]),
    ]
    ncat = ["ncat", "--proxy", proxy, "-w", "10", "-i", "2"]
    for kind in ("socks4", "socks5"):
        runs.append((f"ncat-{kind}", ncat + ["--proxy-type", kind, TARGET_IP, str(PORT)]))
        runs.append((f"ncat-{kind}-auth", ncat + ["--proxy-type", kind, "--proxy-auth", creds, TARGET_IP, str(PORT)]))
    for label, argv in runs:
        run_command(server, label, argv, stdin=HTTP_REQUEST)
    run_pysocks(server, "pysocks-socks4", socks.SOCKS4, (TARGET_IP, PORT))
    run_pysocks(server, "pysocks-socks4-user", socks.SOCKS4, (TARGET_IP, PORT), username=USER)
    run_pysocks(server, "pysocks-socks4a", socks.SOCKS4, (TARGET_NAME, PORT), rdns=True)
    run_pysocks(server, "pysocks-socks5", socks.SOCKS5, (TARGET_IP, PORT))
    run_pysocks(server, "pysocks-socks5-user", socks.SOCKS5, (TARGET_NAME, PORT), USER, PASSWORD, rdns=True)
    run_pysocks(server, "pysocks-socks5-ipv6", socks.SOCKS5, ("2001:db8::10", PORT))
    run_pysocks_udp(server, "pysocks-udp")
    # The last handler may still be writing its files.
    for handler in server.handlers:
        handler.join(LIMIT)
    for conv in server.conversations:
        if conv.command is not None:
            session_inputs(conv)
    labels = {c.label for c in server.conversations if c.command is not None}
    expected = {label for label, _ in runs} | {
        "pysocks-socks4",
        "pysocks-socks4-user",
        "pysocks-socks4a",
        "pysocks-socks5",
        "pysocks-socks5-user",
        "pysocks-socks5-ipv6",
        "pysocks-udp",
    }
    for error in server.errors:
        print(f"capture: {error}", file=sys.stderr)
    missing = sorted(expected - labels)
    if missing:
        print(f"capture: no whole request from {', '.join(missing)}", file=sys.stderr)
        return 1
    for target in sorted(written):
        print(f"{target}: {len(os.listdir(CORPUS / target))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
