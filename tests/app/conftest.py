"""The fixtures the app's WebDriver tests share (their parts are in
harness.py): the app's home with a free port in its settings, tauri-driver
and the launches of the app, local pages to fetch, a phone on this
machine's network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import APP, WAIT, App, Phone, app_env, free_port, page_server, port_open, require, sh


@pytest.fixture
def home():
    """The app's home: config and data directories of its own."""
    root = Path(tempfile.mkdtemp(prefix="socksbox-app-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def proxy_port(home) -> int:
    """The port the app's server will use, written into its settings before
    the first launch (1080 may be taken on a test machine)."""
    port = free_port()
    config = home / "config" / "socksbox"
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"port": port}))
    return port


@pytest.fixture(scope="module")
def web():
    """A local page to fetch through the proxy."""
    with page_server("127.0.0.1") as url:
        yield url


@pytest.fixture(scope="module")
def web_elsewhere():
    """The same page on another loopback address, 127.0.0.2: a destination a
    deny rule can name without refusing `web` too."""
    with page_server("127.0.0.2") as url:
        yield url


@pytest.fixture
def driver_url(home):
    """tauri-driver, with the app's home in its environment."""
    if not APP.exists():
        pytest.fail(f"the app binary {APP} does not exist: build it with cargo build -p socksbox-app")
    tauri_driver = shutil.which("tauri-driver") or str(Path.home() / ".cargo" / "bin" / "tauri-driver")
    port, native = free_port(), free_port()
    env = app_env(home)
    # tauri-driver, WebKitWebDriver and the app write to this file: a pipe
    # nobody reads would fill up and block them.
    log = home / "driver.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [tauri_driver, "--port", str(port), "--native-port", str(native)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + WAIT
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"tauri-driver did not start: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def launch(driver_url, home, proxy_port):
    """Opens the app; its settings name a free port (never 1080, which the
    machine's own proxy may hold)."""
    opened: list[App] = []

    def open_app(*args: str) -> App:
        """The app, started with these arguments."""
        app = App(driver_url, home, args)
        opened.append(app)
        return app

    yield open_app
    for app in opened:
        app.close()


@pytest.fixture
def phone():
    """A phone on the network (see Phone), made before the app starts so
    that the app lists this machine's end of the pair among its share
    addresses. Needs root and iproute2."""
    require(os.geteuid() == 0 and shutil.which("ip") is not None, "a phone's network namespace needs root and iproute2")
    tag = os.getpid() % 100000
    n = 20 + os.getpid() % 200
    ns, here, there = f"sbxphone{tag}", f"sbxp{tag}", f"sbxq{tag}"
    phone = Phone(ns, n)
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", here, "type", "veth", "peer", "name", there)
        sh("ip", "link", "set", there, "netns", ns)
        sh("ip", "addr", "add", f"{phone.host4}/24", "dev", here)
        sh("ip", "-6", "addr", "add", f"{phone.host6}/64", "dev", here, "nodad")
        sh("ip", "link", "set", here, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", f"{phone.ip4}/24", "dev", there)
        sh("ip", "-n", ns, "-6", "addr", "add", f"{phone.ip6}/64", "dev", there, "nodad")
        sh("ip", "-n", ns, "link", "set", there, "up")
        yield phone
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True, timeout=20)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
