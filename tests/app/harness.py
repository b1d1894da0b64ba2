"""What the app's WebDriver tests share: the app's binary and its home,
one launch of it seen through its window (App), the processes and D-Bus
names it holds, local web servers, a phone on this machine's network, and
waiting on events with a bounded time.

tests/app/run provides the display, the D-Bus session and the keyring;
conftest.py makes the fixtures of these parts.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import urllib3
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
APP = Path(os.environ.get("SOCKSBOX_APP", REPO / "target" / "debug" / "socksbox"))
SHOTS = Path(os.environ.get("SOCKSBOX_SCREENSHOTS", REPO / "target" / "screenshots"))
WAIT = 20
# The login keyring's password (tests/app/session.sh unlocks it with this).
KEYRING_PASSWORD = "socksbox-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def app_pids(home: Path) -> list[int]:
    """The app processes launched with this home (their XDG_CONFIG_HOME is
    <home>/config), oldest first. Another SocksBox on the machine, such as a
    developer's own, is not among them."""
    name = APP.name[:15]
    wanted = f"XDG_CONFIG_HOME={home / 'config'}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != name:
                continue
            if wanted not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            started = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[19])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
        found.append((started, int(proc.name)))
    return [pid for _, pid in sorted(found)]


# The D-Bus name the single-instance plugin holds (the app's identifier).
SINGLE_INSTANCE = "org.socksbox.desktop.SingleInstance"


def single_instance_held() -> bool:
    """Whether an app holds the single-instance name on the tests' session
    bus: a launch now would hand over to it and exit."""
    answer = subprocess.run(
        ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"]
        + ["org.freedesktop.DBus.NameHasOwner", f"string:{SINGLE_INSTANCE}"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return "boolean true" in answer.stdout


def wait_single_instance_free(what: str):
    """Waits until no app holds the single-instance name. An app that is
    exiting can still hold it after its process stopped showing its
    environment (so app_pids no longer finds it): a launch then asks it to
    take over, it leaves without answering, the launch fails, and WebDriver
    waits for a window that never comes."""
    deadline = time.monotonic() + WAIT
    while single_instance_held():
        assert time.monotonic() < deadline, f"{what}: an app still holds {SINGLE_INSTANCE} after {WAIT} s"
        time.sleep(0.1)


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first line proc writes to its stdout pipe, or what it wrote
    before it stopped or `timeout` ran out (a silent process cannot hold the
    test beyond it). Reads the pipe itself, a byte at a time, so nothing
    after the line is taken from it."""
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line.decode(errors="replace")


def app_env(home: Path) -> dict:
    """The environment the app runs in: its own config, data and cache
    directories, and its own HOME too, since the autostart entry goes to
    $HOME/.config/autostart whatever XDG_CONFIG_HOME says. No proxy
    variables."""
    (home / "home").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(
        HOME=str(home / "home"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


# The sizes of the files the page servers offer for transfers that count
# against a quota.
BULK_SIZES = (200_000, 850_000)


@contextlib.contextmanager
def page_server(host: str):
    """An HTTP server on `host` serving one page (and, beside it, files of
    BULK_SIZES bytes, bulk-N.bin); yields the page's URL."""
    root = Path(tempfile.mkdtemp(prefix="socksbox-web-"))
    (root / "page.html").write_text("hello through the app\n")
    for size in BULK_SIZES:
        (root / f"bulk-{size}.bin").write_bytes(os.urandom(size))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}/page.html"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)


class App:
    """One launch of the app, seen through its window."""

    def __init__(self, url: str, home: Path, args: tuple[str, ...] = ()):
        self.home = home
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": str(APP), "args": list(args)})
        wait_single_instance_free("before a launch")
        # tauri-driver answers on its port before WebKitWebDriver behind it
        # is ready; on a busy machine the first session can be cut off.
        for attempt in range(3):
            try:
                self.driver = webdriver.Remote(command_executor=url, options=options)
                return
            except (WebDriverException, ConnectionError, http.client.HTTPException, urllib3.exceptions.HTTPError) as e:
                if attempt == 2:
                    raise AssertionError(f"no WebDriver session with the app after 3 tries: {e!r}") from e
                time.sleep(2)

    def close(self):
        with contextlib.suppress(WebDriverException):
            self.driver.quit()
        # The app is single-instance: a launch while the last one is still
        # exiting would only bring that one forward. Wait until it is gone;
        # only the app with this test's home is waited for, and killed.
        deadline = time.monotonic() + WAIT
        while pids := app_pids(self.home):
            if time.monotonic() > deadline:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.1)
        wait_single_instance_free("after closing the app")

    def save_settings(self):
        """Saves the settings form and waits for the page to confirm it."""
        self.el("#save-settings").click()
        self.visible("#settings-saved")

    def start_server(self, what: str = "after Start"):
        """Starts the server from the status view and waits until it runs."""
        self.toggle_server()
        self.text_becomes("#server-state", "Running", what)

    def toggle_server(self):
        """Clicks Start or Stop once it can be clicked: the button is
        disabled until the page has the server's status, and while a start
        or stop is under way; a click on it then does nothing."""
        try:
            button = WebDriverWait(self.driver, WAIT).until(
                lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "#server-toggle") if b.is_enabled()), None)
            )
        except Exception:
            raise AssertionError(f"#server-toggle stayed disabled for {WAIT} s") from None
        button.click()

    def checkbox_becomes(self, css: str, on: bool, what: str):
        """Waits until the checkbox shows `on` and is usable again (the
        view re-renders it once the backend has answered)."""

        def settled(d):
            try:
                box = d.find_element(By.CSS_SELECTOR, css)
                return box.is_selected() == on and box.is_enabled()
            except (StaleElementReferenceException, WebDriverException):
                return False

        try:
            WebDriverWait(self.driver, WAIT).until(settled)
        except Exception:
            raise AssertionError(f"{what}: {css} did not settle {'on' if on else 'off'}") from None

    def click(self, css: str):
        """Clicks the element, finding it again if the view re-rendered it
        between finding and clicking."""
        for _ in range(10):
            try:
                self.el(css).click()
                return
            except StaleElementReferenceException:
                time.sleep(0.05)
        raise AssertionError(f"{css} kept being replaced; it could not be clicked")

    def el(self, css: str):
        return WebDriverWait(self.driver, WAIT).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

    def visible(self, css: str):
        return WebDriverWait(self.driver, WAIT).until(
            lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None)
        )

    def text_becomes(self, css: str, expected: str, what: str):
        try:
            WebDriverWait(self.driver, WAIT).until(lambda d: expected in d.find_element(By.CSS_SELECTOR, css).text)
        except Exception:
            actual = self.driver.find_element(By.CSS_SELECTOR, css).text
            raise AssertionError(f"{what}: {css} shows {actual!r}, expected {expected!r}") from None

    def go(self, view: str):
        self.el(f"#nav-{view}").click()
        self.visible(f"#view-{view}")

    def shot(self, name: str, scroll_to: str | None = None):
        """Saves a screenshot of the window, from the top of the page (or
        with `scroll_to` at the top), once the page has painted its latest
        state (two animation frames)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        if scroll_to:
            self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", scroll_to)
        else:
            self.driver.execute_script("window.scrollTo(0, 0)")
        self.painted()
        self.driver.save_screenshot(str(SHOTS / f"{name}.png"))

    def painted(self):
        """Waits until the page has painted its latest state (two animation
        frames): a screenshot before that can show an older frame."""
        self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done()));"
        )

    def fill_in(self, css: str, text: str):
        """Replaces what a field holds with `text` (none: emptied), typed as a user would
        (a line break as the Enter key: WebKitWebDriver types "\\n" as
        nothing). Waits until the field takes input: a dialog just opened
        on a loaded machine may not be laid out yet."""
        field = WebDriverWait(self.driver, WAIT).until(
            expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, css))
        )
        field.clear()
        if text:
            field.send_keys(text.replace("\n", Keys.ENTER))

    def set_checkbox(self, css: str, on: bool):
        box = self.el(css)
        if box.is_selected() != on:
            box.click()


def curl(port: int, url: str, user: str | None = None) -> subprocess.CompletedProcess:
    cmd = ["curl", "-sS", "--max-time", "5", "-x", f"socks5h://127.0.0.1:{port}", url]
    if user:
        cmd[1:1] = ["--proxy-user", user]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=15, env={"PATH": os.environ["PATH"]})


REQUIRE_ALL = "SOCKSBOX_REQUIRE_ALL"


def require(condition: bool, why: str) -> None:
    """Skips the test unless condition holds; with SOCKSBOX_REQUIRE_ALL=1
    (scripts/test, CI) fails it instead, so a machine that lacks a tool or a
    privilege cannot look green."""
    if condition:
        return
    if os.environ.get(REQUIRE_ALL, "") not in ("", "0"):
        pytest.fail(f"{why} ({REQUIRE_ALL} is set: a test that cannot run fails)", pytrace=False)
    pytest.skip(why)


PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)


# Run by the phone: fetches a URL as its browser would (no proxy), prints
# the status and the Content-Type, then the body; or "error" and why.
PHONE_FETCH = r"""
import sys, urllib.request
url, agent = sys.argv[1], sys.argv[2]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(urllib.request.Request(url, headers={"User-Agent": agent}), timeout=5) as answer:
        print(answer.status)
        print(answer.headers.get("Content-Type", ""))
        print(answer.read().decode(errors="replace"))
