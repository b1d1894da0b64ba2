"""The installed desktop app package (scripts/package, then
`apt-get install ./target/packages/socksbox_*.deb`): run by .ci/run on its
fresh machine after the package is installed. What is installed where;
.ci/run then drives the installed binary through its window and tray
(tests/app with SOCKSBOX_APP=/usr/bin/socksbox).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

BINARY = Path("/usr/bin/socksbox")
ENTRY = Path("/usr/share/applications/socksbox.desktop")
ICONS = Path("/usr/share/icons/hicolor")

pytestmark = pytest.mark.skipif(not BINARY.exists(), reason="the socksbox package is not installed")


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


def test_the_package_is_installed_with_its_files():
    status = run("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", "socksbox")
    assert status.returncode == 0 and status.stdout.startswith("installed "), status.stdout + status.stderr
    files = set(run("dpkg", "-L", "socksbox").stdout.split())
    for path in (BINARY, ENTRY, Path("/usr/share/doc/socksbox/README.md")):
        assert str(path) in files, f"{path} is not in the package"
    assert BINARY.stat().st_mode & 0o111, "the binary is not executable"


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_an_icon_of_each_size_is_where_desktops_look(size):
    icon = ICONS / f"{size}x{size}" / "apps" / "socksbox.png"
    assert icon.exists(), f"no {icon}"
    assert png_size(icon) == (size, size), f"{icon} is {png_size(icon)}"


def test_the_menu_entry_is_valid_and_starts_the_installed_app():
    text = ENTRY.read_text()
    lines = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert lines["Name"] == "SocksBox"
    assert lines["Exec"] == "socksbox" and shutil.which("socksbox") == str(BINARY), lines["Exec"]
    assert lines["Icon"] == "socksbox"
    assert "Network" in lines["Categories"].split(";"), lines["Categories"]
    if shutil.which("desktop-file-validate"):
        checked = run("desktop-file-validate", str(ENTRY))
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_library_the_binary_needs_is_found():
    linked = run("ldd", str(BINARY))
    assert linked.returncode == 0, linked.stderr
    missing = [line for line in linked.stdout.splitlines() if "not found" in line]
    assert not missing, f"libraries not found: {missing}"


def test_the_tray_library_the_app_opens_at_run_time_is_installed():
    """libayatana-appindicator3 is opened with dlopen when the tray starts, so
    ldd cannot see it: the package must depend on it."""
    depends = run("dpkg-query", "-W", "-f=${Depends}", "socksbox").stdout
    assert "libayatana-appindicator3-1" in depends, depends
    found = run("ldconfig", "-p").stdout
    assert "libayatana-appindicator3.so.1" in found, "libayatana-appindicator3.so.1 is not installed"
