"""The Status page as a dashboard, through the real app: the big toggle
starts and stops the server and the address it shows works with curl; its
Copy button copies it; the warning line says "sharing without a password"
until passwords are required; the rates and the connection count move
while a download runs; the first start's lines show on a fresh home and
stay away after they are dismissed, across a restart.
"""

from __future__ import annotations

import subprocess

from harness import App, port_open, wait_for
from test_app import (
    PASSWORD,
    USER,
    SlowServer,
    add_user_and_require_passwords,
    clipboard_becomes,
    share_on_the_network,
    slow_curl,
)


def shown(app: App, css: str) -> bool:
    """Whether the element is on screen: neither it nor an ancestor hidden."""
    return app.driver.execute_script(
        "for (let e = document.querySelector(arguments[0]); e; e = e.parentElement) if (e.hidden) return false;"
        "return document.querySelector(arguments[0]) !== null;",
        css,
    )


def dismiss_intro(app: App):
    """Dismisses the first start's lines, once the page is drawn."""
    app.text_becomes("#server-state", "Stopped", "the page drawn")
    if shown(app, "#intro"):
        app.click("#intro-dismiss")
        wait_for("the first start's lines to go", lambda: not shown(app, "#intro"))


def test_the_big_toggle_starts_and_stops_and_curl_works_through_the_shown_address(launch, proxy_port, web):
    app = launch()
    app.text_becomes("#server-state", "Stopped", "a fresh app")
    app.text_becomes("#server-toggle", "Start", "the toggle of a stopped server")
    assert not shown(app, "#proxy-address"), "an address is shown before the server runs"
    app.toggle_server()
    app.text_becomes("#server-state", "Running", "after the big toggle")
    app.text_becomes("#server-toggle", "Stop", "the toggle of a running server")
    address = f"127.0.0.1:{proxy_port}"
    app.text_becomes("#proxy-address", address, "the address to give a program")
    shown_address = app.el("#proxy-address").text
    fetched = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--socks5-hostname", shown_address, web],
        capture_output=True,
        text=True,
        timeout=15,
    )
    assert fetched.returncode == 0 and fetched.stdout == "hello through the app\n", (
        f"curl --socks5-hostname {shown_address}: exit {fetched.returncode}, {fetched.stdout!r} {fetched.stderr}"
    )
    howto = app.el('#howtos details[data-program="curl"]')
    assert f"--socks5-hostname {address}" in howto.get_attribute("textContent"), "the curl how-to has another address"
    app.toggle_server()
    app.text_becomes("#server-state", "Stopped", "after the big toggle again")
    wait_for("the port to close after Stop", lambda: not port_open(proxy_port))
    assert shown(app, "#use-stopped"), "the address card does not say the proxy is stopped"


def test_the_copy_button_copies_the_address(launch, proxy_port):
    app = launch()
    app.start_server()
    address = f"127.0.0.1:{proxy_port}"
    app.text_becomes("#proxy-address", address, "the address to give a program")
    app.click("#proxy-address-copy-button")
    clipboard_becomes(address)


def test_the_warning_line_says_sharing_without_a_password_until_passwords_are_required(launch, proxy_port):
    app = launch()
    share_on_the_network(app)
    wait_for("the warning line while sharing without passwords", lambda: shown(app, "#open-warning"))
    assert "without a password" in app.el("#attention").text, f"the warning line says {app.el('#attention').text!r}"
    app.text_becomes("#lan-state", "Shared on your network", "the LAN card while sharing")
    add_user_and_require_passwords(app, USER, PASSWORD)
    app.go("status")
    wait_for("the warning to go once passwords are required", lambda: not shown(app, "#open-warning"))
    assert "without a password" not in app.el("#attention").text, app.el("#attention").text


def test_the_rates_and_the_connection_count_move_while_a_download_runs(launch, proxy_port):
    slow = SlowServer(2)
    curls = []
    try:
        app = launch()
        dismiss_intro(app)
        app.start_server()
        app.text_becomes("#dash-connections", "0 open connections", "before any download")
        curls = [slow_curl(proxy_port, port) for port in slow.ports]
        app.text_becomes("#dash-connections", "2 open connections", "while two downloads run")

        def rate_down() -> str | None:
            text = app.el("#dash-rate-down").text
            return text if text and not text.startswith("0 ") else None

        wait_for("a download rate above zero while the downloads run", rate_down)
        app.shot("status-dashboard")
        for proc in curls:
            proc.communicate(timeout=30)
        app.text_becomes("#dash-connections", "0 open connections", "after the downloads")
    finally:
        for proc in curls:
            if proc.poll() is None:
                proc.kill()
        slow.close()


def test_the_first_start_lines_show_on_a_fresh_home_and_stay_away_after_dismissal(launch):
    app = launch()
    wait_for("the first start's lines on a fresh home", lambda: shown(app, "#intro"))
    assert "SocksBox runs a proxy on this computer" in app.el("#intro").text, app.el("#intro").text
    app.click("#intro-dismiss")
    wait_for("the lines to go when dismissed", lambda: not shown(app, "#intro"))
    app.close()
    again = launch()
    again.text_becomes("#server-state", "Stopped", "the app started again")
    assert not shown(again, "#intro"), "the first start's lines came back after a restart"
