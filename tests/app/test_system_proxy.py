""" "Use as system proxy", through the real app and a real GNOME settings
store: gsettings with the dconf backend, in a D-Bus session of the test's
own whose dconf database lives in the test's home, so neither the machine's
nor another test's settings are touched. Each test first gives the desktop
"the user's own" manual proxy settings, then checks what the app sets and
that exactly those come back: on toggle off, server stop, quit, SIGTERM,
and at the start after a kill -9.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import WAIT, App, app_log, app_pids, port_open, wait_for, wait_notice

SCHEMA = "org.gnome.system.proxy"
# The user's own manual settings, set before the app starts.
USERS_OWN = {
    (SCHEMA, "mode"): "'manual'",
    (f"{SCHEMA}.http", "host"): "'corp-proxy.example'",
    (f"{SCHEMA}.http", "port"): "3128",
    (f"{SCHEMA}.https", "host"): "''",
    (f"{SCHEMA}.https", "port"): "0",
    (f"{SCHEMA}.socks", "host"): "''",
    (f"{SCHEMA}.socks", "port"): "0",
    # Loopback among them, as in GNOME's defaults: WebKitWebDriver reaches
    # the app's webview over 127.0.0.1 through GLib, which follows these.
    (SCHEMA, "ignore-hosts"): "['localhost', '127.0.0.0/8', '::1', '*.corp.example']",
}
BYPASS = "['localhost', '127.0.0.0/8', '::1']"


class Desktop:
    """A GNOME session's settings: a session bus of its own, started with
    the test home's XDG_CONFIG_HOME and XDG_RUNTIME_DIR, so the dconf
    service it starts writes the database the app's gsettings reads."""

    def __init__(self, home: Path):
        self.runtime = home / "runtime"
        self.runtime.mkdir(mode=0o700)
        self.config = home / "config"
        self.config.mkdir(exist_ok=True)
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.config), "XDG_RUNTIME_DIR": str(self.runtime)}
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.address = self.bus.stdout.readline().strip()
        assert self.address, "the test's session bus gave no address"
        self.env = {
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "GSETTINGS_BACKEND": "dconf",
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CURRENT_DESKTOP": "GNOME",
        }

    def gsettings(self, *args: str) -> str:
        done = subprocess.run(
            ["gsettings", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert done.returncode == 0, f"gsettings {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def values(self) -> dict:
        """The proxy settings the test watches, as gsettings prints them."""
        return {(schema, key): self.gsettings("get", schema, key) for schema, key in USERS_OWN}

    def set_users_own(self):
        for (schema, key), value in USERS_OWN.items():
            self.gsettings("set", schema, key, value)
        assert self.values() == USERS_OWN

    def close(self):
        self.bus.terminate()
        try:
            self.bus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.bus.kill()


@pytest.fixture
def desktop(home, monkeypatch):
    """A GNOME desktop's proxy settings for the app (request it before
    `launch`: the driver and so the app take this environment), with the
    user's own manual settings in place. The tray's panel and the
    notifications (sni.Panel) join its bus too."""
    gnome = Desktop(home)
    for name, value in gnome.env.items():
        monkeypatch.setenv(name, value)
    gnome.set_users_own()
    yield gnome
    gnome.close()


def pointed_at(port: int) -> dict:
    """What the settings hold while the desktop points at the app on port."""
    return {
        (SCHEMA, "mode"): "'manual'",
        (f"{SCHEMA}.http", "host"): "'127.0.0.1'",
        (f"{SCHEMA}.http", "port"): str(port),
        (f"{SCHEMA}.https", "host"): "'127.0.0.1'",
        (f"{SCHEMA}.https", "port"): str(port),
        (f"{SCHEMA}.socks", "host"): "'127.0.0.1'",
        (f"{SCHEMA}.socks", "port"): str(port),
        (SCHEMA, "ignore-hosts"): BYPASS,
    }


def values_become(desktop: Desktop, expected: dict, what: str):
    deadline = time.monotonic() + WAIT
    while (now := desktop.values()) != expected:
        if time.monotonic() > deadline:
            changed = {k: (now.get(k), v) for k, v in expected.items() if now.get(k) != v}
            raise AssertionError(f"{what}: the desktop's proxy settings differ (now, expected): {changed}")
        time.sleep(0.2)


def state_file(home: Path) -> Path:
    return home / "data" / "socksbox" / "system-proxy.json"


def env_file(home: Path) -> Path:
    return home / "data" / "socksbox" / "proxy.env"


def switch_becomes(app: App, on: bool, what: str):
    app.checkbox_becomes("#system-proxy-toggle", on, what)


def click_switch(app: App):
    app.visible("#system-proxy-toggle")
    app.click("#system-proxy-toggle")


def test_the_switch_points_the_desktop_at_the_proxy_and_puts_the_users_own_settings_back(
    desktop, launch, proxy_port, home
):
    app = launch()
    app.text_becomes("#server-state", "Stopped", "a fresh app")
    app.text_becomes("#system-proxy-desktop", "Points the proxy settings of GNOME at this proxy", "the desktop found")
    app.text_becomes("#system-proxy-desktop", "SOCKS5, HTTP and HTTPS", "what GNOME gets")
    switch_becomes(app, False, "a fresh app")

    # The port is taken: the proxy cannot start, and the desktop is left alone.
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", proxy_port))
    blocker.listen()
    try:
        click_switch(app)
        app.text_becomes(
            "#system-proxy-error",
            f"The proxy could not start, so the desktop was not pointed at it: Port {proxy_port} is in use",
            "turning it on while the port is taken",
        )
        switch_becomes(app, False, "after the refused start")
        assert desktop.values() == USERS_OWN, "a refused start changed the desktop's settings"
        assert not state_file(home).exists()
    finally:
        blocker.close()

    # Turned on while the proxy is stopped: the proxy starts first.
    click_switch(app)
    switch_becomes(app, True, "after turning it on")
    app.text_becomes("#server-state", "Running", "turning the system proxy on starts the proxy")
    values_become(desktop, pointed_at(proxy_port), "on")
    assert port_open(proxy_port), "the desktop points at a port nothing listens on"
    assert state_file(home).exists(), "no state file keeps the user's own settings"
    app.text_becomes(
        "#system-proxy-desktop", f"The proxy settings of GNOME point at 127.0.0.1:{proxy_port}", "where it points"
    )
    assert not app.el("#system-proxy-error").is_displayed()
    app.shot("system-proxy", scroll_to="#system-proxy-block")

    click_switch(app)
    switch_becomes(app, False, "after turning it off")
    values_become(desktop, USERS_OWN, "off")
    assert not state_file(home).exists(), "the state file stays after the settings came back"
    app.text_becomes("#server-state", "Running", "turning the system proxy off leaves the proxy running")

    # Stopping the proxy turns it off too.
    click_switch(app)
    values_become(desktop, pointed_at(proxy_port), "on again")
    app.toggle_server()
    app.text_becomes("#server-state", "Stopped", "after Stop")
    switch_becomes(app, False, "after Stop")
    values_become(desktop, USERS_OWN, "after Stop")
    assert not state_file(home).exists()

    # While on, a new port re-points the desktop; HTTP cannot be turned off.
    click_switch(app)
    values_become(desktop, pointed_at(proxy_port), "on for the port change")
    app.go("settings")
    app.set_checkbox("#http-enabled", False)
    app.el("#save-settings").click()
    app.text_becomes("#error-http-enabled", "turn “Use as system proxy” off", "HTTP turned off while it is on")
    app.set_checkbox("#http-enabled", True)
    new_port = proxy_port + 1 if proxy_port < 65000 else proxy_port - 1
    app.fill_in("#port", str(new_port))
    app.save_settings()
    values_become(desktop, pointed_at(new_port), "after the port changed")
    assert port_open(new_port), "the desktop points at the new port, but nothing listens there"
    app.go("status")
    app.text_becomes("#system-proxy-desktop", f"127.0.0.1:{new_port}", "the new port on the status page")
    click_switch(app)
    values_become(desktop, USERS_OWN, "off after the port change")


def tray_item(panel):
    return wait_for("a tray icon", lambda: (panel.registered() or [None])[0])


def check_item(panel, item) -> dict:
    """The properties of the tray's "Use as system proxy" entry."""
    entries = dict(panel.menu_top(item))
    assert "Use as system proxy" in entries, f"the tray menu has no system proxy entry: {list(entries)}"
    return entries["Use as system proxy"]


def test_the_trays_check_item_turns_it_on_and_quit_puts_the_users_own_settings_back(desktop, launch, proxy_port, home):
    from sni import Panel

    panel = Panel()
    try:
        app = launch()
        item = tray_item(panel)
        entry = wait_for("the check item usable", lambda: (e := check_item(panel, item)).get("enabled", True) and e)
        assert entry.get("toggle-type") == "checkmark", f"not a check item: {entry}"
        assert entry.get("toggle-state") == 0, f"checked before it was turned on: {entry}"

        panel.click(item, panel.menu_labels(item)["Use as system proxy"])
        values_become(desktop, pointed_at(proxy_port), "on from the tray")
        wait_for("the check item checked", lambda: check_item(panel, item).get("toggle-state") == 1)
        switch_becomes(app, True, "the window after the tray turned it on")
        app.text_becomes("#server-state", "Running", "the tray's system proxy started the proxy")

        panel.click(item, panel.menu_labels(item)["Use as system proxy"])
        values_become(desktop, USERS_OWN, "off from the tray")
        wait_for("the check item unchecked", lambda: check_item(panel, item).get("toggle-state") == 0)
        switch_becomes(app, False, "the window after the tray turned it off")

        panel.click(item, panel.menu_labels(item)["Use as system proxy"])
        values_become(desktop, pointed_at(proxy_port), "on from the tray again")
        panel.click(item, panel.menu_labels(item)["Quit"])
        wait_for("the app exits after Quit", lambda: not app_pids(home), timeout=WAIT)
        values_become(desktop, USERS_OWN, "after Quit")
        assert not state_file(home).exists(), "the state file stays after Quit"
    finally:
        panel.close()


def test_sigterm_puts_the_users_own_settings_back(desktop, launch, proxy_port, home):
    app = launch()
    click_switch(app)
    values_become(desktop, pointed_at(proxy_port), "on")
    (pid,) = app_pids(home)
    os.kill(pid, signal.SIGTERM)
    wait_for("the app exits on SIGTERM", lambda: not app_pids(home))
    values_become(desktop, USERS_OWN, "after SIGTERM")
    assert not state_file(home).exists(), "the state file stays after SIGTERM"
    assert "quitting on a signal" in app_log(home)


def test_after_a_kill_the_next_start_puts_the_users_own_settings_back(desktop, launch, proxy_port, home):
    from sni import Panel

    app = launch()
    click_switch(app)
    values_become(desktop, pointed_at(proxy_port), "on")
    (pid,) = app_pids(home)
    os.kill(pid, signal.SIGKILL)
    wait_for("the app gone after kill -9", lambda: not app_pids(home))
    app.close()  # ends the WebDriver session of the killed app
    # Nothing could put them back: the crash leaves the desktop pointed.
    assert desktop.values() == pointed_at(proxy_port), "the settings changed although the app was killed"
    assert state_file(home).exists(), "no state file was left to recover from"

    panel = Panel()
    try:
        again = launch()
        values_become(desktop, USERS_OWN, "at the next start")
        assert not state_file(home).exists(), "the state file stays after the recovery"
        again.visible("#system-proxy-recovered")
        again.text_becomes("#system-proxy-recovered", "your own proxy settings were put back", "the window's notice")
        switch_becomes(again, False, "after the recovery")
        wait_notice(panel, "your own proxy settings are back")
        assert "the desktop's own proxy settings are put back" in app_log(home)
    finally:
        panel.close()


@contextlib.contextmanager
def via_server(host: str):
    """An HTTP server on host whose answer says the Via field of the request
    (this proxy adds one to each request it forwards), or "direct"."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = (self.headers.get("Via") or "direct").encode() + b"\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def in_a_shell(profile_line: str, command: str) -> subprocess.CompletedProcess:
    """Runs command in bash after the shell profile's line, with no proxy
    variables of the test's own."""
    return subprocess.run(
        ["bash", "-c", f"{profile_line}\n{command}"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_terminals_file_is_written_and_removed_and_curl_uses_it(desktop, launch, proxy_port, home, phone):
    app = launch()
    app.go("settings")
    app.text_becomes("#settings-env-file", str(env_file(home)), "the file's path in Settings")
    line = app.el("#settings-env-line").text
    assert str(env_file(home)) in line and ". " in line, f"the shell profile's line: {line!r}"
    app.set_checkbox("#system-proxy-env-file", True)
    app.save_settings()
    app.go("status")
    assert not env_file(home).exists(), "the file is written before the system proxy is on"
    click_switch(app)
    values_become(desktop, pointed_at(proxy_port), "on")
    wait_for("the terminals' file", env_file(home).exists)
    app.visible("#system-proxy-env")
    assert app.el("#system-proxy-env-line code").text == line, "the status page and Settings give other lines"
    app.shot("system-proxy-terminals", scroll_to="#system-proxy-block")
    text = env_file(home).read_text()
    for name, value in [
        ("http_proxy", f"http://127.0.0.1:{proxy_port}"),
        ("https_proxy", f"http://127.0.0.1:{proxy_port}"),
        ("all_proxy", f"socks5h://127.0.0.1:{proxy_port}"),
        ("no_proxy", "localhost,127.0.0.0/8,::1"),
    ]:
        assert f"export {name}='{value}'" in text, f"{name} is not {value} in {text}"

    # A terminal that reads the file: curl goes through the proxy (its
    # HTTP side adds a Via field), through its SOCKS side with all_proxy
    # alone, and straight to this machine's own addresses.
    with via_server(phone.host4) as elsewhere, via_server("127.0.0.1") as here:
        fetched = in_a_shell(line, f"curl -sS --max-time 10 {elsewhere}")
        assert fetched.returncode == 0, f"curl with the file's variables: {fetched.stderr}"
        assert re.fullmatch(r"1\.1 socksbox-\w+\n", fetched.stdout), f"not through the proxy: {fetched.stdout!r}"
        socks = in_a_shell(line, f"unset http_proxy HTTP_PROXY; curl -sSv --max-time 10 {elsewhere}")
        assert socks.returncode == 0 and socks.stdout == "direct\n", f"through all_proxy: {socks.stderr}"
        assert "Uses proxy env variable all_proxy" in socks.stderr and "SOCKS5 request granted" in socks.stderr, (
            f"curl did not go through the SOCKS side: {socks.stderr[-1500:]}"
        )
        local = in_a_shell(line, f"curl -sS --max-time 10 {here}")
        assert local.returncode == 0 and local.stdout == "direct\n", f"no_proxy: {local.stdout!r} {local.stderr}"

    click_switch(app)
    values_become(desktop, USERS_OWN, "off")
    wait_for("the terminals' file removed", lambda: not env_file(home).exists())
    assert not app.el("#system-proxy-env").is_displayed()
    # The line does nothing while the file is not there.
    after = in_a_shell(line, 'echo "${http_proxy:-none}"')
    assert after.returncode == 0 and after.stdout == "none\n" and after.stderr == "", f"{after}"


@pytest.fixture
def no_desktop(monkeypatch, tmp_path):
    """A session whose proxy settings nothing here can change: no KDE, and a
    gsettings that has no schemas, as where GNOME's settings are not
    installed. (Emptying XDG_DATA_DIRS instead leaves WebKitWebDriver
    unable to start.) Request it before `launch`."""
    stub = tmp_path / "gsettings"
    stub.write_text("#!/bin/sh\necho 'No schemas installed' >&2\nexit 1\n")
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)


def test_without_a_supported_desktop_the_switch_is_disabled_and_says_why(no_desktop, launch):
    from sni import Panel

    panel = Panel()
    try:
        app = launch()
        app.text_becomes("#system-proxy-desktop", "No supported desktop was found", "no desktop")
        assert not app.el("#system-proxy-toggle").is_enabled(), "the switch can be used without a desktop"
        item = tray_item(panel)
        wait_for("the tray's check item disabled", lambda: check_item(panel, item).get("enabled") is False)
    finally:
        panel.close()
