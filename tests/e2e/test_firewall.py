"""`socksbox-server --check-firewall` against the real ufw and firewalld.

Each test builds a host of its own (fwsandbox.FirewallHost: a network
namespace and a private mount namespace with copies of the firewalls'
configuration) and a client joined to it by a veth pair, turns the
firewall on there with the proxy's port closed, and checks that:
the check says it blocks and prints the fix; a client on the other side
of the veth cannot reach the proxy; the printed fix, run as printed,
opens the port; the check then says it admits; and the client reaches the
proxy. This machine's own rules and configuration files are compared
before and after. Needs root (namespaces, firewalls), ufw, firewalld and
dbus-daemon; elsewhere the tests are skipped (and fail with
SOCKSBOX_REQUIRE_ALL=1, as under scripts/test).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess

import pytest

from fwsandbox import HOST4, HOST6, NET4, NET6, FirewallHost, host_state
from support import require, server_binary, wait_log

PORT = 1080
LISTEN = (f"{HOST4}:{PORT}", f"[{HOST6}]:{PORT}")
ADDRS = ((HOST4, f"{HOST4}:{PORT}"), (HOST6, f"[{HOST6}]:{PORT}"))
BLOCKS, UNKNOWN = 1, 3


def require_sandbox(*tools: str) -> None:
    require(os.geteuid() == 0, "the firewall tests make namespaces and run firewalls, which needs root")
    missing = [t for t in ("unshare", "nsenter", "ip", "setpriv", *tools) if shutil.which(t) is None]
    require(not missing, f"the firewall tests need {', '.join(missing)} (scripts/bootstrap installs them)")


@pytest.fixture
def sandbox(tmp_path):
    """A FirewallHost; this machine's rules and firewall files must be the
    same after it as before."""
    before = host_state()
    host = FirewallHost(tmp_path)
    try:
        yield host
    finally:
        host.close()
    after = host_state()
    changed = [key for key in before if before[key] != after.get(key)]
    assert not changed, f"the firewall sandbox changed this machine's {changed}"


@pytest.fixture
def sudo_shim(tmp_path):
    """A PATH whose `sudo` runs its command as it is (the tests are root
    already; a real sudo may be missing or ask for a password)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    sudo = shim / "sudo"
    sudo.write_text('#!/bin/sh\nexec "$@"\n')
    sudo.chmod(sudo.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"{shim}:{os.environ.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin"


def check(host: FirewallHost, *args: str, user: str | None = None) -> subprocess.CompletedProcess:
    cmd = [str(server_binary()), "--check-firewall", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return host.run(*cmd, timeout=60)


def listed_check(host: FirewallHost) -> subprocess.CompletedProcess:
    args = [a for listen in LISTEN for a in ("--listen", listen)]
    return check(host, *args)


def report_of(output: str, addr: str) -> str:
    """The report of one listener: its line and the indented ones after it."""
    m = re.search(rf"^{re.escape(addr)}: .*(?:\n  .*)*", output, re.M)
    assert m, f"no report for {addr} in:\n{output}"
    return m.group(0)


def fix_of(report: str) -> str:
    m = re.search(r"^  fix: (.+)$", report, re.M)
    assert m, f"no fix in the report:\n{report}"
    return m.group(1)


def apply_fix(host: FirewallHost, line: str, path: str) -> None:
    """Runs the printed fix as a person would paste it into a shell."""
    env = {**os.environ, "PATH": path}
    done = host.run("sh", "-c", line, env=env, timeout=60)
    assert done.returncode == 0, f"the printed fix {line!r} failed: {done.stdout} {done.stderr}"


def start_proxy(host: FirewallHost, tmp_path):
    """The proxy in the host's namespaces on both veth addresses, serving
    the client's networks."""
    stderr = open(tmp_path / "proxy.err", "wb")  # noqa: SIM115 (the process keeps it)
    cmd = [str(server_binary()), "--allow", NET4, "--allow", NET6, "--log-level", "info"]
    for listen in LISTEN:
        cmd += ["--listen", listen]
    proc = host.spawn(*cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    stderr.close()
    lines = [proc.stdout.readline().strip() for _ in LISTEN]
    assert all(line.startswith("listening on") for line in lines), f"the proxy did not start: {lines}"

    class Log:
        def stderr_text(self, tail: int = 60000) -> str:
            return (tmp_path / "proxy.err").read_text(errors="replace")[-tail:]

    return proc, Log()


def assert_blocked(host: FirewallHost, what: str) -> dict[str, str]:
    """The check says each listener is blocked, with a fix; the client's
    connections fail. Returns the fix per address."""
    done = listed_check(host)
    assert done.returncode == BLOCKS, f"{what}: --check-firewall exit {done.returncode}, not {BLOCKS}:\n{done.stdout}"
    fixes = {}
    for host_addr, addr in ADDRS:
        report = report_of(done.stdout, addr)
        assert " blocks TCP port 1080 over " in report, f"{what}: {report}"
        fixes[host_addr] = fix_of(report)
        got = host.probe(host_addr, PORT)
        assert got.startswith("failed"), f"{what}: a client reached {addr} through the closed firewall: {got}"
    return fixes


def assert_admitted(host: FirewallHost, what: str) -> None:
    done = listed_check(host)
    assert done.returncode == 0, f"{what}: --check-firewall exit {done.returncode}, not 0:\n{done.stdout}"
    for host_addr, addr in ADDRS:
        report = report_of(done.stdout, addr)
        assert " admits TCP port 1080 over " in report, f"{what}: {report}"
        got = host.probe(host_addr, PORT)
        assert got == "socks5 0500", f"{what}: a client could not reach the proxy on {addr} after the fix: {got}"


# Each firewall command takes a few hundred milliseconds (firewall-cmd is a
# Python program), and each check runs several.
@pytest.mark.timeout(150)
def test_ufw_blocks_then_its_printed_fix_opens_the_port(sandbox, sudo_shim, tmp_path):
    require_sandbox("ufw")
    sandbox.enable_ufw()
    proxy, log = start_proxy(sandbox, tmp_path)
    # At start, one warning line per blocked listener, with the fix.
    line = wait_log(log, rf"{re.escape(HOST4)}:{PORT}: ufw blocks TCP port {PORT} .*", "the start-up firewall warning")
    assert f"fix: sudo ufw allow from {NET4} to any port {PORT} proto tcp" in line, line

    fixes = assert_blocked(sandbox, "ufw on, port closed")
    assert fixes[HOST4] == f"sudo ufw allow from {NET4} to any port {PORT} proto tcp", fixes
    assert fixes[HOST6] == f"sudo ufw allow from {NET6} to any port {PORT} proto tcp", fixes
    # A listener on every address: the fix is for the port, from anywhere.
    done = check(sandbox, "1081")
    assert done.returncode == BLOCKS, done.stdout
    assert fix_of(report_of(done.stdout, "0.0.0.0:1081")) == "sudo ufw allow 1081/tcp", done.stdout

    for fix in fixes.values():
        apply_fix(sandbox, fix, sudo_shim)
    assert_admitted(sandbox, "ufw after the printed fixes")
    rules = sandbox.run("ufw", "status", "verbose").stdout
    assert f"{PORT}/tcp" in rules and NET4 in rules, rules
    proxy.terminate()
    proxy.wait(timeout=10)


def test_ufw_without_root_names_the_command_to_run(sandbox):
    require_sandbox("ufw")
    sandbox.enable_ufw()
    done = check(sandbox, "--listen", f"{HOST4}:{PORT}", user="65534")
    assert done.returncode == UNKNOWN, f"exit {done.returncode}, not {UNKNOWN}:\n{done.stdout}{done.stderr}"
    report = report_of(done.stdout, f"{HOST4}:{PORT}")
    assert "cannot tell whether ufw admits" in report and "`sudo ufw status verbose`" in report, report
    # ufw off: its configuration file (readable by anyone) says so.
    assert sandbox.run("ufw", "--force", "disable").returncode == 0
    done = check(sandbox, "--listen", f"{HOST4}:{PORT}", user="65534")
    report = report_of(done.stdout, f"{HOST4}:{PORT}")
    assert "ENABLED=no" in report, report


@pytest.mark.timeout(240)
def test_firewalld_blocks_then_its_printed_fix_opens_the_port(sandbox, sudo_shim, tmp_path):
    require_sandbox("firewalld", "firewall-cmd", "dbus-daemon")
    sandbox.start_firewalld()
    proxy, log = start_proxy(sandbox, tmp_path)
    line = wait_log(
        log, rf"{re.escape(HOST4)}:{PORT}: firewalld blocks TCP port {PORT} .*", "the start-up firewall warning", 30
    )
    assert "zone public" in line and "--add-rich-rule=" in line, line

    fixes = assert_blocked(sandbox, "firewalld running, port closed")
    rich = f'rule family="ipv4" source address="{NET4}" port port="{PORT}" protocol="tcp" accept'
    assert fixes[HOST4] == (
        f"sudo firewall-cmd --zone=public '--add-rich-rule={rich}' && "
        f"sudo firewall-cmd --permanent --zone=public '--add-rich-rule={rich}'"
    ), fixes
    # Without root or a polkit agent, firewalld refuses to answer: the
    # report names what to run instead.
    done = check(sandbox, "--listen", f"{HOST4}:{PORT}", user="65534")
    assert done.returncode == UNKNOWN, done.stdout
    assert "sudo firewall-cmd --list-all" in done.stdout, done.stdout

    for fix in fixes.values():
        apply_fix(sandbox, fix, sudo_shim)
    assert_admitted(sandbox, "firewalld after the printed fixes")
    permanent = sandbox.run("firewall-cmd", "--permanent", "--zone=public", "--list-rich-rules").stdout
    assert NET4 in permanent and NET6 in permanent, f"the fix did not reach the permanent configuration: {permanent}"
    # The port for everyone, as --check-firewall PORT proposes it.
    done = check(sandbox, "1081")
    assert done.returncode == BLOCKS, done.stdout
    fix = fix_of(report_of(done.stdout, "0.0.0.0:1081"))
    assert fix == (
        "sudo firewall-cmd --zone=public --add-port=1081/tcp && "
        "sudo firewall-cmd --permanent --zone=public --add-port=1081/tcp"
    ), fix
    apply_fix(sandbox, fix, sudo_shim)
    done = check(sandbox, "1081")
    assert done.returncode == 0 and "port 1081/tcp in zone public" in done.stdout, done.stdout
    proxy.terminate()
    proxy.wait(timeout=10)