except Exception as e:
    print("error")
    print(type(e).__name__ + ": " + str(e))
"""


class Phone:
    """A device on this machine's network: a network namespace joined to
    this machine by a veth pair. This machine's end has `host4` and `host6`
    (addresses the app then offers to share on), the phone's end `ip4` and
    `ip6`. No address outside the pair is used."""

    def __init__(self, ns: str, n: int):
        self.ns = ns
        self.host4, self.ip4 = f"10.214.{n}.1", f"10.214.{n}.2"
        self.host6, self.ip6 = f"fd54:b0c5:0:{n}::1", f"fd54:b0c5:0:{n}::2"

    def fetch(self, url: str) -> tuple[str, str, str]:
        """The status (or "error"), Content-Type (or why) and body of url, fetched from the phone."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.ns, "python3", "-c", PHONE_FETCH, url, PHONE_AGENT],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": os.environ["PATH"]},
        )
        assert done.returncode == 0, f"the phone could not run its fetch of {url}: {done.stderr}"
        status, kind, body = (done.stdout.split("\n", 2) + ["", ""])[:3]
        return status, kind, body


def sh(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"


def wait_notice(panel, text: str):
    deadline = time.monotonic() + WAIT
    while not any(text in notice for notice in panel.notices()):
        assert time.monotonic() < deadline, f"no notification saying {text!r}; shown: {panel.notices()}"
        time.sleep(0.1)


def wait_for(what: str, check, timeout: float = WAIT):
    """Polls check() until it returns something true; fails with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} (last seen: {value!r})"
        time.sleep(0.2)


def app_log(home: Path) -> str:
    """The text of the app's log files."""
    return "".join(p.read_text(errors="replace") for p in sorted((home / "data" / "socksbox" / "logs").glob("*.log")))
