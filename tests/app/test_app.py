"""The real desktop app, driven through its window with WebDriver.

tests/app/run provides the display, the D-Bus session and the keyring. Each
test opens the app in a WebDriver session (tauri-driver starts the binary),
acts through the page as a user would, and checks the outcome from outside:
curl through the proxy, the port open or closed, the files on disk. Every
test has an app home of its own (XDG directories in a temporary folder,
with a free port in its settings) and its own tauri-driver, so the tests
pass in any order; a test that checks what survives a restart makes what
it checks itself.

The parts the tests share are in harness.py, their fixtures in conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness import (
    APP,
    KEYRING_PASSWORD,
    REPO,
    SHOTS,
    WAIT,
    App,
    Phone,
    app_env,
    app_log,
    app_pids,
    curl,
    free_port,
    port_open,
    read_line,
    require,
    wait_for,
    wait_notice,
)

USER, PASSWORD = "alice", "wonderland-42"


def test_start_and_stop_from_the_window(launch, proxy_port, web):
    app = launch()
    app.text_becomes("#server-state", "Stopped", "a fresh app")
    assert not port_open(proxy_port), "the server listens before it was started"
    app.start_server()
    app.text_becomes("#listening", f"127.0.0.1:{proxy_port}", "the addresses it listens on")
    fetched = curl(proxy_port, web)
    assert fetched.returncode == 0 and fetched.stdout == "hello through the app\n", (
        f"curl through the app's server: exit {fetched.returncode}, {fetched.stdout!r} {fetched.stderr}"
    )
    app.shot("status")
    app.toggle_server()
    app.text_becomes("#server-state", "Stopped", "after Stop")
    deadline = time.monotonic() + 5
    while port_open(proxy_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_open(proxy_port), "the port is still open after Stop"


def test_a_port_in_use_is_explained_and_start_works_again(launch, proxy_port):
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", proxy_port))
    blocker.listen()
    app = launch()
    try:
        app.toggle_server()
        app.text_becomes("#server-state", "Failed", "starting on a port another program holds")
        app.text_becomes("#server-error", f"Port {proxy_port} is in use by another program", "the reason")
    finally:
        blocker.close()
    app.start_server("starting again once the port is free")
    app.toggle_server()
    app.text_becomes("#server-state", "Stopped", "stopping")


def test_users_and_required_password(launch, proxy_port, web):
    app = launch()
    app.go("users")
    app.el("#new-user-name").send_keys(USER)
    app.el("#new-user-password").send_keys(PASSWORD)
    app.el("#add-user").click()
    try:
        app.el(f'tr[data-user="{USER}"]')
    except Exception:
        app.shot("users-failed")
        errors = {css: app.driver.find_element(By.CSS_SELECTOR, css).text for css in ("#users-error", "#keyring-error")}
        raise AssertionError(f"the new user's row did not appear; the page says {errors}") from None
    app.shot("users")

    app.go("settings")
    app.set_checkbox("#password-required", True)
    app.save_settings()
    app.shot("settings")

    app.go("status")
    app.start_server()
    with_password = curl(proxy_port, web, f"{USER}:{PASSWORD}")
    assert with_password.returncode == 0 and with_password.stdout == "hello through the app\n", (
        f"curl with the user's password: exit {with_password.returncode} {with_password.stderr}"
    )
    without = curl(proxy_port, web)
    assert without.returncode != 0, "curl without a password succeeded although one is required"
    wrong = curl(proxy_port, web, f"{USER}:not-the-password")
    assert wrong.returncode != 0, "curl with a wrong password succeeded"


def settings_file(home: Path) -> dict:
    return json.loads((home / "config" / "socksbox" / "settings.json").read_text())


def connect_from(source: str, port: int) -> socket.socket:
    """A TCP connection to the proxy from the loopback address `source`: to
    the server, another device than curl on 127.0.0.1."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def closed_within(s: socket.socket, seconds: float) -> float | None:
    """How long the server took to close (or reset) a connection it was
    sent nothing on, or None when it was still open after `seconds`."""
    started = time.monotonic()
    s.settimeout(seconds)
    try:
        data = s.recv(1)
    except ConnectionResetError:
        data = b""
    except TimeoutError:
        return None
    assert data == b"", f"the server sent {data!r} to a client that said nothing"
    return time.monotonic() - started


def test_a_device_over_its_handshake_limit_is_refused_at_once(launch, proxy_port, web, home):
    """Connections in their handshake, per device, set to 3 and held to
    this computer's programs too: three idle connections from 127.0.0.2
    stay open, a fourth is refused at once, while curl from 127.0.0.1 (a
    device of its own) still gets through; once the three close, the
    device is served again."""
    held_limit = 3
    app = launch()
    app.go("settings")
    app.fill_in("#limit-handshakes-per-client", str(held_limit))
    app.set_checkbox("#limits-for-loopback", True)
    app.save_settings()
    app.shot("settings-limits", scroll_to="#limits-legend")
    limits = settings_file(home)["limits"]
    assert limits["maxHandshakesPerClient"] == held_limit and limits["perClientLimitsForLoopback"] is True, limits
    assert limits["maxHandshakes"] == 512, f"a limit the form did not change was changed: {limits}"
    app.go("status")
    app.start_server()

    held = []
    try:
        held = [connect_from("127.0.0.2", proxy_port) for _ in range(held_limit)]
        extra = connect_from("127.0.0.2", proxy_port)
        held.append(extra)
        took = closed_within(extra, 3)
        assert took is not None, f"connection {held_limit + 1} from one device was not refused within 3 s"
        assert took < 1, f"connection {held_limit + 1} was refused only after {took:.2f} s"
        for s in held[:held_limit]:
            assert closed_within(s, 0.2) is None, "a connection within the limit was closed"
        fetched = curl(proxy_port, web)
        assert fetched.returncode == 0 and fetched.stdout == "hello through the app\n", (
            f"curl from another device while one is at its limit: exit {fetched.returncode} {fetched.stderr}"
        )
    finally:
        for s in held:
            s.close()

    def greeted():
        # A SOCKS5 greeting offering "no authentication".
        with connect_from("127.0.0.2", proxy_port) as s:
            s.sendall(b"\x05\x01\x00")
            try:
                return s.recv(2) == b"\x05\x00"
            except OSError:
                return False

    wait_for("the device served again once its idle connections closed", greeted)


def test_a_refused_destination_is_refused_through_the_proxy(launch, proxy_port, web, web_elsewhere, home):
    """A page on 127.0.0.2 works through the proxy; a bad line in Refused
    destinations is named next to the field; with 127.0.0.2 listed, curl to
    it is refused by the proxy (a deny rule holds for this computer's
    programs too) while the page on 127.0.0.1 still works; without the rule
    it works again."""
    app = launch()
    app.start_server()
    before = curl(proxy_port, web_elsewhere)
    assert before.returncode == 0 and before.stdout == "hello through the app\n", (
        f"curl to 127.0.0.2 before any rule: exit {before.returncode} {before.stderr}"
    )

    app.go("settings")
    app.fill_in("#deny-targets", "10.0.0.0/8\n300.1.1.1/8")
    app.text_becomes(
        "#error-deny-targets", '"300.1.1.1/8" is not an address or range like 10.0.0.0/8.', "a bad refused destination"
    )
    app.fill_in("#deny-targets", "127.0.0.2\n")
    assert not app.el("#error-deny-targets").is_displayed(), "the message stayed after the line was fixed"
    app.save_settings()
    app.shot("settings-destinations", scroll_to="#deny-legend")
    assert settings_file(home)["denyTargets"] == ["127.0.0.2"]

    refused = curl(proxy_port, web_elsewhere)
    # 97: CURLE_PROXY, the proxy answered with a refusal (SOCKS5 reply 2,
    # not allowed by ruleset), not a connection that failed.
    assert refused.returncode == 97, f"curl to a refused destination: exit {refused.returncode} {refused.stderr}"
    assert refused.stdout == "", f"a refused destination answered: {refused.stdout!r}"
    other = curl(proxy_port, web)
    assert other.returncode == 0, f"the rule for 127.0.0.2 refused 127.0.0.1 too: {other.stderr}"

    app.el("#deny-targets").clear()
    app.save_settings()
    again = curl(proxy_port, web_elsewhere)
    assert again.returncode == 0, f"the destination stayed refused after its rule went: {again.stderr}"


def add_user_and_require_passwords(app: App, name: str, password: str):
    """Adds a user in the Users view and turns on passwords in Settings."""
    app.go("users")
    app.el("#new-user-name").send_keys(name)
    app.el("#new-user-password").send_keys(password)
    app.el("#add-user").click()
    app.el(f'tr[data-user="{name}"]')
    app.go("settings")
    app.set_checkbox("#password-required", True)
    app.save_settings()


def test_a_generated_password_works_through_the_proxy(launch, proxy_port, web, home):
    """Generate fills in a password, shown so it can be copied; a short one
    is refused; the user added with the generated one (and then given
    another from the dialog's Generate) gets through the proxy with it."""
    app = launch()
    app.go("users")
    app.el("#new-user-name").send_keys("erin")
    app.el("#new-user-password").send_keys("1234567")
    app.el("#add-user").click()
    app.text_becomes("#users-error", "at least 8 characters", "a 7-character password")
    assert not app.driver.find_elements(By.CSS_SELECTOR, 'tr[data-user="erin"]'), "a short password was taken"
    app.el("#generate-password").click()
    field = app.el("#new-user-password")
    generated = field.get_property("value")
    assert len(generated) == 16 and generated.isalnum(), f"generated {generated!r}"
    assert field.get_attribute("type") == "text", "the generated password is not shown"
    app.shot("users-generated")
    app.el("#add-user").click()
    app.el('tr[data-user="erin"]')
    assert app.el("#new-user-password").get_attribute("type") == "password", "the next password would show"
    app.go("settings")
    app.set_checkbox("#password-required", True)
    app.save_settings()
    app.go("status")
    app.start_server()
    fetched = curl(proxy_port, web, f"erin:{generated}")
    assert fetched.returncode == 0 and fetched.stdout == "hello through the app\n", (
        f"curl with the generated password: exit {fetched.returncode} {fetched.stderr}"
    )

    app.go("users")
    app.click('tr[data-user="erin"] .set-password')
    app.visible("#edit-user-generate").click()
    dialog_field = app.el("#edit-user-input")
    renewed = dialog_field.get_property("value")
    assert len(renewed) == 16 and renewed != generated, f"generated {renewed!r}"
    assert dialog_field.get_attribute("type") == "text"
    app.el("#edit-user-ok").click()
    WebDriverWait(app.driver, WAIT).until(
        lambda d: not d.find_element(By.CSS_SELECTOR, "#edit-user-dialog").get_attribute("open"),
        "the dialog did not close after setting the password",
    )
    deadline = time.monotonic() + WAIT
    while curl(proxy_port, web, f"erin:{renewed}").returncode != 0:
        assert time.monotonic() < deadline, "the password generated in the dialog does not work"
        time.sleep(0.2)
    assert curl(proxy_port, web, f"erin:{generated}").returncode != 0, "the old password still works"
    saved = (home / "config" / "socksbox" / "settings.json").read_text()
    assert generated not in saved and renewed not in saved, "a password was written into the settings"


def test_settings_and_users_survive_a_restart(launch, proxy_port, web, home):
    first = launch()
    add_user_and_require_passwords(first, USER, PASSWORD)
    first.close()
    settings = json.loads((home / "config" / "socksbox" / "settings.json").read_text())
    assert settings["passwordRequired"] is True and settings["users"][0]["name"] == USER
    assert PASSWORD not in json.dumps(settings), "a password was written into the settings file"
    app = launch()
    app.go("users")
    app.el(f'tr[data-user="{USER}"]')
    app.go("settings")
    assert app.el("#password-required").is_selected(), "password required was lost on restart"
    app.go("status")
    app.start_server("after Start in the reopened app")
    fetched = curl(proxy_port, web, f"{USER}:{PASSWORD}")
    assert fetched.returncode == 0, f"the user's password from the keyring no longer works: {fetched.stderr}"
    app.go("logs")
    app.el("#log-refresh").click()
    app.text_becomes("#log-lines", "server state", "the logs view")
    app.shot("logs")


