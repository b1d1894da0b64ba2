"""A host of the tests' own with a real firewall: ufw or firewalld, run
without touching this machine's firewall or configuration.

`FirewallHost` holds a new network namespace and a private mount namespace
(`unshare --net --mount`, kept alive by a sleeping process that every
command joins with `nsenter`). In the mount namespace, temporary copies
are bind-mounted over /etc/ufw, /etc/default/ufw and /etc/firewalld (and
/var/lib/ufw where it exists), and /run is a fresh tmpfs, so what ufw and
firewalld write stays in the copies and what they apply stays in the
namespace's own netfilter tables. firewalld gets a system D-Bus of its own:
a dbus-daemon with the system bus configuration, whose socket is in the
private /run/dbus.

A veth pair joins the host to a client namespace (`ip netns`): the host
holds HOST4/24 and HOST6/64 on its end, the client CLIENT4 and CLIENT6, so
a connection from the client crosses the host's firewall as a phone's
would. Needs root, iproute2, util-linux's unshare and nsenter.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from support import clean_env

HOST4, CLIENT4, NET4 = "10.217.0.1", "10.217.0.2", "10.217.0.0/24"
HOST6, CLIENT6, NET6 = "fd57:b0c5::1", "fd57:b0c5::2", "fd57:b0c5::/64"
WAIT = 30.0

# What the copies are made of, and where they go.
COPIED = {
    "/etc/ufw": "ufw",
    "/etc/default/ufw": "default-ufw",
    "/etc/firewalld": "firewalld",
    "/var/lib/ufw": "var-lib-ufw",
}

# Connects from the client namespace, then greets as a SOCKS5 client
# without authentication: prints "socks5 <reply hex>" when the proxy
# answered, "failed <error>" when the connection did not open.
PROBE = r"""
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((host, port), timeout=float(sys.argv[3]))
except OSError as e:
    print("failed", type(e).__name__, e)
    sys.exit()
s.settimeout(5)
s.sendall(b"\x05\x01\x00")
print("socks5", s.recv(2).hex())
"""


def host_state() -> dict:
    """What must not change on this machine: its netfilter rules (as nft
    and iptables list them) and the firewalls' configuration files."""
    state = {}
    for cmd in (["nft", "list", "ruleset"], ["iptables", "-S"], ["ip6tables", "-S"]):
        if shutil.which(cmd[0]):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            state[" ".join(cmd)] = (done.returncode, done.stdout)
    for path in COPIED:
        digest = hashlib.sha256()
        root = Path(path)
        files = sorted(root.rglob("*")) if root.is_dir() else [root] if root.exists() else []
        for f in files:
            if f.is_file():
                digest.update(str(f).encode() + b"\0" + f.read_bytes())
        state[path] = digest.hexdigest()
    return state


