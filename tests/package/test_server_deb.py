"""The installed socksbox-server package (scripts/package, then
`apt-get install ./target/packages/socksbox-server_*.deb`): run by .ci/run
on its fresh machine, as root, after the package is installed.

The unit is checked with systemd-analyze; the service's own command runs as
the service's user with the installed configuration; where systemd runs
(PID 1), the service is started, used, reloaded and stopped for real.
"""

from __future__ import annotations

import grp
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

UNIT = Path("/lib/systemd/system/socksbox-server.service")
CONFIG = Path("/etc/socksbox/server.toml")
BINARY = Path("/usr/bin/socksbox-server")

pytestmark = pytest.mark.skipif(not BINARY.exists(), reason="the socksbox-server package is not installed")


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, **kw)


def pac_through_the_proxy() -> subprocess.CompletedProcess:
    """curl fetches the server's own PAC file through its SOCKS5 side:
    stdout is the HTTP status."""
    return run(
        "curl",
        "-sS",
        "--max-time",
        "10",
        "--socks5-hostname",
        "127.0.0.1:1080",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://localhost:1080/proxy.pac",
    )


def journal() -> str:
    return run("journalctl", "-u", "socksbox-server", "--no-pager", "-n", "50").stdout


def test_the_package_installs_its_user_unit_and_a_private_configuration():
    user = pwd.getpwnam("socksbox")
    assert user.pw_uid < 1000 and user.pw_shell.endswith("nologin"), "not a system user"
    info = CONFIG.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert (info.st_uid, info.st_gid) == (0, grp.getgrnam("socksbox").gr_gid)
    out = run("systemd-analyze", "verify", str(UNIT))
    assert out.returncode == 0, out.stderr
    unit = UNIT.read_text()
    for line in (
        "User=socksbox",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=socksbox",
        "CapabilityBoundingSet=",
    ):
        assert line in unit, line
    version = run(str(BINARY), "--version")
    assert re.fullmatch(r"socksbox-server \d+\.\d+\.\d+\n", version.stdout), version


def test_the_services_command_runs_as_its_user(tmp_path):
    """ExecStartPre and ExecStart as the unit has them, as the socksbox
    user: the installed configuration is readable by the group, the state
    directory writable, and the server serves on 127.0.0.1:1080."""
    state = Path("/var/lib/socksbox")
    state.mkdir(mode=0o700, exist_ok=True)
    shutil.chown(state, "socksbox", "socksbox")
    as_service = {"user": "socksbox", "group": "socksbox", "extra_groups": []}
    check = run(str(BINARY), "--check-config", str(CONFIG), "--state-dir", str(state), **as_service)
    assert check.returncode == 0, check.stderr
    assert "valid; listens on 127.0.0.1:1080" in check.stdout
    server = subprocess.Popen(
        [str(BINARY), "--config", str(CONFIG), "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **as_service,
    )
    try:
        assert server.stdout.readline().strip() == "listening on 127.0.0.1:1080"
        fetched = pac_through_the_proxy()
        assert fetched.stdout == "200", fetched
    finally:
        server.terminate()
        assert server.wait(10) == 0, server.stderr.read()


@pytest.mark.skipif(not Path("/run/systemd/system").is_dir(), reason="systemd is not this machine's init")
def test_systemd_starts_reloads_and_stops_the_service(tmp_path):
    original = CONFIG.read_text()
    try:
        assert run("systemctl", "restart", "socksbox-server").returncode == 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", 1080), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(journal())
        ok = pac_through_the_proxy()
        assert ok.stdout == "200", ok
        CONFIG.write_text(original + '\n[[auth.users]]\nname = "ci"\npassword = "ci-password"\n')
        assert run("systemctl", "reload", "socksbox-server").returncode == 0
        deadline = time.monotonic() + 10
        while "configuration applied" not in journal():
            assert time.monotonic() < deadline, journal()
            time.sleep(0.2)
        refused = run(
            "curl", "-sS", "--max-time", "10", "--socks5-hostname", "127.0.0.1:1080", "http://localhost:1080/"
        )
        assert refused.returncode != 0, "a password became required, but curl got through without one"
    finally:
        CONFIG.write_text(original)
        run("systemctl", "stop", "socksbox-server")