INVOKE = """
const [command, args, done] = arguments;
window.__TAURI_INTERNALS__.invoke(command, args).then(
  (value) => done({ ok: true, value }),
  (error) => done({ ok: false, error: String(error) }),
);
"""


def test_the_page_is_refused_what_it_is_not_granted(launch, home):
    """The page calls Tauri's IPC itself: a granted command answers, and
    commands its capability does not grant (plugins', the window's) are
    refused, with no effect (no autostart entry)."""
    app = launch()
    app.text_becomes("#server-state", "Stopped", "a fresh app")
    granted = app.driver.execute_async_script(INVOKE, "server_status", {})
    assert granted == {"ok": True, "value": {"state": "stopped"}}, granted
    for command in ("plugin:autostart|enable", "plugin:window|close", "plugin:app|version"):
        refused = app.driver.execute_async_script(INVOKE, command, {})
        assert not refused["ok"] and "not allowed" in refused["error"], (command, refused)
    assert not (home / "home" / ".config" / "autostart").exists(), "a refused command had an effect"
    app.text_becomes("#server-state", "Stopped", "the window after the refusals")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_apps_files_are_the_users_alone(launch, home):
    """Settings and logs: folders 0700 and files 0600, even where the folder
    and the file were left readable to others (as the fixture leaves them,
    and as an older version did)."""
    config = home / "config" / "socksbox"
    settings = config / "settings.json"
    config.chmod(0o755)
    settings.chmod(0o644)
    app = launch()
    app.go("settings")
    app.save_settings()
    logs = home / "data" / "socksbox" / "logs"
    log_files = wait_for("a log file", lambda: sorted(logs.glob("socksbox.*.log")))
    found = {str(p.relative_to(home)): oct(mode(p)) for p in [config, settings, logs, *log_files]}
    wanted = {name: oct(0o700 if (home / name).is_dir() else 0o600) for name in found}
    assert found == wanted, f"modes on disk {found}, wanted {wanted}"
    assert not (config / "settings.json.tmp").exists(), "the temporary file was left behind"


def test_without_a_home_the_app_refuses_to_start():
    """A user with no HOME and no entry in the password database: the app
    says why and exits, and writes nothing to the temporary folder it once
    fell back to. Needs root, to run as such a user."""
    import pwd

    if os.geteuid() != 0:
        if os.environ.get("SOCKSBOX_REQUIRE_ALL", "") not in ("", "0"):
            pytest.fail("running as a user without a home needs root")
        pytest.skip("running as a user without a home needs root")
    uid = next(u for u in range(47000, 48000) if not any(p.pw_uid == u for p in pwd.getpwall()))
    # A shared temporary folder that user can write to (pytest's own is
    # root's alone).
    shared_tmp = Path(tempfile.mkdtemp(prefix="socksbox-shared-tmp-"))
    try:
        shared_tmp.chmod(0o1777)
        started = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", str(APP)],
            env={"PATH": os.environ["PATH"], "TMPDIR": str(shared_tmp)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert started.returncode == 1, f"exit {started.returncode}: {started.stderr[-2000:]}"
        assert "no home directory" in started.stderr and "/tmp" in started.stderr, started.stderr
        left = list(shared_tmp.iterdir())
        assert not left, f"the app wrote to the shared temporary folder: {left}"
    finally:
        shutil.rmtree(shared_tmp, ignore_errors=True)


def test_a_damaged_settings_file_gives_a_warning_and_defaults(launch, home):
    path = home / "config" / "socksbox" / "settings.json"
    path.write_text('{"port": 10')
    app = launch()
    app.go("settings")
    warning = app.visible("#settings-warning")
    assert "set aside" in warning.text, f"the warning says {warning.text!r}"
    assert app.el("#port").get_attribute("value") == "1080", "the defaults are not in use"
    kept = list(path.parent.glob("settings.json.corrupt-*"))
    assert kept and kept[0].read_text() == '{"port": 10', "the damaged file was not kept for the user"


def test_users_are_renamed_disabled_and_deleted_in_the_window(launch, proxy_port, web, home):
    # Through the form as a user would: the port and passwords required,
    # then one user through every action.
    app = launch()
    app.go("settings")
    port = app.el("#port")
    port.clear()
    port.send_keys(str(proxy_port))
    app.set_checkbox("#password-required", True)
    app.save_settings()

    app.go("users")
    app.el("#new-user-name").send_keys("bob")
    app.el("#new-user-password").send_keys("bob-secret-1")
    app.el("#add-user").click()
    app.click('tr[data-user="bob"] .rename')
    field = app.visible("#edit-user-input")
    field.clear()
    field.send_keys("carol")
    app.el("#edit-user-ok").click()
    app.el('tr[data-user="carol"]')
    assert not app.driver.find_elements(By.CSS_SELECTOR, 'tr[data-user="bob"]'), "the old name is still listed"

    app.go("status")
    app.start_server()
    renamed = curl(proxy_port, web, "carol:bob-secret-1")
    assert renamed.returncode == 0, f"the renamed user kept no working password: {renamed.stderr}"
    assert curl(proxy_port, web, "bob:bob-secret-1").returncode != 0, "the old name still works"

    app.go("users")
    app.click('tr[data-user="carol"] .enabled')
    app.checkbox_becomes('tr[data-user="carol"] .enabled', False, "carol after disabling")
    deadline = time.monotonic() + WAIT
    while curl(proxy_port, web, "carol:bob-secret-1").returncode == 0:
        assert time.monotonic() < deadline, "a disabled user can still use the proxy"
        time.sleep(0.2)
    app.click('tr[data-user="carol"] .enabled')
    app.checkbox_becomes('tr[data-user="carol"] .enabled', True, "carol after enabling again")
    deadline = time.monotonic() + WAIT
    while curl(proxy_port, web, "carol:bob-secret-1").returncode != 0:
        assert time.monotonic() < deadline, "a user enabled again cannot use the proxy"
        time.sleep(0.2)

    app.click('tr[data-user="carol"] .delete')
    app.visible("#confirm-delete-yes").click()
    WebDriverWait(app.driver, WAIT).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-user="carol"]'),
        "the deleted user is still listed",
    )
    assert curl(proxy_port, web, "carol:bob-secret-1").returncode != 0, "a deleted user can still use the proxy"
    saved = (home / "config" / "socksbox" / "settings.json").read_text()
    assert "carol" not in saved and "bob-secret-1" not in saved, f"the settings file still holds the user: {saved}"


def test_sharing_on_the_network_asks_first_and_warns(launch, proxy_port):
    app = launch()
    app.go("settings")
    port = app.el("#port")
    port.clear()
    port.send_keys(str(proxy_port))
    app.set_checkbox("#password-required", False)
    app.el("#share-on-lan").click()
    app.visible("#confirm-share-yes").click()
    assert app.el("#share-on-lan").is_selected(), "sharing was not kept on after confirming"
    app.save_settings()
    app.go("status")
    if app.el("#server-state").text != "Running":
        app.toggle_server()
    app.text_becomes("#server-state", "Running", "sharing on the network")
    app.text_becomes("#listening", f"0.0.0.0:{proxy_port}", "listening on every interface")
    warning = app.visible("#open-warning")
    assert "without a password" in warning.text, f"the open-proxy warning says {warning.text!r}"
    shared = wait_for(
        "addresses to share on the network, listed on the status view",
        lambda: app.driver.find_elements(By.CSS_SELECTOR, "#share-addresses li"),
    )
    assert shared, "no address to share is listed"
    for item in shared:
        address = item.get_attribute("data-address")
        setup = f"http://{address}/"
        assert item.find_element(By.CSS_SELECTOR, ".setup-url").text == setup, f"the setup page of {address}"
        assert item.find_element(By.CSS_SELECTOR, ".qr").get_attribute("data-url") == setup, f"the QR code of {address}"
        assert item.find_elements(By.CSS_SELECTOR, ".qr svg"), f"no QR code next to {item.text!r}"
    # Back to this machine only, so nothing is left listening on the network.
    app.go("settings")
    app.el("#share-on-lan").click()
    app.save_settings()
    app.go("status")
    app.text_becomes("#listening", f"127.0.0.1:{proxy_port}", "after sharing is turned off")


def share_on_the_network(app: App):
    """Turns sharing on in Settings (confirming sharing without a
    password) and starts the server."""
    app.go("settings")
    app.set_checkbox("#password-required", False)
    app.set_checkbox("#share-on-lan", True)
    app.visible("#confirm-share-yes").click()
    app.save_settings()
    app.go("status")
    if app.el("#server-state").text != "Running":
        app.toggle_server()
    app.text_becomes("#server-state", "Running", "sharing on the network")


def share_offer(app: App, address: str) -> dict | None:
    """What the LAN sharing section offers for one share address (None
    when it is not listed): the setup page, the PAC URL, the proxy
    address, and the URL of the QR code (each None when not shown)."""
    return app.driver.execute_script(
        """
        const item = Array.from(document.querySelectorAll("#share-addresses li"))
          .find((li) => li.dataset.address === arguments[0]);
        if (!item) return null;
        const text = (css) => item.querySelector(css)?.textContent ?? null;
        return {
          setup: text(".setup-url"), pac: text(".pac-url"), address: text("code.address"),
          qr: item.querySelector(".qr")?.dataset.url ?? null,
        };
        """,
        address,
    )


def offer_becomes(app: App, address: str, expected: dict, what: str):
    wait_for(f"{what}: {address} should offer {expected}", lambda: share_offer(app, address) == expected)


def qr_codes_on_screen(app: App, element: WebElement) -> list[str]:
    """What a camera reads in the QR codes of the window (zbarimg), with
    `element` scrolled into the middle of it. The whole window is taken:
    WebKitWebDriver's screenshot of one element comes out black. A picture
    with no code read is kept in target/screenshots/qr-unread.png."""
    app.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    app.painted()
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "qr-unread.png"
    shot.write_bytes(app.driver.get_screenshot_as_png())
    read = subprocess.run(["zbarimg", "--raw", "-q", str(shot)], capture_output=True, text=True, timeout=30)
    assert read.returncode == 0, f"zbarimg read no QR code in {shot} (exit {read.returncode}): {read.stderr}"
    shot.unlink()
    return read.stdout.split()


def clipboard() -> str:
    return subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True, timeout=10).stdout


def clipboard_becomes(expected: str):
    wait_for(f"the clipboard to hold {expected!r}", lambda: clipboard() == expected)


def visit_rows(app: App) -> list[list[str]]:
    """The rows of "Devices that opened the setup page recently", as text."""
    return app.driver.execute_script(
        "return Array.from(document.querySelectorAll('#visits tbody tr'))"
        ".map((tr) => Array.from(tr.cells).map((td) => td.textContent));"
    )