class FirewallHost:
    def __init__(self, workdir: Path):
        tag = str(os.getpid() % 100000)
        self.workdir = Path(tempfile.mkdtemp(prefix="socksbox-fw-", dir=workdir))
        self.client_ns = f"sbxfc{tag}"
        self.veth_host, self.veth_client = f"sbxfa{tag}", f"sbxfb{tag}"
        self.daemons: list[subprocess.Popen] = []
        self.holder: subprocess.Popen | None = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # -- the namespaces ----------------------------------------------------
    def _start(self) -> None:
        mounts = []
        for source, name in COPIED.items():
            if not os.path.exists(source):
                continue
            copy = self.workdir / name
            if os.path.isdir(source):
                shutil.copytree(source, copy, symlinks=True)
            else:
                shutil.copy2(source, copy)
            mounts.append(f"mount --bind {copy} {source}")
        default_ufw = self.workdir / "default-ufw"
        if default_ufw.exists():
            # ufw applies these kernel settings when it starts; the
            # namespace's own would be harmless, but nothing is needed.
            text = default_ufw.read_text()
            lines = ["IPT_SYSCTL=" if line.startswith("IPT_SYSCTL=") else line for line in text.splitlines()]
            default_ufw.write_text("\n".join(lines) + "\n")
        script = " && ".join([*mounts, "mount -t tmpfs -o mode=0755 tmpfs /run", "ip link set lo up", "echo ready"])
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", f"{script} && exec sleep infinity"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.holder.stdout.readline().strip()
        if line != "ready":
            self.holder.wait(timeout=10)
            raise RuntimeError(f"the namespace holder did not start: {line!r} {self.holder.stderr.read()}")
        pid = str(self.holder.pid)
        self._sh("ip", "netns", "add", self.client_ns)
        self._sh("ip", "link", "add", self.veth_host, "type", "veth", "peer", "name", self.veth_client)
        self._sh("ip", "link", "set", self.veth_host, "netns", pid)
        self._sh("ip", "link", "set", self.veth_client, "netns", self.client_ns)
        for ip, dev in ((self.run, self.veth_host), (self.in_client, self.veth_client)):
            v4, v6 = (HOST4, HOST6) if dev == self.veth_host else (CLIENT4, CLIENT6)
            for args in (
                ("ip", "addr", "add", f"{v4}/24", "dev", dev),
                ("ip", "-6", "addr", "add", f"{v6}/64", "dev", dev, "nodad"),
                ("ip", "link", "set", dev, "up"),
                ("ip", "link", "set", "lo", "up"),
            ):
                done = ip(*args)
                if done.returncode != 0:
                    raise RuntimeError(f"{args}: {done.stderr}")

    def _sh(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=20)

    def command(self, *args: str) -> list[str]:
        """`args` as run inside the host's namespaces."""
        assert self.holder is not None
        return ["nsenter", "-t", str(self.holder.pid), "-n", "-m", "--", *args]

    def run(self, *args: str, timeout: float = 30.0, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout, env=env or clean_env()
        )

    def in_client(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ip", "netns", "exec", self.client_ns, *args], capture_output=True, text=True, timeout=timeout
        )

    def spawn(self, *args: str, **kwargs) -> subprocess.Popen:
        """A long-running process inside the host's namespaces (nsenter
        execs it: the Popen's pid is the process's own)."""
        proc = subprocess.Popen(self.command(*args), stdin=subprocess.DEVNULL, env=clean_env(), **kwargs)
        self.daemons.append(proc)
        return proc

    def probe(self, host: str, port: int, timeout: float = 2.0) -> str:
        """What a client on the other side of the veth gets: "socks5 0500"
        when the proxy answered its greeting, "failed ..." otherwise."""
        done = self.in_client("python3", "-c", PROBE, host, str(port), str(timeout), timeout=timeout + 20)
        assert done.returncode == 0, f"the probe failed: {done.stderr}"
        return done.stdout.strip()

    # -- the firewalls -----------------------------------------------------
    def enable_ufw(self) -> None:
        done = self.run("ufw", "--force", "enable")
        assert done.returncode == 0, f"ufw enable in the sandbox: {done.stdout} {done.stderr}"

    def start_firewalld(self) -> None:
        bus = self.spawn(
            "sh",
            "-c",
            "mkdir -p /run/dbus && exec dbus-daemon --system --nofork --nopidfile --print-address",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        address = bus.stdout.readline().strip()
        if not address.startswith("unix:"):
            raise RuntimeError(f"the sandbox's system bus did not start: {address!r} {bus.stderr.read()}")
        log = self.workdir / "firewalld.log"
        self.firewalld_output = open(self.workdir / "firewalld.out", "wb")  # noqa: SIM115 (closed in close())
        self.spawn(
            "firewalld",
            "--nofork",
            "--nopid",
            "--log-target",
            "file",
            "--log-file",
            str(log),
            stdout=self.firewalld_output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + WAIT
        state = None
        while time.monotonic() < deadline:
            state = self.run("firewall-cmd", "--state")
            if state.stdout.strip() == "running":
                return
            time.sleep(0.2)
        text = log.read_text() if log.exists() else ""
        raise RuntimeError(f"firewalld did not start within {WAIT}s: {state.stdout if state else ''}\n{text[-3000:]}")

    def close(self) -> None:
        for proc in reversed(self.daemons):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if getattr(self, "firewalld_output", None):
            self.firewalld_output.close()
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait(timeout=5)
        subprocess.run(["ip", "netns", "del", self.client_ns], capture_output=True, timeout=20)
        with contextlib.suppress(OSError):
            shutil.rmtree(self.workdir)
