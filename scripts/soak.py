"""The soak behind scripts/soak: one server, many kinds of client at once.

Workers, each a thread, run until the time is up (every loop also has a
count bound):
- short CONNECTs: a random payload of 1 B to 64 KiB echoed back, checked;
- long CONNECTs: sessions of 5 to 20 s streaming chunks both ways, checked;
- BINDs: the server listens, a peer connects, data both ways, checked;
- UDP associations: bursts of datagrams through the relay, each checked;
- wrong passwords, from their own address (127.0.0.66), which the login
  throttle slows down and then blocks;
- garbage: random bytes, then a close;
- abrupt disconnects: a CONNECT reset (RST) in the middle of a transfer.

Before and after (once the workers have stopped and the server has had a
few seconds to wind down) it reads the server's descriptors (/proc), its
resident memory, and its own count of sessions and tasks (SIGUSR1 makes it
log a `load` line). It prints the figures and exits 1 when a transfer was
damaged, an unexpected error happened, or something was left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import rawsocks as rs  # noqa: E402

USER, PASSWORD = "soak", "soak-password-1"
LOAD_RE = re.compile(r"load (?P<fields>.*)$")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.bytes = 0
        self.damaged: list[str] = []
        self.errors: list[str] = []

    def add(self, key: str, n: int = 1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def moved(self, n: int):
        with self.lock:
            self.bytes += n

    def damage(self, what: str):
        with self.lock:
            self.damaged.append(what)

    def error(self, what: str):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(what)
            self.counts["errors"] = self.counts.get("errors", 0) + 1


class Echo:
    """TCP and UDP echo servers on 127.0.0.1."""

    def __init__(self):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(512)
        self.tcp.settimeout(0.5)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.5)
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._udp, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _serve(conn):
        with conn:
            conn.settimeout(60)
            with contextlib.suppress(OSError):
                while data := conn.recv(65536):
                    conn.sendall(data)

    def _udp(self):
        while not self.stop.is_set():
            try:
                data, src = self.udp.recvfrom(65535)
            except OSError:
                continue
            with contextlib.suppress(OSError):
                self.udp.sendto(data, src)


def read_exact(sock, n, timeout=30):
    return rs.recv_exact(sock, n, timeout=timeout)


def short_connects(proxy, echo, stats, until):
    rng = random.Random()
    for _ in range(1_000_000):
        if time.monotonic() > until:
            return
        payload = rng.randbytes(rng.randint(1, 64 * 1024))
        try:
            sock, reply = rs.connect5(proxy, "127.0.0.1", echo.tcp.getsockname()[1], auth=(USER, PASSWORD))
            with sock:
                if reply.rep != 0:
                    stats.error(f"short CONNECT refused: {reply}")
                    continue
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
                got = rs.recv_all_until_eof(sock, timeout=30)
            if got != payload:
                stats.damage(f"short CONNECT: sent {len(payload)} B, got {len(got)} B back")
            stats.add("short connects")
            stats.moved(2 * len(payload))
        except OSError as e:
            stats.error(f"short CONNECT: {e!r}")


def long_connects(proxy, echo, stats, until):
    rng = random.Random()
    for _ in range(100_000):
        if time.monotonic() > until:
            return
        lasts = time.monotonic() + rng.uniform(5, 20)
        try:
            sock, reply = rs.connect5(proxy, "127.0.0.1", echo.tcp.getsockname()[1], auth=(USER, PASSWORD))
            with sock:
                if reply.rep != 0:
                    stats.error(f"long CONNECT refused: {reply}")
                    continue
                sent = hashlib.sha256()
                received = hashlib.sha256()
                total = 0
                while time.monotonic() < min(lasts, until + 30):
                    chunk = rng.randbytes(rng.randint(1024, 256 * 1024))
                    sock.sendall(chunk)
                    sent.update(chunk)
                    received.update(read_exact(sock, len(chunk)))
                    total += len(chunk)
                    time.sleep(rng.uniform(0, 0.2))
                if sent.digest() != received.digest():
                    stats.damage(f"long CONNECT: {total} B did not come back as sent")
            stats.add("long connects")
            stats.moved(2 * total)
        except OSError as e:
            stats.error(f"long CONNECT: {e!r}")


def binds(proxy, stats, until):
    rng = random.Random()
    for _ in range(100_000):
        if time.monotonic() > until:
            return
        try:
            client = rs.open5(proxy, auth=(USER, PASSWORD))
            with client:
                client.sendall(rs.request5(rs.CMD_BIND, "127.0.0.1", 0))
                first = rs.read_reply5(client)
                if first.rep != 0:
                    stats.error(f"BIND refused: {first}")
                    continue
                peer = rs.tcp_connect((first.host, first.port))
                with peer:
                    second = rs.read_reply5(client)
                    if second.rep != 0:
                        stats.error(f"second BIND reply: {second}")
                        continue
                    data = rng.randbytes(rng.randint(1, 32 * 1024))
                    client.sendall(data)
                    if read_exact(peer, len(data)) != data:
                        stats.damage("BIND: client to peer")
                    peer.sendall(data[::-1])
                    if read_exact(client, len(data)) != data[::-1]:
                        stats.damage("BIND: peer to client")
            stats.add("binds")
            stats.moved(2 * len(data))
        except OSError as e:
            stats.error(f"BIND: {e!r}")


def udp(proxy, echo, stats, until):
    rng = random.Random()
    for _ in range(100_000):
        if time.monotonic() > until:
            return
        try:
            control = rs.open5(proxy, auth=(USER, PASSWORD))
            with control:
                client = rs.udp_socket("127.0.0.1")
                with client:
                    control.sendall(rs.request5(rs.CMD_UDP, "127.0.0.1", client.getsockname()[1]))
                    reply = rs.read_reply5(control)
                    if reply.rep != 0:
                        stats.error(f"UDP ASSOCIATE refused: {reply}")
                        continue
                    lost = 0
                    for n in range(rng.randint(10, 200)):
                        payload = struct.pack("!I", n) + rng.randbytes(rng.randint(0, 1400))
                        wrapped = rs.udp_wrap("127.0.0.1", echo.udp.getsockname()[1], payload)
                        client.sendto(wrapped, (reply.host, reply.port))
                        data, _ = rs.udp_recv(client, 2)
                        if data is None:
                            lost += 1
                            continue
                        if rs.udp_unwrap(data).data != payload:
                            stats.damage(f"UDP datagram {n} came back changed")
                        stats.moved(2 * len(payload))
                    stats.add("udp associations")
                    stats.add("udp datagrams lost", lost)
        except OSError as e:
            stats.error(f"UDP: {e!r}")


def wrong_passwords(proxy, stats, until):
    for n in range(100_000):
        if time.monotonic() > until:
            return
        try:
            sock = rs.tcp_connect(proxy, source="127.0.0.66", timeout=15)
            with sock:
                rs.negotiate5(sock, (rs.M_USERPASS,), timeout=15)
                _, status = rs.userpass5(sock, USER, f"wrong-{n}", timeout=15)
                if status == 0:
                    stats.damage("a wrong password was accepted")
            stats.add("wrong passwords")
        except OSError as e:
            stats.error(f"wrong password: {e!r}")


def garbage(proxy, stats, until):
    rng = random.Random()
    for _ in range(1_000_000):
        if time.monotonic() > until:
            return
        try:
            sock = rs.tcp_connect(proxy, timeout=5)
            with sock:
                rs.send_quietly(sock, rng.randbytes(rng.randint(1, 600)))
                if rng.random() < 0.5:
                    rs.wait_closed(sock, 0.2)
            stats.add("garbage connections")
        except OSError:
            stats.add("garbage connections")
        time.sleep(0.01)


def abrupt(proxy, echo, stats, until):
    rng = random.Random()
    for _ in range(1_000_000):
        if time.monotonic() > until:
            return
        try:
            sock, reply = rs.connect5(proxy, "127.0.0.1", echo.tcp.getsockname()[1], auth=(USER, PASSWORD))
            if reply.rep == 0:
                sock.sendall(rng.randbytes(rng.randint(1, 256 * 1024)))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            stats.add("abrupt disconnects")
        except OSError as e:
            stats.error(f"abrupt: {e!r}")
        time.sleep(0.02)


class Server:
    def __init__(self, binary: str, workdir: Path):
        config = workdir / "soak.toml"
        config.write_text(
            f'[auth]\nrequired = true\nusers = [{{ name = "{USER}", password = "{PASSWORD}" }}]\n'
            '[auth.throttle]\ndelay = "100ms"\nmax_delay = "1s"\n'
            "[limits]\nmax_sessions = 8192\n"
        )
        self.log_path = workdir / "server.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--config", str(config), "--log-level", "info"],
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            raise SystemExit(f"the server did not start: {line!r}")
        self.addr = ("127.0.0.1", int(line.rsplit(":", 1)[1]))

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def load(self) -> dict[str, int]:
        before = self.log_path.read_text(errors="replace").count(" load ")
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if " load " in line]
            if len(lines) > before:
                fields = dict(re.findall(r"(\w+)=(\d+)", lines[-1]))
                return {k: int(v) for k, v in fields.items()}
            time.sleep(0.05)
        raise SystemExit("the server did not report its load")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    minutes = max(0.2, min(args.minutes, 60.0))
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    workdir = Path(tempfile.mkdtemp(prefix="socksbox-soak-"))
    echo = Echo()
    server = Server(args.server, workdir)
    stats = Stats()
    time.sleep(0.5)
    start = {"fds": server.fds(), "rss": server.rss_kib(), **server.load()}
    until = time.monotonic() + minutes * 60
    proxy = server.addr
    workers = (
        [threading.Thread(target=short_connects, args=(proxy, echo, stats, until)) for _ in range(8)]
        + [threading.Thread(target=long_connects, args=(proxy, echo, stats, until)) for _ in range(4)]
        + [threading.Thread(target=binds, args=(proxy, stats, until)) for _ in range(2)]
        + [threading.Thread(target=udp, args=(proxy, echo, stats, until)) for _ in range(2)]
        + [threading.Thread(target=wrong_passwords, args=(proxy, stats, until))]
        + [threading.Thread(target=garbage, args=(proxy, stats, until)) for _ in range(2)]
        + [threading.Thread(target=abrupt, args=(proxy, echo, stats, until))]
    )
    peak = {"fds": 0, "rss": 0, "sessions": 0}
    print(f"soak: {minutes:g} minutes, {len(workers)} workers, server at {proxy[0]}:{proxy[1]}", flush=True)
    for w in workers:
        w.daemon = True
        w.start()
    while any(w.is_alive() for w in workers):
        time.sleep(1)
        peak["fds"] = max(peak["fds"], server.fds())
        peak["rss"] = max(peak["rss"], server.rss_kib())
        if time.monotonic() > until + 120:
            stats.error("workers did not stop within two minutes of the end")
            break
    time.sleep(5)  # idle timeouts of closed sessions, lingering refusals
    end_load = server.load()
    end = {"fds": server.fds(), "rss": server.rss_kib(), **end_load}
    server.stop()
    echo.stop.set()

    print(f"sessions served: {end_load.get('served', 0):,}; bytes moved: {stats.bytes:,}")
    for key in sorted(stats.counts):
        print(f"  {key}: {stats.counts[key]:,}")
    print(f"server: descriptors {start['fds']} -> peak {peak['fds']} -> {end['fds']}")
    mib = {
        key: f"{value / 1024:.1f} MiB"
        for key, value in (("start", start["rss"]), ("peak", peak["rss"]), ("end", end["rss"]))
    }
    print(f"server: memory {mib['start']} -> peak {mib['peak']} -> {mib['end']}")
    print(
        f"server: tasks {start['tasks']} -> {end['tasks']}; sessions {end['sessions']}, "
        f"handshakes {end['handshakes']}, UDP {end['udp']}, BIND {end['bind']}; "
        f"blocked clients {end['blocked']}; failed logins {end['auth_failures']:,}"
    )
    problems = []
    if stats.damaged:
        problems.append(f"{len(stats.damaged)} transfers damaged: {stats.damaged[:5]}")
    if stats.errors:
        problems.append(f"{stats.counts.get('errors', 0)} errors, first: {stats.errors[:5]}")
    if end["fds"] > start["fds"]:
        problems.append(f"descriptors left behind: {start['fds']} -> {end['fds']}")
    if end["tasks"] > start["tasks"]:
        problems.append(f"tasks left behind: {start['tasks']} -> {end['tasks']}")
    if end["sessions"] or end["handshakes"] or end["udp"] or end["bind"]:
        problems.append(f"the server still holds something: {end_load}")
    # The allocator keeps some of what the peak took; it must not grow on.
    if end["rss"] > start["rss"] + max(16 * 1024, (peak["rss"] - start["rss"]) // 2):
        problems.append(f"memory did not come back: {start['rss']} -> {end['rss']} KiB (peak {peak['rss']})")
    if stats.counts.get("wrong passwords", 0) and not end["blocked"]:
        problems.append("the client guessing passwords was never blocked")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("soak: ok" if not problems else "soak: FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