def test_a_phone_opens_the_setup_page_from_the_qr_code_and_is_listed(launch, phone, proxy_port):
    """The LAN sharing section offers, per address, the setup page (with its
    QR code) and the PAC URL; a phone that opens them is listed."""
    require(shutil.which("zbarimg") is not None, "reading the QR code needs zbarimg (Debian's zbar-tools)")
    app = launch()
    share_on_the_network(app)
    address4, address6 = f"{phone.host4}:{proxy_port}", f"[{phone.host6}]:{proxy_port}"
    setup, pac = f"http://{address4}/", f"http://{address4}/proxy.pac"
    offer_becomes(app, address4, {"setup": setup, "pac": pac, "address": address4, "qr": setup}, "sharing")
    setup6, pac6 = f"http://{address6}/", f"http://{address6}/proxy.pac"
    offer_becomes(app, address6, {"setup": setup6, "pac": pac6, "address": address6, "qr": setup6}, "IPv6 in brackets")
    item = f'#share-addresses li[data-address="{address4}"]'
    codes = qr_codes_on_screen(app, app.el(f"{item} .qr svg"))
    assert setup in codes, f"no QR code on screen opens the setup page {setup}: {codes}"
    assert all(code.startswith("http://") and code.endswith(f":{proxy_port}/") for code in codes), codes
    app.click(f'{item} button[aria-label="Copy {pac}"]')
    clipboard_becomes(pac)
    app.text_becomes("#visits-empty", "No device has opened the setup page yet", "before the phone opens it")

    status, kind, page = phone.fetch(setup)
    assert status == "200" and kind.startswith("text/html"), f"the phone got {status} {kind}: {page[:300]}"
    assert "This device reached the proxy" in page and pac in page, f"the setup page says {page[:600]}"
    rows = wait_for("the phone among the devices that opened the setup page", lambda: visit_rows(app))
    assert rows[0] == ["Android phone", phone.ip4, "Setup page", "1", "just now"], f"the list shows {rows}"

    status, kind, script = phone.fetch(pac6)
    assert status == "200" and kind == "application/x-ns-proxy-autoconfig", f"the PAC file: {status} {kind}"
    assert f"PROXY {address6}" in script, f"the PAC file does not name the proxy at {address6}: {script}"
    phone.fetch(setup)
    both = [
        ["Android phone", phone.ip4, "Setup page", "2", "just now"],
        ["Android phone", phone.ip6, "PAC file", "1", "just now"],
    ]
    wait_for(f"the list to show {both}", lambda: visit_rows(app) == both)
    app.shot("sharing", scroll_to="#share-addresses li:last-child")


def test_turning_http_off_hides_the_http_urls_and_the_setup_page(launch, phone, proxy_port, web):
    app = launch()
    share_on_the_network(app)
    address = f"{phone.host4}:{proxy_port}"
    setup = f"http://{address}/"
    with_http = {"setup": setup, "pac": f"{setup}proxy.pac", "address": address, "qr": setup}
    offer_becomes(app, address, with_http, "HTTP on")
    assert phone.fetch(setup)[0] == "200", "the phone cannot open the setup page while HTTP is on"

    app.go("settings")
    app.set_checkbox("#http-enabled", False)
    app.save_settings()
    assert settings_file(app.home)["http"] == {"enabled": False}, "the switch was not saved"
    app.go("status")
    app.visible("#http-off-note")
    app.text_becomes("#http-off-note", "in Settings", "HTTP turned off")
    offer_becomes(app, address, {"setup": None, "pac": None, "address": address, "qr": None}, "HTTP off")
    offered = app.el("#share-addresses").text
    assert "http://" not in offered, f"HTTP URLs are still offered: {offered!r}"
    assert not app.el("#visits-block").is_displayed(), "the setup page's visitors are listed with HTTP off"
    status, why, page = phone.fetch(setup)
    assert status == "error" and "reached the proxy" not in page, f"with HTTP off the phone got {status} {why}"
    fetched = curl(proxy_port, web)
    assert fetched.stdout == "hello through the app\n", f"SOCKS stopped with HTTP: {fetched.stderr}"

    app.go("settings")
    app.set_checkbox("#http-enabled", True)
    app.save_settings()
    app.go("status")
    offer_becomes(app, address, with_http, "HTTP on again")
    assert not app.el("#http-off-note").is_displayed(), "the note stays with HTTP on"
    assert phone.fetch(setup)[0] == "200", "the setup page did not come back with HTTP"


