"""The window follows the desktop's light or dark theme: GNOME's own
setting (org.gnome.desktop.interface color-scheme, and a "-dark" GTK theme
before it) in a real dconf database of the test's own, read by the app when
no desktop portal answers, as in this session; changes apply while the app
runs (src-tauri/src/theme.rs)."""

from __future__ import annotations

from harness import wait_for
from test_system_proxy import desktop  # noqa: F401 (the fixture: a GNOME settings store of the test's own)

INTERFACE = "org.gnome.desktop.interface"


def prefers_dark(app) -> bool:
    return app.driver.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches")


def page_background(app) -> str:
    return app.driver.execute_script("return getComputedStyle(document.body).backgroundColor")


def test_the_window_follows_gnomes_dark_and_light_setting(desktop, launch):  # noqa: F811
    desktop.gsettings("set", INTERFACE, "color-scheme", "prefer-dark")
    app = launch()
    wait_for("the window is light while GNOME prefers dark", lambda: prefers_dark(app))
    dark = page_background(app)

    desktop.gsettings("set", INTERFACE, "color-scheme", "prefer-light")
    wait_for("the window stays dark after GNOME turned to light", lambda: not prefers_dark(app))
    light = page_background(app)
    assert light != dark, f"the page's background is {light} in both themes"

    # Before GNOME 42 a dark GTK theme said it; color-scheme "default" defers to it.
    desktop.gsettings("set", INTERFACE, "gtk-theme", "Adwaita-dark")
    desktop.gsettings("set", INTERFACE, "color-scheme", "default")
    wait_for("the window is light under a dark GTK theme", lambda: prefers_dark(app))
    assert page_background(app) == dark