def test_a_second_launch_brings_the_first_forward(launch, home, proxy_port):
    app = launch()
    app.el("#server-state")
    visibility = lambda: app.driver.execute_script("return document.visibilityState")  # noqa: E731
    app.driver.minimize_window()
    wait_for("the page hidden once the window is minimised", lambda: visibility() == "hidden")
    env = app_env(home)
    try:
        second = subprocess.run([str(APP)], env=env, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("a second launch kept running beside the first instead of handing over")
    assert second.returncode == 0, f"the second launch failed: {second.stderr.decode(errors='replace')[-2000:]}"
    wait_for("the minimised first window brought forward by the second launch", lambda: visibility() == "visible")
    # The first one is still there and answers: it still shows its fresh
    # state, and starts its server when asked.
    app.go("users")
    app.go("status")
    app.text_becomes("#server-state", "Stopped", "the first app after the second launch")
    app.start_server("starting from the first app after the second launch")
    assert port_open(proxy_port), "the first app says Running but nothing listens"


def test_tray_menu_toggles_the_server_and_its_icon_follows(launch, proxy_port):
    from sni import Panel  # a desktop panel of our own: Xvfb has none

    panel = Panel()
    try:
        app = launch()
        app.text_becomes("#server-state", "Stopped", "before the tray is used")
        deadline = time.monotonic() + WAIT
        while not panel.registered():
            assert time.monotonic() < deadline, "the app registered no tray icon with the desktop's panel"
            time.sleep(0.1)
        item = panel.registered()[0]
        icon_off = panel.item_property(item, "IconName")
        labels = panel.menu_labels(item)
        for wanted in ("Open SocksBox", "Stopped", "Start the proxy", "Copy proxy address", "Quit"):
            assert wanted in labels, f"the tray menu has {sorted(labels)}, not {wanted!r}"
        # A click on a Linux tray icon opens the menu: opening the window
        # comes first, then the state in words.
        top = [label for label, _ in panel.menu_top(item)]
        assert top[:2] == ["Open SocksBox", "Stopped"], f"the tray menu starts {top}"
        assert panel.menu_top(item)[1][1].get("enabled") is False, "the state line can be clicked"

        panel.click(item, labels["Start the proxy"])
        app.text_becomes("#server-state", "Running", "after Start in the tray menu")
        wait_notice(panel, "The proxy is running on 127.0.0.1")
        assert port_open(proxy_port), "the tray started the server but nothing listens"
        deadline = time.monotonic() + WAIT
        while "Stop the proxy" not in panel.menu_labels(item):
            assert time.monotonic() < deadline, f"the tray menu still offers {sorted(panel.menu_labels(item))}"
            time.sleep(0.1)
        assert panel.item_property(item, "IconName") != icon_off, "the tray icon looks the same when on"
        wait_for(
            "the tray menu's state line saying where it runs",
            lambda: panel.menu_top(item)[1][0].startswith(f"Running on 127.0.0.1:{proxy_port} · 0 connections"),
        )
        visibility = lambda: app.driver.execute_script("return document.visibilityState")  # noqa: E731
        app.driver.minimize_window()
        wait_for("the page hidden once the window is minimised", lambda: visibility() == "hidden")
        panel.click(item, panel.menu_labels(item)["Open SocksBox"])
        wait_for("the window brought back by Open SocksBox in the tray menu", lambda: visibility() == "visible")

        panel.click(item, panel.menu_labels(item)["Copy proxy address"])
        expected = f"socks5://127.0.0.1:{proxy_port}"
        deadline = time.monotonic() + WAIT
        while True:
            pasted = subprocess.run(
                ["xclip", "-o", "-selection", "clipboard"], capture_output=True, text=True, timeout=10
            ).stdout
            if pasted == expected:
                break
            assert time.monotonic() < deadline, f"the clipboard holds {pasted!r}, not {expected!r}"
            time.sleep(0.2)

        panel.click(item, panel.menu_labels(item)["Stop the proxy"])
        app.text_becomes("#server-state", "Stopped", "after Stop in the tray menu")
        deadline = time.monotonic() + 5
        while port_open(proxy_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not port_open(proxy_port), "the port is open after Stop in the tray menu"
        wait_notice(panel, "The proxy is stopped.")
    finally:
        panel.close()


def test_launch_at_login_writes_the_autostart_entry(launch, home):
    """The login entry starts the app hidden in the tray (its window
    hidden, its tray icon there), and the tray's Open SocksBox shows it."""
    from sni import Panel

    app = launch()
    app.go("settings")
    app.set_checkbox("#launch-at-login", True)
    app.save_settings()
    entry = home / "home" / ".config" / "autostart" / "SocksBox.desktop"
    deadline = time.monotonic() + WAIT
    while not entry.exists():
        assert time.monotonic() < deadline, f"no autostart entry at {entry}: {list(home.rglob('autostart*'))}"
        time.sleep(0.1)
    exec_line = next((line for line in entry.read_text().splitlines() if line.startswith("Exec=")), "")
    command = shlex.split(exec_line.removeprefix("Exec="))
    assert command == [str(APP), "--hidden"], f"the autostart entry does not start the app hidden: {exec_line!r}"
    app.close()

    panel = Panel()
    try:
        at_login = launch(*command[1:])
        item = wait_for("a tray icon after a start at login", lambda: (panel.registered() or [None])[0])
        visibility = lambda: at_login.driver.execute_script("return document.visibilityState")  # noqa: E731
        wait_for("the page loaded", lambda: visibility() in ("hidden", "visible"))
        assert visibility() == "hidden", "the window shows after a start at login"
        panel.click(item, panel.menu_labels(item)["Open SocksBox"])
        wait_for("the window shown by Open SocksBox in the tray menu", lambda: visibility() == "visible")
        at_login.go("settings")
        at_login.set_checkbox("#launch-at-login", False)
        at_login.save_settings()
        deadline = time.monotonic() + WAIT
        while entry.exists():
            assert time.monotonic() < deadline, "the autostart entry stays after turning it off"
            time.sleep(0.1)
    finally:
        panel.close()


def test_the_upstream_test_button_reports_each_hop(launch, web, home):
    server = REPO / "target" / "debug" / "socksbox-server"
    hop = subprocess.Popen(
        [str(server), "--listen", "127.0.0.1:0", "--log-level", "warn"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = read_line(hop, WAIT)
        assert line.startswith("listening on "), f"the upstream server said {line!r}"
        hop_addr = line.split()[-1]
        app = launch()
        app.go("settings")
        field = app.el("#upstream")
        field.clear()
        field.send_keys(f"socks5://{hop_addr}")
        app.save_settings()
        target = app.el("#test-target")
        target.clear()
        target.send_keys(web.split("/")[2])
        app.el("#test-upstream").click()
        app.text_becomes("#upstream-report", "UDP: OK", "the report of a working chain")
        report = app.el("#upstream-report").text
        assert f"socks5://{hop_addr}: OK" in report, f"the report does not show the hop as working: {report!r}"
        assert "Failed" not in report, f"a step failed: {report!r}"
        app.shot("upstream-test")
        hop.terminate()
        hop.wait(timeout=10)
        app.el("#test-upstream").click()
        app.text_becomes("#upstream-report", "Failed", "the report once the hop is down")
        field = app.el("#upstream")
        field.clear()
        app.save_settings()
    finally:
        if hop.poll() is None:
            hop.kill()


def test_a_locked_keyring_is_reported_and_nothing_is_written(launch, home):
    """It locks the session's keyring, and unlocks it again at its end."""
    from sni import Panel

    settings_file = home / "config" / "socksbox" / "settings.json"
    panel = Panel()
    try:
        app = launch()
        app.go("users")
        before = settings_file.read_text() if settings_file.exists() else None
        panel.lock_keyring()
        app.el("#new-user-name").send_keys("dave")
        app.el("#new-user-password").send_keys("dave-secret-1")
        app.el("#add-user").click()
        banner = app.visible("#keyring-error")
        assert "keyring cannot be reached" in banner.text and "nothing was saved" in banner.text, (
            f"the page says {banner.text!r}"
        )
        assert not app.driver.find_elements(By.CSS_SELECTOR, 'tr[data-user="dave"]'), "a user was added anyway"
        after = settings_file.read_text() if settings_file.exists() else None
        assert after == before, "the settings file changed although the keyring refused"
        assert "dave-secret-1" not in "".join(p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()), (
            "the password was written somewhere in the app's files"
        )
    finally:
        try:
            # The other tests need the keyring unlocked, whatever order they run in.
            panel.unlock_keyring(KEYRING_PASSWORD)
        finally:
            panel.close()


class SlowServer:
    """HTTP servers on loopback that send a known body slowly: CHUNK bytes
    every PAUSE seconds, TOTAL bytes in all, one listening port per target
    so each download is a row of its own. Bounded: a body ends after
    TOTAL / CHUNK * PAUSE seconds, or when its client goes. Six seconds
    leave room for two screenshots on a loaded machine before a test
    closes a download that must still be running."""

    CHUNK, PAUSE, TOTAL = 4096, 0.1, 4096 * 60

    def __init__(self, ports: int):
        self.listeners = []
        for _ in range(ports):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            s.settimeout(0.2)
            self.listeners.append(s)
        self.ports = [s.getsockname()[1] for s in self.listeners]
        self.stopped = threading.Event()
        for s in self.listeners:
            threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, listener):
        while not self.stopped.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    data = conn.recv(4096)
                    if not data:
                        return
                    request += data
                conn.sendall(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {self.TOTAL}\r\n"
                    "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n".encode()
                )
                for _ in range(self.TOTAL // self.CHUNK):
                    if self.stopped.is_set():
                        return
                    conn.sendall(b"x" * self.CHUNK)
                    time.sleep(self.PAUSE)
            except OSError:
                return

    def close(self):
        self.stopped.set()
        for s in self.listeners:
            s.close()


def slow_curl(port: int, target_port: int) -> subprocess.Popen:
    """A download through the proxy that prints what it received: headers,
    body and request sizes, in bytes."""
    return subprocess.Popen(
        [
            "curl",
            "-sS",
            "--max-time",
            "30",
            "-x",
            f"socks5h://127.0.0.1:{port}",
            "-o",
            "/dev/null",
            "-w",
            "%{size_header} %{size_download} %{size_request}",
            f"http://127.0.0.1:{target_port}/slow",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )


def rows_by_target(app: App) -> dict[str, dict]:
    """The open-connection rows on screen, by target, with their figures."""
    return app.driver.execute_script(
        """
        const rows = {};
        for (const tr of document.querySelectorAll('#conn-body tr.row')) {
          rows[tr.cells[3].textContent] = {
            id: tr.dataset.id, down: Number(tr.dataset.bytesDown), up: Number(tr.dataset.bytesUp),
            command: tr.cells[2].textContent, route: tr.cells[4].textContent,
          };
        }
        return rows;
        """
    )


def test_live_connections_grow_close_from_the_view_and_add_up(launch, proxy_port):
    slow = SlowServer(3)
    curls = []
    try:
        app = launch()
        app.text_becomes("#server-state", "Stopped", "a fresh app")
        app.start_server()
        app.go("connections")
        app.text_becomes("#conn-empty", "No open connections.", "before any download")

        curls = [slow_curl(proxy_port, p) for p in slow.ports]
        targets = [f"127.0.0.1:{p}" for p in slow.ports]

        def all_rows():
            rows = rows_by_target(app)
            return rows if all(t in rows for t in targets) else None

        first = wait_for("a row for each download", all_rows)
        assert all(first[t]["command"] == "SOCKS5 CONNECT" and first[t]["route"] == "direct" for t in targets), first
        wait_for(
            "byte counts that grow while the downloads run",
            lambda: all(rows_by_target(app).get(t, {}).get("down", 0) > first[t]["down"] for t in targets),
        )
        assert app.el("#open-count").text == "3"
        app.shot("connections")
        app.shot("connections-table", scroll_to="#per-user-title")

        # Close the middle download from its row: its curl ends, early.
        victim = targets[1]
        app.click(f"#conn-body tr.row[data-id='{first[victim]['id']}'] button.close-one")
        curls[1].wait(timeout=10)
        assert curls[1].returncode != 0, "curl finished the download although its connection was closed"
        assert all(c.poll() is None for c in (curls[0], curls[2])), "closing one row ended other downloads"
        wait_for("the closed row leaves the table", lambda: victim not in rows_by_target(app))

        received = {}
        for target, proc in zip(targets, curls, strict=True):
            out, err = proc.communicate(timeout=30)
            header, body, request = (int(n) for n in out.split())
            received[target] = (header + body, request)
        assert received[victim][0] < slow.TOTAL, "the closed download got its whole body"
        assert received[targets[0]][0] > slow.TOTAL, "an untouched download did not get its whole body"

        # Each closed session's total is what its curl received and sent.
        def closed_rows():
            rows = app.driver.execute_script(
                """
                return Array.from(document.querySelectorAll('#closed-body tr')).map((tr) => ({
                  target: tr.cells[4].textContent, down: Number(tr.dataset.bytesDown), up: Number(tr.dataset.bytesUp),
                }));
                """
            )
            return rows if len(rows) == 3 else None

        closed = {r["target"]: r for r in wait_for("three recently closed sessions", closed_rows)}
        for target in targets:
            assert closed[target]["down"] == received[target][0], (target, closed[target], received[target])
            assert closed[target]["up"] == received[target][1], (target, closed[target], received[target])
        total_down = sum(r[0] for r in received.values())
        total_up = sum(r[1] for r in received.values())
        wait_for(
            "totals that add up to what the three curls received",
            lambda: int(app.el("#total-down").get_attribute("data-bytes")) == total_down,
        )
        assert int(app.el("#total-up").get_attribute("data-bytes")) == total_up
        assert app.el("#total-sessions").text == "3"
        assert app.el("#conn-empty").text == "No open connections."
        user_row = app.driver.execute_script(
            "const tr = document.querySelector('#user-totals tbody tr');"
            "return tr && Array.from(tr.children).map((c) => c.textContent);"
        )
        assert user_row[:3] == ["(no user)", "0", "3"], user_row
    finally:
        for proc in curls:
            if proc.poll() is None:
                proc.kill()
        slow.close()


def test_a_socks4_userid_shows_as_unverified(launch, proxy_port):
    """curl over SOCKS4 naming the USERID bob: its rows, open and closed,
    say "bob (unverified)" with the reason in the title, and bob gets no
    per-user totals (the name is the client's word)."""
    slow = SlowServer(1)
    download = None
    try:
        app = launch()
        app.start_server()
        app.go("connections")
        target = f"127.0.0.1:{slow.ports[0]}"
        download = subprocess.Popen(
            ["curl", "-sS", "--max-time", "30", "-x", f"socks4://bob@127.0.0.1:{proxy_port}", "-o", "/dev/null"]
            + [f"http://{target}/slow"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": os.environ["PATH"]},
        )
        user_cell = """
            for (const tr of document.querySelectorAll(arguments[0])) {
              if (tr.cells[arguments[1]].textContent === arguments[2]) {
                const td = tr.cells[arguments[3]];
                return { text: td.textContent, title: td.title };
              }
            }
            return null;
        """
        unverified = {
            "text": "bob (unverified)",
            "title": "SOCKS4 USERID, not checked: the name the client sent, with no password",
        }
        shown = wait_for(
            "the SOCKS4 download's row", lambda: app.driver.execute_script(user_cell, "#conn-body tr.row", 3, target, 1)
        )
        assert shown == unverified, shown
        app.shot("connections-unverified", scroll_to="#per-user-title")
        _, err = download.communicate(timeout=30)
        assert download.returncode == 0, f"the SOCKS4 download failed: {err}"
        closed = wait_for(
            "the closed SOCKS4 session", lambda: app.driver.execute_script(user_cell, "#closed-body tr", 4, target, 2)
        )
        assert closed == unverified, closed
        users = app.driver.execute_script(
            "return Array.from(document.querySelectorAll('#user-totals tbody tr')).map((tr) => tr.dataset.user);"
        )
        assert "bob" not in users, f"an unverified name has totals of its own: {users}"
    finally:
        if download and download.poll() is None:
            download.kill()
        slow.close()


def test_http_sessions_show_with_their_protocol_user_and_bytes(launch, proxy_port):
    """Two downloads through the HTTP side of the port, with a user's
    password: one forwarded (curl -x http://), one through a CONNECT tunnel
    (-p). Each is a row saying HTTP with its command, the user and growing
    byte counts, and both downloads arrive whole."""
    slow = SlowServer(2)
    downloads = []
    try:
        app = launch()
        add_user_and_require_passwords(app, "dana", "dana-http-pw")
        app.go("status")
        app.start_server()
        app.go("connections")
        for port, tunnel in zip(slow.ports, ([], ["-p"]), strict=True):
            downloads.append(
                subprocess.Popen(
                    ["curl", "-sS", "--max-time", "30", "-x", f"http://dana:dana-http-pw@127.0.0.1:{proxy_port}"]
                    + tunnel
                    + ["-o", "/dev/null", "-w", "%{http_code} %{size_download}", f"http://127.0.0.1:{port}/slow"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={"PATH": os.environ["PATH"]},
                )
            )
        forwarded, tunnelled = (f"127.0.0.1:{p}" for p in slow.ports)

        def both():
            rows = rows_by_target(app)
            return rows if forwarded in rows and tunnelled in rows else None

        first = wait_for("a row for each HTTP download", both)
        assert first[forwarded]["command"] == "HTTP FORWARD", first
        assert first[tunnelled]["command"] == "HTTP CONNECT", first
        users = app.driver.execute_script(
            "return Array.from(document.querySelectorAll('#conn-body tr.row')).map((tr) => tr.cells[1].textContent);"
        )
        assert users == ["dana", "dana"], users
        wait_for(
            "byte counts that grow while the HTTP downloads run",
            lambda: all(
                rows_by_target(app).get(t, {}).get("down", 0) > first[t]["down"] for t in (forwarded, tunnelled)
            ),
        )
        for download in downloads:
            out, err = download.communicate(timeout=30)
            assert download.returncode == 0 and out == f"200 {SlowServer.TOTAL}", f"{out} {err}"
    finally:
        for download in downloads:
            if download.poll() is None:
                download.kill()
        slow.close()


def test_close_all_ends_every_download_and_the_tray_counts_them(launch, proxy_port):
    from sni import Panel

    panel = Panel()
    slow = SlowServer(2)
    curls = []
    try:
        app = launch()
        app.start_server()
        item = wait_for("a tray icon", lambda: (panel.registered() or [None])[0])
        curls = [slow_curl(proxy_port, p) for p in slow.ports]
        # The tray's first menu line follows the connections and the rate,
        # without the window watching.
        wait_for(
            "the tray menu counting two connections with data flowing",
            lambda: any(
                label.startswith(f"Running on 127.0.0.1:{proxy_port} · 2 connections · ↓ ")
                and not label.startswith(f"Running on 127.0.0.1:{proxy_port} · 2 connections · ↓ 0 B/s")
                for label in panel.menu_labels(item)
            ),
        )
        app.go("connections")
        wait_for("two rows", lambda: len(rows_by_target(app)) == 2)
        app.click("#close-all")
        app.visible("#confirm-close-all")
        assert "2 open connections will end" in app.el("#confirm-close-all-text").text
        app.click("#confirm-close-all-yes")
        for proc in curls:
            proc.wait(timeout=10)
            assert proc.returncode != 0, "a download went on after Close all"
        app.text_becomes("#conn-notice", "Closed 2 connections.", "after Close all")
        wait_for("an empty table", lambda: not rows_by_target(app))
        wait_for(
            "the tray menu counting no connections",
            lambda: any(
                label.startswith(f"Running on 127.0.0.1:{proxy_port} · 0 connections")
                for label in panel.menu_labels(item)
            ),
        )
    finally:
        for proc in curls:
            if proc.poll() is None:
                proc.kill()
        slow.close()
        panel.close()


def test_the_live_view_sleeps_while_the_window_is_minimised(launch, home):
    app = launch()
    app.go("connections")
    messages = lambda: int(app.el("#view-connections").get_attribute("data-messages") or 0)  # noqa: E731
    wait_for("ticks while the view is shown", lambda: messages() >= 2)
    watching = app_log(home).count("live view watching")
    stopped = app_log(home).count("live view stopped watching")
    assert watching >= 1, "the log does not show the view watching"

    app.driver.minimize_window()
    wait_for(
        "the sampler told to stop when the window is minimised",
        lambda: app_log(home).count("live view stopped watching") > stopped,
    )
    before = messages()
    time.sleep(3)
    assert messages() == before, "messages reached the view while the window was minimised"

    app.driver.maximize_window()
    wait_for("watching again once the window is back", lambda: app_log(home).count("live view watching") > watching)
    wait_for("ticks again once the window is back", lambda: messages() >= before + 2)

    # Another view: the sampler stops too.
    stopped = app_log(home).count("live view stopped watching")
    app.go("status")
    wait_for(
        "the sampler told to stop on leaving the view",
        lambda: app_log(home).count("live view stopped watching") > stopped,
    )


def test_quit_from_the_tray_stops_the_server_and_exits(launch, proxy_port, home):
    """Quit with sessions open: the server stops (its port closes) and the
    app exits on its own, without hanging on the tray it updates while
    stopping."""
    from sni import Panel

    panel = Panel()
    slow = SlowServer(1)
    download = None
    try:
        app = launch()
        app.start_server()
        item = wait_for("a tray icon", lambda: (panel.registered() or [None])[0])
        download = slow_curl(proxy_port, slow.ports[0])
        wait_for(
            "the tray menu counting the download",
            lambda: any(
                label.startswith(f"Running on 127.0.0.1:{proxy_port} · 1 connection")
                for label in panel.menu_labels(item)
            ),
        )
        pids = app_pids(home)
        assert pids, "no app process found for this test's home"
        panel.click(item, panel.menu_labels(item)["Quit"])
        wait_for("the app exits after Quit", lambda: not app_pids(home), timeout=10)
        assert not port_open(proxy_port), "the proxy still listens after Quit"
        download.wait(timeout=10)
        assert download.returncode != 0, "the download went on after the app quit"
    finally:
        if download and download.poll() is None:
            download.kill()
        slow.close()
        panel.close()


class Echo:
    """An echo service on loopback, TCP and UDP on one port: what a
    mapping in the tests leads to. Each TCP connection echoes until its
    client closes; each datagram comes back to its sender."""

    def __init__(self):
        for _ in range(20):
            self.tcp = socket.socket()
            self.tcp.bind(("127.0.0.1", 0))
            self.port = self.tcp.getsockname()[1]
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.udp.bind(("127.0.0.1", self.port))
                break
            except OSError:  # the UDP port is taken: another pair
                self.tcp.close()
                self.udp.close()
        else:
            raise AssertionError("no port free for both TCP and UDP on 127.0.0.1")
        self.tcp.listen(16)
        self.tcp.settimeout(0.2)
        self.udp.settimeout(0.2)
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._datagrams, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn):
        with conn:
            conn.settimeout(30)
            with contextlib.suppress(OSError):
                while data := conn.recv(65536):
                    conn.sendall(data)

    def _datagrams(self):
        while not self.stopped.is_set():
            try:
                data, peer = self.udp.recvfrom(65536)
                self.udp.sendto(data, peer)
            except OSError:
                continue

    def close(self):
        self.stopped.set()
        self.tcp.close()
        self.udp.close()


def echoed_over_tcp(port: int, data: bytes) -> socket.socket:
    """A connection to port that sent data and got it back whole; left open."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    received = b""
    while len(received) < len(data):
        chunk = s.recv(65536)
        assert chunk, f"the connection through port {port} closed after {len(received)} of {len(data)} bytes"
        received += chunk
    assert received == data, f"port {port} gave back other bytes than it was sent"
    return s


def echoed_over_udp(port: int, data: bytes) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(data, ("127.0.0.1", port))
        try:
            return s.recvfrom(65536)[0] == data
        except OSError:
            return False


def open_mapping_dialog(app: App, row: str | None = None):
    """Opens the add dialog (or the edit dialog of the mapping named row)."""
    app.click(f'tr[data-mapping="{row}"] .edit' if row else "#add-mapping")
    app.visible("#mapping-listen")


def fill_mapping(app: App, name: str, listen: str, target: str, protocol: str = "tcp"):
    app.fill_in("#mapping-name", name)
    app.fill_in("#mapping-listen", listen)
    app.fill_in("#mapping-target", target)
    Select(app.el("#mapping-protocol")).select_by_value(protocol)


def save_mapping(app: App, name: str):
    """Saves the dialog and waits until it closed and the mapping's row is there."""
    app.el("#mapping-save").click()
    try:
        WebDriverWait(app.driver, WAIT).until(
            lambda d: not d.find_element(By.CSS_SELECTOR, "#mapping-dialog").is_displayed()
        )
    except Exception:
        errors = app.driver.execute_script(
            "return Array.from(document.querySelectorAll('#mapping-dialog .field-error')).map((e) => e.textContent);"
        )
        raise AssertionError(f"the mapping dialog stayed open; it says {errors}") from None
    app.el(f'tr[data-mapping="{name}"]')


def mapping_text(app: App, name: str, part: str = ".state") -> str | None:
    """The text of a part of a mapping's row, or None without the row. Read
    in one script: the table is redrawn whenever the list changes, so an
    element found earlier may be gone."""
    return app.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
        f'tr[data-mapping="{name}"] {part}',
    )


def mapping_state(app: App, name: str) -> str:
    return mapping_text(app, name) or ""


def mapping_state_becomes(app: App, name: str, expected: str, what: str, part: str = ".state"):
    deadline = time.monotonic() + WAIT
    while expected not in (shown := mapping_text(app, name, part) or ""):
        assert time.monotonic() < deadline, f"{what}: the row of {name} shows {shown!r}, expected {expected!r}"
        time.sleep(0.1)


def saved_mappings(home: Path) -> dict[str, dict]:
    return {m.get("name") or m["listen"]: m for m in settings_file(home).get("mappings", [])}


def port_closes(port: int, what: str):
    wait_for(what, lambda: not port_open(port))


def mapped_rows(app: App, label: str) -> list[dict]:
    """The open-connection rows whose command is `label` ("mapping echo")."""
    return app.driver.execute_script(
        """
        return Array.from(document.querySelectorAll('#conn-body tr.row'))
          .filter((tr) => tr.cells[2].textContent === arguments[0])
          .map((tr) => ({ id: tr.dataset.id, target: tr.cells[3].textContent, up: Number(tr.dataset.bytesUp) }));
        """,
        label,
    )


def test_a_mapping_is_added_forwards_shows_live_stops_and_is_removed(launch, proxy_port, home):
    """Through the Mappings view: fields refused naming the field (in the
    page and by the app), a TCP and UDP mapping to an echo service that
    forwards bytes both ways, its sessions in the live view under its name
    and closed from there, Stop closing its port and Start opening it
    again, each change saved, and Remove."""
    echo = Echo()
    held = []
    try:
        app = launch()
        app.start_server()
        app.go("mappings")
        app.text_becomes("#mappings-empty", "There are no mappings yet.", "a fresh app")
        listen = free_port()
        open_mapping_dialog(app)
        fill_mapping(app, "echo", f"127.0.0.1:{listen}", "127.0.0.1", "both")
        app.el("#mapping-save").click()
        app.text_becomes("#error-mapping-target", '"127.0.0.1" is not a destination', "a target without a port")
        assert app.el("#mapping-target").get_attribute("aria-invalid") == "true"
        # The page cannot know the proxy's port: the app refuses it, naming the field.
        fill_mapping(app, "echo", f"127.0.0.1:{proxy_port}", f"127.0.0.1:{echo.port}", "both")
        app.el("#mapping-save").click()
        app.text_becomes("#error-mapping-listen", "the proxy's own port", "a mapping on the proxy's port")
        app.shot("mapping-dialog")
        assert not settings_file(home).get("mappings"), "a refused mapping was saved"
        assert port_open(proxy_port), "a refused mapping disturbed the proxy"

        app.fill_in("#mapping-listen", f"127.0.0.1:{listen}")
        save_mapping(app, "echo")
        mapping_state_becomes(app, "echo", f"Listening on 127.0.0.1:{listen} (TCP and UDP)", "the new mapping")
        saved = saved_mappings(home)["echo"]
        assert saved == {
            "name": "echo",
            "listen": f"127.0.0.1:{listen}",
            "target": f"127.0.0.1:{echo.port}",
            "protocol": "both",
            "route": "rules",
            "enabled": True,
        }, saved
        payload = os.urandom(200_000)
        held.append(echoed_over_tcp(listen, payload))
        assert echoed_over_udp(listen, b"datagram through the mapping"), "no UDP echo through the mapping"
        app.shot("mapping-added")

        # Its sessions in the live view, under its name; closing one ends the client's connection.
        app.go("connections")
        tcp_rows = wait_for("the mapped TCP session in the live view", lambda: mapped_rows(app, "mapping echo"))
        assert tcp_rows[0]["target"] == f"127.0.0.1:{echo.port}", tcp_rows
        carried = lambda: sum(r["up"] for r in mapped_rows(app, "mapping echo"))  # noqa: E731
        wait_for("the bytes it carried, in its row", lambda: carried() >= len(payload))
        wait_for("the mapped UDP flow in the live view", lambda: mapped_rows(app, "mapping echo UDP"))
        app.shot("connections-mapping", scroll_to="#open-title")
        app.click(f"#conn-body tr.row[data-id='{tcp_rows[0]['id']}'] button.close-one")
        assert closed_within(held[0], 5) is not None, "the mapped connection stayed open after Close"
        wait_for("the closed session leaves the table", lambda: not mapped_rows(app, "mapping echo"))

        # Stop closes the port, Start opens it again; both saved.
        app.go("mappings")
        app.click('tr[data-mapping="echo"] .toggle')
        mapping_state_becomes(app, "echo", "Stopped", "after Stop")
        port_closes(listen, "the mapping's port closes on Stop")
        assert saved_mappings(home)["echo"]["enabled"] is False
        assert port_open(proxy_port), "stopping a mapping stopped the proxy"
        mapping_state_becomes(app, "echo", "Start", "the button after Stop", part=".toggle")
        app.click('tr[data-mapping="echo"] .toggle')
        mapping_state_becomes(app, "echo", "Listening on", "after Start")
        held.append(echoed_over_tcp(listen, b"again"))
        assert saved_mappings(home)["echo"]["enabled"] is True

        # Edited: the same port leads elsewhere (nothing listens there), at once.
        nowhere = free_port()
        open_mapping_dialog(app, "echo")
        assert app.el("#mapping-listen").get_attribute("value") == f"127.0.0.1:{listen}"
        app.fill_in("#mapping-target", f"127.0.0.1:{nowhere}")
        Select(app.el("#mapping-protocol")).select_by_value("tcp")
        save_mapping(app, "echo")
        mapping_state_becomes(app, "echo", f"Listening on 127.0.0.1:{listen} (TCP)", "after the edit")
        assert closed_within(held[1], 5) is not None, "a session of the old mapping outlived its change"
        assert saved_mappings(home)["echo"]["target"] == f"127.0.0.1:{nowhere}"

        app.click('tr[data-mapping="echo"] .remove')
        app.visible("#confirm-remove-mapping-yes").click()
        WebDriverWait(app.driver, WAIT).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-mapping="echo"]'),
            "the removed mapping is still listed",
        )
        port_closes(listen, "the removed mapping's port closes")
        assert saved_mappings(home) == {}, settings_file(home)
    finally:
        for s in held:
            s.close()
        echo.close()


def test_a_refused_target_and_a_port_in_use_are_said_in_words(launch, proxy_port, home):
    """A mapping whose target refuses closes each client's connection at
    once and says why in its row and in the log; one on a port another
    program holds fails in words, and the other mapping, the proxy and a
    retry once the port is free all work."""
    echo = Echo()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy = blocker.getsockname()[1]
    try:
        app = launch()
        app.start_server()
        app.go("mappings")
        refused, nowhere = free_port(), free_port()
        open_mapping_dialog(app)
        fill_mapping(app, "nowhere", f"127.0.0.1:{refused}", f"127.0.0.1:{nowhere}")
        save_mapping(app, "nowhere")
        open_mapping_dialog(app)
        fill_mapping(app, "busy", f"127.0.0.1:{busy}", f"127.0.0.1:{echo.port}")
        save_mapping(app, "busy")
        mapping_state_becomes(app, "busy", "Failed: cannot listen on", "a mapping on a port in use")
        assert "in use" in mapping_state(app, "busy"), mapping_state(app, "busy")
        app.el('tr[data-mapping="busy"] .retry')

        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", refused), timeout=5) as s:
                took = closed_within(s, 5)
        except ConnectionResetError:  # reset before connect() returned
            took = time.monotonic() - started
        assert took is not None and took < 2, f"a connection to a refusing target was not closed at once ({took})"
        mapping_state_becomes(
            app, "nowhere", f"Last error: cannot reach 127.0.0.1:{nowhere}", "the refusal, in its row"
        )
        assert "refused" in mapping_state(app, "nowhere").lower(), mapping_state(app, "nowhere")
        assert f"cannot reach 127.0.0.1:{nowhere}" in app_log(home), "the log does not say why the connection closed"
        assert port_open(proxy_port), "a mapping's failure stopped the proxy"
        try:
            socket.create_connection(("127.0.0.1", refused), timeout=5).close()
        except ConnectionResetError:
            pass  # it listens, and closes at once: its target refuses
        except ConnectionRefusedError:
            raise AssertionError("a failed connection closed the mapping's port") from None
        app.shot("mappings")

        blocker.close()
        app.click('tr[data-mapping="busy"] .retry')
        mapping_state_becomes(app, "busy", f"Listening on 127.0.0.1:{busy}", "the retry once the port is free")
        echoed_over_tcp(busy, b"through the retried mapping").close()

        # Stopped with the proxy, and listening again when it starts.
        app.go("status")
        app.toggle_server()
        app.text_becomes("#server-state", "Stopped", "after Stop")
        port_closes(busy, "the mappings' ports close with the proxy")
        app.go("mappings")
        mapping_state_becomes(app, "busy", "Not listening: the proxy is stopped", "while the proxy is stopped")
        app.go("status")
        app.start_server("starting the proxy again")
        wait_for("the mapping listens again with the proxy", lambda: port_open(busy))
    finally:
        blocker.close()
        echo.close()


SOCKS_CONNECT, SOCKS_BIND = 1, 2
SOCKS_SUCCEEDED, SOCKS_NOT_ALLOWED = 0x00, 0x02


def recv_exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, f"the proxy closed the connection after {data!r}, {n} bytes expected"
        data += chunk
    return data


def socks5_request(
    port: int, user: str, password: str, command: int, target: tuple[str, int], source: str = "127.0.0.1"
) -> tuple[int, socket.socket]:
    """A SOCKS5 request from `source` with an RFC 1929 login: the reply
    code, and the connection (open on success, for the caller to close).
    The login must succeed: a policy refuses after it, in the reply."""
    s = connect_from(source, port)
    try:
        s.sendall(b"\x05\x01\x02")
        assert recv_exactly(s, 2) == b"\x05\x02", "the proxy did not choose username/password"
        u, p = user.encode(), password.encode()
        s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        status = recv_exactly(s, 2)
        assert status == b"\x01\x00", f"the login as {user} was refused ({status!r}), not the request"
        host, dst_port = target
        s.sendall(bytes([5, command, 0, 1]) + socket.inet_aton(host) + dst_port.to_bytes(2, "big"))
        head = recv_exactly(s, 4)
        length = {1: 4, 4: 16}.get(head[3])
        if length is None:
            length = recv_exactly(s, 1)[0]
        recv_exactly(s, length + 2)
        return head[1], s
    except BaseException:
        s.close()
        raise


def socks5_reply(
    port: int, user: str, password: str, command: int, target: tuple[str, int], source: str = "127.0.0.1"
) -> int:
    reply, s = socks5_request(port, user, password, command, target, source)
    s.close()
    return reply


def address_of(url: str) -> tuple[str, int]:
    host_port = url.split("/")[2]
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


def edit_user_limits(app: App, name: str, fields: dict[str, str], boxes: dict[str, bool] | None = None):
    """Opens the user's Limits dialog, fills in fields (by id), sets the
    command boxes, saves, and waits until the dialog closed."""
    app.click(f'tr[data-user="{name}"] .policy')
    app.visible("#user-policy-rate-limit")
    for css, value in fields.items():
        app.fill_in(css, value)
    for command, on in (boxes or {}).items():
        app.set_checkbox(f"#user-policy-command-{command}", on)
    app.el("#user-policy-save").click()
    try:
        WebDriverWait(app.driver, WAIT).until(
            lambda d: not d.find_element(By.CSS_SELECTOR, "#user-policy-dialog").is_displayed()
        )
    except Exception:
        errors = app.driver.execute_script(
            "return Array.from(document.querySelectorAll('#user-policy-dialog .field-error'))"
            ".map((e) => e.textContent).filter(Boolean);"
        )
        raise AssertionError(f"the limits dialog stayed open; it says {errors}") from None


def user_cell(app: App, name: str, part: str) -> str:
    """The text of a part of a user's row, read in one script (the table is
    redrawn whenever the list changes)."""
    return app.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
        f'tr[data-user="{name}"] {part}',
    )


def test_a_users_limits_and_expiry_and_a_devices_hold_through_the_proxy(launch, proxy_port, web, web_elsewhere, home):
    """Through the Users view: a bad bandwidth is named next to its field;
    the guest is given CONNECT only, a refused destination and a quota, and
    a real SOCKS5 client logged in as guest then gets 0x02 for BIND and for
    that destination and 0x00 for another, while alice keeps BIND; an
    expiry in the past shows the guest as expired, ends its open connection
    and refuses it. Through the Devices view: a device entry for 127.0.0.2
    refuses alice from there only. The quota is counted in the app's
    folder."""
    guest_password = "guest-pass-42"
    app = launch()
    add_user_and_require_passwords(app, USER, PASSWORD)
    app.go("users")
    app.el("#new-user-name").send_keys("guest")
    app.el("#new-user-password").send_keys(guest_password)
    app.el("#add-user").click()
    app.el('tr[data-user="guest"]')
    assert user_cell(app, "guest", ".state") == "Active"
    assert user_cell(app, "guest", ".limits") == "No limits"
    app.go("status")
    app.start_server()
    here, elsewhere = address_of(web), address_of(web_elsewhere)
    bind_any = ("0.0.0.0", 0)

    # Before any limit: the guest may BIND and reach 127.0.0.2 (so the refusals below are the policy's).
    assert socks5_reply(proxy_port, "guest", guest_password, SOCKS_BIND, bind_any) == SOCKS_SUCCEEDED, (
        "BIND before any limit"
    )
    assert socks5_reply(proxy_port, "guest", guest_password, SOCKS_CONNECT, elsewhere) == SOCKS_SUCCEEDED, (
        "CONNECT to 127.0.0.2 before any limit"
    )

    app.go("users")
    app.click('tr[data-user="guest"] .policy')
    app.visible("#user-policy-rate-limit")
    app.fill_in("#user-policy-rate-limit", "fast")
    app.text_becomes(
        "#error-user-policy-rate-limit",
        '"fast" is not a rate (such as "2 MB/s").',
        "a bad bandwidth, in proxy-core's words",
    )
    assert app.el("#user-policy-rate-limit").get_attribute("aria-invalid") == "true"
    app.shot("user-limits-dialog")
    app.el("#user-policy-save").click()
    assert app.el("#user-policy-dialog").is_displayed(), "the dialog closed with a bad bandwidth"
    app.el("#user-policy-cancel").click()
    assert settings_file(home)["users"][1]["policy"]["rateLimit"] == "", "a refused limit was saved"

    edit_user_limits(
        app,
        "guest",
        {"#user-policy-rate-limit": "", "#user-policy-quota": "5 GB/day", "#user-policy-deny-targets": "127.0.0.2"},
        {"bind": False, "udp": False},
    )
    wait_for("the guest's limits in its row", lambda: "connect only" in user_cell(app, "guest", ".limits"))
    assert user_cell(app, "guest", ".limits") == "5 GB/day · connect only · not 127.0.0.2"
    app.shot("users-limits")
    policy = settings_file(home)["users"][1]["policy"]
    assert (policy["commands"], policy["denyTargets"], policy["quota"]) == (["connect"], ["127.0.0.2"], "5 GB/day"), (
        policy
    )
    assert guest_password not in json.dumps(settings_file(home)), "a password was written into the settings"

    # At once, for a real client logged in as guest.
    bind = socks5_reply(proxy_port, "guest", guest_password, SOCKS_BIND, bind_any)
    assert bind == SOCKS_NOT_ALLOWED, f"the guest's BIND, with CONNECT only allowed, got {bind:#04x}"
    denied = socks5_reply(proxy_port, "guest", guest_password, SOCKS_CONNECT, elsewhere)
    assert denied == SOCKS_NOT_ALLOWED, f"the guest's CONNECT to its refused destination got {denied:#04x}"
    reply, held = socks5_request(proxy_port, "guest", guest_password, SOCKS_CONNECT, here)
    try:
        assert reply == SOCKS_SUCCEEDED, f"the guest's CONNECT to an allowed destination got {reply:#04x}"
        held.sendall(b"GET /page.html HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := held.recv(65536):
            answer += chunk
        assert answer.endswith(b"hello through the app\n"), answer[-200:]
    finally:
        held.close()
    assert socks5_reply(proxy_port, USER, PASSWORD, SOCKS_BIND, bind_any) == SOCKS_SUCCEEDED, "alice lost BIND too"
    wait_for("the log says whose rule refused", lambda: "user guest: may not use bind (only connect)" in app_log(home))

    # Expired: shown so, its open connection ended, refused after its login.
    reply, held = socks5_request(proxy_port, "guest", guest_password, SOCKS_CONNECT, here)
    try:
        assert reply == SOCKS_SUCCEEDED
        edit_user_limits(app, "guest", {"#user-policy-expires": "2020-01-01T00:00:00Z"})
        wait_for("the guest shown as expired", lambda: user_cell(app, "guest", ".state") == "Expired")
        app.shot("users-expired")
        assert closed_within(held, 5) is not None, "the expired guest's connection stayed open"
    finally:
        held.close()
    expired = socks5_reply(proxy_port, "guest", guest_password, SOCKS_CONNECT, here)
    assert expired == SOCKS_NOT_ALLOWED, f"the expired guest's CONNECT got {expired:#04x}"
    assert settings_file(home)["users"][1]["policy"]["expires"] == "2020-01-01T00:00:00Z"
    assert socks5_reply(proxy_port, USER, PASSWORD, SOCKS_CONNECT, here) == SOCKS_SUCCEEDED, "alice expired too"

    # A device: alice from 127.0.0.2 may not reach 127.0.0.1; from 127.0.0.1 she still may.
    assert socks5_reply(proxy_port, USER, PASSWORD, SOCKS_CONNECT, here, source="127.0.0.2") == SOCKS_SUCCEEDED, (
        "alice from 127.0.0.2 before the device entry"
    )
    app.go("devices")
    app.text_becomes("#devices-empty", "There are no devices yet.", "a fresh app")
    app.el("#add-device").click()
    app.visible("#device-address")
    app.fill_in("#device-address", "phone")
    app.text_becomes("#error-device-address", '"phone" is not "loopback", "lan", "any"', "a bad address")
    app.fill_in("#device-name", "lab")
    app.fill_in("#device-address", "127.0.0.2")
    app.fill_in("#device-policy-deny-targets", "127.0.0.1")
    app.el("#device-save").click()
    WebDriverWait(app.driver, WAIT).until(
        lambda d: not d.find_element(By.CSS_SELECTOR, "#device-dialog").is_displayed(), "the device dialog stayed open"
    )
    app.text_becomes('tr[data-device="lab"] .address', "127.0.0.2/32", "the device's row")
    app.text_becomes('tr[data-device="lab"] .limits', "not 127.0.0.1", "the device's limits")
    app.shot("devices")
    device = settings_file(home)["devices"][0]
    assert (device["name"], device["address"], device["policy"]["denyTargets"]) == (
        "lab",
        "127.0.0.2/32",
        ["127.0.0.1"],
    )
    from_device = socks5_reply(proxy_port, USER, PASSWORD, SOCKS_CONNECT, here, source="127.0.0.2")
    assert from_device == SOCKS_NOT_ALLOWED, (
        f"alice from the device, to a destination it may not reach, got {from_device:#04x}"
    )
    assert socks5_reply(proxy_port, USER, PASSWORD, SOCKS_CONNECT, here) == SOCKS_SUCCEEDED, (
        "the device's rule held for another address"
    )

    # The guest's bytes were counted against its quota, kept beside the settings.
    app.go("status")
    app.toggle_server()
    app.text_becomes("#server-state", "Stopped", "after Stop")
    quota = home / "config" / "socksbox" / "quota.toml"
    wait_for("the quota counts written at stop", quota.exists)
    assert '"user guest"' in quota.read_text(), quota.read_text()


# ---- guest passes, use against quotas, their notices


def bulk_url(web: str, size: int) -> str:
    """The URL of the page server's file of `size` bytes (see BULK_SIZES)."""
    return f"{web.rsplit('/', 1)[0]}/bulk-{size}.bin"


def fetch_bytes(port: int, url: str, user: str, http: bool = False) -> subprocess.CompletedProcess:
    """curl through the proxy (SOCKS5, or its HTTP side), logged in as
    `user` ("name:password"); stdout is the number of bytes received."""
    proxy = f"http://127.0.0.1:{port}" if http else f"socks5h://127.0.0.1:{port}"
    cmd = ["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{size_download}", "-x", proxy]
    cmd += ["--proxy-user", user, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, env={"PATH": os.environ["PATH"]})


def make_guest_pass(app: App, hours: str = "", gigabytes: str = "", name: str = "") -> dict:
    """Makes a guest pass in the Users view's dialog and reads its card."""
    app.go("users")
    app.click("#guest-pass")
    app.visible("#guest-hours")
    for css, value in (("#guest-hours", hours), ("#guest-gigabytes", gigabytes), ("#guest-name", name)):
        if value:
            app.fill_in(css, value)
        else:
            app.el(css).clear()
    app.el("#guest-create").click()
    try:
        app.visible("#guest-card")
    except Exception:
        errors = app.driver.execute_script(
            "return Array.from(document.querySelectorAll('#guest-dialog .field-error'))"
            ".map((e) => e.textContent).filter(Boolean);"
        )
        raise AssertionError(f"no guest pass card; the dialog says {errors}") from None
    return app.driver.execute_script(
        """
        const one = (css) => document.querySelector(css)?.textContent ?? "";
        const all = (css) => Array.from(document.querySelectorAll(css)).map((e) => e.textContent);
        return {
          name: one("#guest-credentials .guest-user"),
          password: one("#guest-credentials .guest-password"),
          socks: all("#guest-credentials .guest-socks"),
          http: all("#guest-credentials .guest-http"),
          ends: one("#guest-card-ends"),
          warnings: all("#guest-warnings li"),
          qr: all("#guest-qr .qr").length,
        };
        """
    )


def close_guest_card(app: App):
    app.el("#guest-done").click()
    WebDriverWait(app.driver, WAIT).until(
        lambda d: not d.find_element(By.CSS_SELECTOR, "#guest-dialog").is_displayed(),
        "the guest pass dialog stayed open",
    )


def keyring_holds(panel, name: str) -> bool:
    """Whether the keyring holds a password for the user `name`."""
    return bool(panel.secret_items({"service": "socksbox", "username": f"user:{name}"}))


def owner_row(app: App, owner: str) -> dict | None:
    """The cells of an owner's row in the Connections view's use against
    limits, read in one script (the table is redrawn when figures change)."""
    return app.driver.execute_script(
        """
        const row = document.querySelector(`#owner-use tr[data-owner="${arguments[0]}"]`);
        if (!row) return null;
        const cells = Array.from(row.children).map((c) => c.textContent);
        const state = row.querySelector("td.state");
        return { name: cells[0], today: cells[1], month: cells[2], quota: cells[3], rate: cells[4],
                 state: cells[5], reason: state ? state.title : "" };
        """,
        owner,
    )


def amount(text: str) -> float:
    """Bytes in a size as the window writes it ("850 kB", "1.2 MB")."""
    number, unit = text.split()
    return float(number) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]


def test_a_guest_pass_is_made_used_shown_and_revoked(launch, proxy_port, web, home):
    """The Guest pass dialog names each bad field (0, negative, not a
    number, over 90 days, 0 GB) and makes nothing; with 2 hours and 1 GB it
    makes a pass whose card gives a generated name and password and the
    proxy's addresses. The pass is a guest pass in the settings (its
    password only in the keyring), signs in through SOCKS5 and HTTP with
    curl, and its 850 kB transfer shows as its use on the Users page and in
    Connections. Revoked from its row, its open connection ends, its login
    is refused and its password leaves the keyring; a new pass under its
    name starts from nothing, the proxy having forgotten its use."""
    from sni import Panel

    panel = Panel()
    try:
        app = launch()
        add_user_and_require_passwords(app, USER, PASSWORD)
        app.go("status")
        app.start_server()
        app.go("users")
        app.click("#guest-pass")
        app.visible("#guest-hours")
        for hours, said in (
            ("0", "0 is out of range: enter a number of hours above 0"),
            ("-2", "-2 is out of range"),
            ("soon", '"soon" is not a number of hours'),
            ("5000", "at most 2160 (90 days)"),
        ):
            app.fill_in("#guest-hours", hours)
            app.text_becomes("#error-guest-hours", said, f"{hours!r} hours")
            assert app.el("#guest-hours").get_attribute("aria-invalid") == "true"
        app.fill_in("#guest-gigabytes", "0")
        app.text_becomes("#error-guest-gigabytes", "0 is out of range: enter a number of GB", "0 GB")
        app.shot("guest-pass-errors")
        app.el("#guest-create").click()
        assert not app.el("#guest-card").is_displayed(), "a pass was made with bad numbers"
        assert [u["name"] for u in settings_file(home)["users"]] == [USER], "a bad pass reached the settings"
        app.el("#guest-cancel").click()

        card = make_guest_pass(app, hours="2", gigabytes="1")
        name, password = card["name"], card["password"]
        assert re.fullmatch(r"guest-[a-km-z2-9]{4}", name), f"generated name {name!r}"
        assert len(password) == 16 and password.isalnum(), f"generated password {password!r}"
        assert card["socks"] == [f"127.0.0.1:{proxy_port}"] and card["http"] == card["socks"], card
        assert card["ends"].startswith("Ends on ") and "or after 1 GB" in card["ends"], card["ends"]
        assert any("Share on my network" in w for w in card["warnings"]), card["warnings"]
        assert card["qr"] == 0, "a QR code for a proxy no other device reaches"
        app.shot("guest-pass-card")
        entry = next(u for u in settings_file(home)["users"] if u["name"] == name)
        assert entry["guest"] is True and entry["policy"]["quota"] == "1 GB/total", entry
        expires = time.mktime(time.strptime(entry["policy"]["expires"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert abs(expires - (time.time() + 2 * 3600)) < 120, f"expires {entry['policy']['expires']}"
        assert password not in json.dumps(settings_file(home)), "the guest's password was written into the settings"
        assert keyring_holds(panel, name), "the guest's password is not in the keyring"
        close_guest_card(app)
        assert user_cell(app, name, ".guest-badge") == "Guest pass"
        assert app.driver.find_elements(By.CSS_SELECTOR, f'tr[data-user="{name}"] button.revoke')

        login = f"{name}:{password}"
        for http in (False, True):
            fetched = curl(proxy_port, web, login) if not http else fetch_bytes(proxy_port, web, login, http=True)
            assert fetched.returncode == 0, f"the guest pass through {'HTTP' if http else 'SOCKS5'}: {fetched.stderr}"
        moved = fetch_bytes(proxy_port, bulk_url(web, 850_000), login)
        assert moved.returncode == 0 and moved.stdout == "850000", f"{moved.stdout} bytes, {moved.stderr}"

        def quota_line():
            text = user_cell(app, name, ".use-quota")
            return text if text.endswith(" of 1 GB in all") and amount(text.split(" of ")[0]) >= 850_000 else None

        quota = wait_for("the guest's use on the Users page", quota_line)
        assert amount(quota.split(" of ")[0]) < 900_000, quota
        assert user_cell(app, name, ".use-periods").startswith("today "), user_cell(app, name, ".use-periods")
        assert user_cell(app, name, ".use-rate").endswith("/s"), user_cell(app, name, ".use-rate")
        assert user_cell(app, name, ".state") == "Active"
        app.shot("users-guest-pass")
        app.go("connections")
        row = wait_for(
            "the guest's use in Connections",
            lambda: (r := owner_row(app, f"user {name}")) and r["quota"].endswith("of 1 GB in all") and r,
        )
        assert amount(row["today"]) >= 850_000 and row["state"] == "Active", row
        app.shot("connections-use", scroll_to="#owner-use")

        reply, held = socks5_request(proxy_port, name, password, SOCKS_CONNECT, address_of(web))
        try:
            assert reply == SOCKS_SUCCEEDED
            app.go("users")
            app.click(f'tr[data-user="{name}"] .revoke')
            app.text_becomes("#confirm-delete-title", "Revoke guest pass?", "the question")
            app.el("#confirm-delete-yes").click()
            wait_for("the revoked pass leaves the list", lambda: not user_cell(app, name, ".user-name"))
            assert closed_within(held, 5) is not None, "the revoked guest's connection stayed open"
        finally:
            held.close()
        refused = curl(proxy_port, web, login)
        assert refused.returncode != 0, "the revoked guest pass still signs in"
        assert curl(proxy_port, web, f"{USER}:{PASSWORD}").returncode == 0, "alice was refused too"
        assert not keyring_holds(panel, name), "the revoked pass's password stayed in the keyring"
        assert [u["name"] for u in settings_file(home)["users"]] == [USER]

        # Revoking had the running proxy forget what the name used
        # (Server::forget_usage): a new pass under it starts from nothing.
        again = make_guest_pass(app, hours="1", gigabytes="1", name=name)
        assert again["name"] == name, again
        close_guest_card(app)
        fresh = wait_for(
            "the new pass's use on the Users page",
            lambda: (t := user_cell(app, name, ".use-quota")) and t.endswith(" of 1 GB in all") and t,
        )
        assert amount(fresh.split(" of ")[0]) < 850_000, f"the new pass started with the old one's use: {fresh}"
    finally:
        panel.close()


def test_the_trays_guest_passes_menu_revokes_and_an_ended_pass_is_notified(launch, proxy_port, web):
    """The tray's Guest passes submenu lists each guest pass (rebuilt as they
    are made and revoked) with Revoke all; its Revoke entry revokes that
    pass (notified; its login refused; the Users page follows at once); a
    pass whose hours run out is notified as ended and refused; Revoke all
    takes the rest."""
    from sni import Panel

    panel = Panel()
    try:
        app = launch()
        add_user_and_require_passwords(app, USER, PASSWORD)
        app.go("status")
        app.start_server()
        item = wait_for("the app's tray icon with the desktop's panel", lambda: (panel.registered() or [None])[0])
        assert panel.menu_entries(item, "Guest passes") == [("No guest passes", False)]

        first = make_guest_pass(app, gigabytes="2")
        close_guest_card(app)
        # 0.002 h: the pass ends some 7 s from now.
        second = make_guest_pass(app, hours="0.002", name="visitor")
        close_guest_card(app)
        assert second["name"] == "visitor"
        wanted = [(f"Revoke {first['name']}", True), ("Revoke visitor", True), ("Revoke all guest passes", True)]
        wait_for("the tray lists both passes", lambda: panel.menu_entries(item, "Guest passes") == wanted)
        login = f"{first['name']}:{first['password']}"
        assert curl(proxy_port, web, login).returncode == 0, "the first pass before it is revoked"

        panel.click(item, panel.menu_labels(item)[f"Revoke {first['name']}"])
        wait_notice(panel, f"Guest pass {first['name']} revoked: it can no longer sign in")
        wait_for("the pass revoked from the tray is refused", lambda: curl(proxy_port, web, login).returncode != 0)
        app.go("users")
        wait_for("the Users page follows the tray", lambda: not user_cell(app, first["name"], ".user-name"))

        wait_notice(panel, "Guest pass visitor has ended: its time is up.")
        assert curl(proxy_port, web, f"visitor:{second['password']}").returncode != 0, "the ended pass signs in"
        wait_for("the ended pass shown as expired", lambda: user_cell(app, "visitor", ".state") == "Expired")
        assert panel.notices().count("Guest pass visitor has ended: its time is up.") == 1
        remaining = [("Revoke visitor", True), ("Revoke all guest passes", True)]
        wait_for("the tray lists the pass left", lambda: panel.menu_entries(item, "Guest passes") == remaining)

        panel.click(item, panel.menu_labels(item)["Revoke all guest passes"])
        wait_notice(panel, "Guest pass visitor revoked")
        wait_for(
            "the tray lists none", lambda: panel.menu_entries(item, "Guest passes") == [("No guest passes", False)]
        )
        wait_for(
            "the Users page lists none", lambda: not app.driver.find_elements(By.CSS_SELECTOR, "#users-table tr.guest")
        )
        assert curl(proxy_port, web, f"{USER}:{PASSWORD}").returncode == 0, "alice was revoked too"
    finally:
        panel.close()


def test_a_quota_set_in_limits_is_counted_notified_at_80_and_100_percent_and_refused(launch, proxy_port, web, home):
    """A quota of 1 MB/total from the Limits dialog: an 850 kB transfer shows
    as 85 % of it and is notified once; the next transfer fills it, which is
    notified once too, shows the user as Over quota (the server's reason in
    the title, on the Users page and in Connections) and the server refuses
    the user's next request. After a restart of the app nothing is notified
    again."""
    from sni import Panel

    bob, bob_password = "bob", "builder-1234"
    panel = Panel()
    try:
        app = launch()
        add_user_and_require_passwords(app, bob, bob_password)
        app.go("status")
        app.start_server()
        app.go("users")
        edit_user_limits(app, bob, {"#user-policy-quota": "1 MB/total"})
        wait_for("bob's quota in his row", lambda: user_cell(app, bob, ".limits") == "1 MB/total")
        login = f"{bob}:{bob_password}"
        moved = fetch_bytes(proxy_port, bulk_url(web, 850_000), login)
        assert moved.returncode == 0 and moved.stdout == "850000", f"{moved.stdout} bytes, {moved.stderr}"
        wait_for(
            "bob's use against his quota",
            lambda: user_cell(app, bob, ".use-quota").startswith("850 kB of 1 MB in all"),
        )
        near = f"User {bob} has used 85% of its quota: 850 kB of 1 MB in all."
        wait_notice(panel, near)

        fetch_bytes(proxy_port, bulk_url(web, 200_000), login)  # cut short once the quota is used up
        full = f"User {bob} has used all of its 1 MB in all: it is refused from now on."
        wait_notice(panel, full)
        wait_for("bob shown over his quota", lambda: user_cell(app, bob, ".state") == "Over quota")
        title = app.driver.execute_script(
            "return document.querySelector(arguments[0]).title;", f'tr[data-user="{bob}"] td.state'
        )
        assert title.startswith("The proxy refuses new connections: over its quota of 1 MB/total"), title
        app.shot("users-over-quota")
        refused = socks5_reply(proxy_port, bob, bob_password, SOCKS_CONNECT, address_of(web))
        assert refused == SOCKS_NOT_ALLOWED, f"bob's request over his quota got {refused:#04x}"
        app.go("connections")
        row = wait_for("bob in Connections", lambda: owner_row(app, f"user {bob}"))
        assert row["state"] == "Over quota" and "over its quota" in row["reason"], row
        assert row["quota"].endswith("of 1 MB in all"), row
        assert panel.notices().count(near) == 1 and panel.notices().count(full) == 1, panel.notices()

        # Stopped first, as quitting does: the counts are written at a stop.
        app.go("status")
        app.toggle_server()
        app.text_becomes("#server-state", "Stopped", "after Stop")
        app.close()
        before = len(panel.notices())
        again = launch()
        again.go("status")
        again.start_server("after Start in the reopened app")
        again.go("users")
        wait_for("bob over his quota after the restart", lambda: user_cell(again, bob, ".state") == "Over quota")
        said = panel.notices()[before:]
        assert near not in said and full not in said, f"notified again after a restart: {said}"
        assert (home / "config" / "socksbox" / "notices.json").exists()
    finally:
        panel.close()


# Run by the phone: a SOCKS5 greeting and RFC 1929 login at host:port;
# prints the login's status byte (0: signed in), or "error" and why.
PHONE_LOGIN = r"""
import socket, sys
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4].encode()
try:
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"\x05\x01\x02")
        assert s.recv(2) == b"\x05\x02", "no username/password method"
        s.sendall(bytes([1, len(user)]) + user + bytes([len(password)]) + password)
        print(s.recv(2)[1])
except Exception as e:
    print("error", type(e).__name__, e)
"""


def phone_login(phone: Phone, address: str, user: str, password: str) -> str:
    host, port = address.rsplit(":", 1)
    done = subprocess.run(
        ["ip", "netns", "exec", phone.ns, "python3", "-c", PHONE_LOGIN, host.strip("[]"), port, user, password],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"]},
    )
    assert done.returncode == 0, f"the phone could not run its login: {done.stderr}"
    return done.stdout.strip()


def test_a_shared_guest_pass_offers_the_setup_qr_code_and_a_phone_signs_in_with_it(launch, phone, proxy_port):
    """While sharing (with passwords required), a guest pass's card offers
    this machine's network addresses, no warning, and the setup page's QR
    code (read by zbarimg); a phone on the network signs in with the pass
    at the address offered, and not with another password."""
    require(shutil.which("zbarimg") is not None, "reading the QR code needs zbarimg (Debian's zbar-tools)")
    app = launch()
    share_on_the_network(app)
    add_user_and_require_passwords(app, USER, PASSWORD)
    app.go("status")
    app.text_becomes("#server-state", "Running", "sharing with passwords")
    card = make_guest_pass(app, hours="24")
    shared = f"{phone.host4}:{proxy_port}"
    assert shared in card["socks"] and shared in card["http"], f"the card offers {card['socks']}"
    assert all(not a.startswith("127.") for a in card["socks"]), card["socks"]
    assert card["warnings"] == [] and card["qr"] == 1, card
    codes = qr_codes_on_screen(app, app.el("#guest-qr .qr svg"))
    first = card["socks"][0]
    assert codes == [f"http://{first}/"], f"the pass's QR code reads {codes}, not the setup page at {first}"
    app.shot("guest-pass-shared", scroll_to="#guest-card")
    assert phone_login(phone, shared, card["name"], card["password"]) == "0", "the phone could not sign in"
    assert phone_login(phone, shared, card["name"], "not-the-password") != "0", "a wrong password signed in"
    close_guest_card(app)


@pytest.fixture
def kerberos(tmp_path, monkeypatch):
    """A Kerberos realm of the test's own (tests/e2e/kdc.py): the service
    rcmd/localhost with its keytab, and alice with a ticket in a cache of
    her own. KRB5_CONFIG and KRB5CCNAME are set in this process's
    environment (for python-gssapi) before the app's driver starts, so the
    app reads the same krb5.conf. Ask for it before `launch`."""
    import sys

    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    import kdc

    missing = kdc.missing_programs()
    require(not missing, f"MIT Kerberos is missing {missing}: apt-get install krb5-kdc krb5-admin-server krb5-user")
    realm = kdc.Realm(tmp_path / "realm")
    realm.dir.mkdir()
    realm.start()
    try:
        realm.keytab = tmp_path / "proxy.keytab"
        realm.add_service("rcmd/localhost", realm.keytab)
        realm.add_user("alice", "alice-kerberos-pw")
        env = realm.kinit("alice", "alice-kerberos-pw", tmp_path / "alice.ccache")
        monkeypatch.setenv("KRB5_CONFIG", env["KRB5_CONFIG"])
        monkeypatch.setenv("KRB5CCNAME", env["KRB5CCNAME"])
        yield realm
    finally:
        realm.stop()


def gssapi_section(app: App, enabled: bool, keytab: str, allow: str):
    """Fills the Settings view's GSS-API section (it must be on the page)
    and saves it."""
    app.go("settings")
    assert app.visible("#gssapi-section"), "the GSS-API section is not shown in a build with GSS-API"
    app.set_checkbox("#gssapi-enabled", enabled)
    app.fill_in("#gssapi-keytab", keytab)
    app.fill_in("#gssapi-principal", "rcmd/localhost@SOCKSBOX.TEST")
    app.fill_in("#gssapi-allow", allow)
    app.el("#save-settings").click()


def test_a_kerberos_login_through_the_gssapi_section(kerberos, launch, proxy_port, home):
    """The Settings view shows the GSS-API section (this build has it): a
    bad allowed entry is named next to its field and nothing is saved; a
    keytab that is not there makes the start fail in words; the realm's
    keytab makes the proxy take alice's Kerberos login (RFC 1961, with
    python-gssapi), her session listed under her principal, while a client
    offering no authentication is refused."""
    from selenium.webdriver.remote.file_detector import UselessFileDetector

    import gsssocks as gs
    import rawsocks as rs

    app = launch()
    # The keytab's path is a file here: selenium would upload it, not type it.
    app.driver.file_detector = UselessFileDetector()
    gssapi_section(app, True, str(kerberos.keytab), "alice")
    app.text_becomes("#error-gssapi-allow", '"alice" must be a principal', "a bad allowed entry")
    assert not settings_file(home).get("gssapi", {}).get("enabled"), "a refused section was saved"

    missing = home / "no-such.keytab"
    gssapi_section(app, True, str(missing), "@SOCKSBOX.TEST")
    app.visible("#settings-saved")
    app.go("status")
    app.toggle_server()
    app.text_becomes("#server-state", "Failed", "starting with a keytab that is not there")
    app.text_becomes("#server-error", "GSS-API", "the reason, naming GSS-API")

    gssapi_section(app, True, str(kerberos.keytab), "@SOCKSBOX.TEST")
    app.visible("#settings-saved")
    saved = settings_file(home)["gssapi"]
    assert saved["enabled"] and saved["keytab"] == str(kerberos.keytab), saved
    assert saved["allow"] == ["@SOCKSBOX.TEST"], saved
    app.shot("settings-gssapi", scroll_to="#gssapi-section")
    app.go("status")
    app.start_server("starting with the realm's keytab")

    # Without a ticket's login there is no way in: no-authentication alone
    # is refused (0xFF).
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=5) as plain:
        plain.sendall(b"\x05\x01\x00")
        assert recv_exactly(plain, 2) == b"\x05\xff", "no-authentication was accepted with GSS-API on"

    target = socket.create_server(("127.0.0.1", 0))
    try:
        session = gs.connect(("127.0.0.1", proxy_port))
        reply = session.request(rs.CMD_CONNECT, "127.0.0.1", target.getsockname()[1])
        assert reply.rep == 0, f"the CONNECT after alice's Kerberos login was refused: {reply}"
        peer, _ = target.accept()
        app.go("connections")
        users = wait_for(
            "alice's session in the Connections view under her principal",
            lambda: [
                u
                for u in app.driver.execute_script(
                    "return Array.from(document.querySelectorAll('#conn-body tr.row'))"
                    ".map((tr) => tr.cells[1].textContent);"
                )
                if "alice" in u
            ],
        )
        assert users == ["alice@SOCKSBOX.TEST"], users
        peer.close()
        session.sock.close()
    finally:
        target.close()
