"""The app in each of its languages: chosen in Settings (English,
Simplified Chinese, Russian) and taken from the OS locale (LANG, LC_ALL).
Every view is opened and photographed (target/screenshots/LANG-VIEW.png),
and none may overflow: no text cut off that is not designed to be (an
ellipsis with a title), nothing wider than the window. The tray's menu,
read through the desktop's StatusNotifier interface, speaks Russian once
Russian is chosen."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from harness import WAIT, wait_for

CATALOGUES = Path(__file__).resolve().parents[2] / "ui" / "src" / "i18n"
VIEWS = ("status", "connections", "users", "devices", "mappings", "logs", "settings")


def catalogue(lang: str) -> dict:
    return json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))


# What overflows: an element showing text of its own whose text is wider
# than its box (unless it cuts the text with an ellipsis and has a title),
# and anything reaching past the window's right edge outside a scrolling
# box; and the page itself wider than the window.
OVERFLOW = """
const width = document.documentElement.clientWidth;
const problems = [];
if (document.documentElement.scrollWidth > width + 1)
  problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px window`);
const scrolls = (el) => {
  for (let p = el.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === "auto" || o === "scroll" || o === "hidden") return true;
  }
  return false;
};
for (const el of document.querySelectorAll("body *")) {
  if (el.closest("[hidden], dialog:not([open]), script, style, svg")) continue;
  const style = getComputedStyle(el);
  if (style.display === "none" || style.visibility === "hidden" || style.display.startsWith("inline")) continue;
  if (["INPUT", "SELECT", "TEXTAREA", "OPTION", "CANVAS", "IMG"].includes(el.tagName)) continue;
  const rect = el.getBoundingClientRect();
  // Empty, or visually hidden for screen readers (1 px, clipped).
  if (rect.width <= 2 || rect.height <= 2) continue;
  const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim() !== "");
  const text = (el.textContent || "").trim().slice(0, 60);
  if (own && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== "auto" && style.overflowX !== "scroll") {
    const truncates = style.textOverflow === "ellipsis" && el.hasAttribute("title");
    const name = `${el.tagName.toLowerCase()}#${el.id} "${text}"`;
    if (!truncates) problems.push(`${name} is ${el.scrollWidth} px in ${el.clientWidth} px`);
  }
  if (rect.right > width + 1 && !scrolls(el))
    problems.push(`${el.tagName.toLowerCase()}#${el.id} "${text}" reaches ${Math.round(rect.right)} px of ${width}`);
}
return problems.slice(0, 20);
"""


def check_views(app, lang: str, label: str):
    """Opens every view in `lang`: <html lang>, the navigation's words, a
    screenshot, and no overflow."""
    words = catalogue(lang)
    wait_for(
        f"<html lang> {lang}",
        lambda: app.driver.execute_script("return document.documentElement.lang") == lang,
    )
    for view in VIEWS:
        app.go(view)
        nav = app.el(f"#nav-{view}").text
        assert nav == words[f"nav.{view}"], f"{label}: the {view} button says {nav!r}, not {words[f'nav.{view}']!r}"
        # The view's data has arrived (the lists read once shown).
        time.sleep(0.5)
        app.shot(f"{label}-{view}")
        problems = app.driver.execute_script(OVERFLOW)
        assert problems == [], f"{label}, {view}: {problems}"
    title = app.el("#view-settings h2").text
    assert title == words["settings.title"], f"{label}: Settings is titled {title!r}"


def choose(app, lang: str):
    """Chooses a language in Settings and saves: the page starts over in it."""
    app.go("settings")
    app.driver.execute_script(
        "const s = document.getElementById('language'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change', { bubbles: true }));",
        lang,
    )
    app.driver.execute_script("window.beforeTheChoice = true")
    app.el("#save-settings").click()
    # A new page (the old one may already have had that language's lang).
    wait_for(
        f"the page in {lang} after saving",
        lambda: (
            app.driver.execute_script(
                "return window.beforeTheChoice === undefined && document.readyState === 'complete'"
                " && document.documentElement.lang"
            )
            == lang
        ),
    )


def test_each_language_chosen_in_settings_fits_every_view_and_the_tray_follows(launch):
    from sni import Panel  # a desktop panel of our own: Xvfb has none

    panel = Panel()
    try:
        app = launch()
        system = app.el("#language option[value=system]").get_attribute("textContent")
        assert system.startswith("System default ("), f"the system choice reads {system!r}"
        names = app.driver.execute_script(
            "return Array.from(document.querySelectorAll('#language option')).slice(1).map((o) => o.textContent)"
        )
        assert names == ["English", "简体中文", "Русский"], names
        for lang in ("en", "zh-CN", "ru"):
            choose(app, lang)
            check_views(app, lang, lang)
        settings = json.loads((app.home / "config" / "socksbox" / "settings.json").read_text())
        assert settings["language"] == "ru", settings

        deadline = time.monotonic() + WAIT
        while not panel.registered():
            assert time.monotonic() < deadline, "the app registered no tray icon with the desktop's panel"
            time.sleep(0.1)
        item = panel.registered()[0]
        ru = catalogue("ru")
        wanted = [ru[k] for k in ("tray.open", "tray.status.stopped", "tray.start", "tray.copy", "tray.quit")]
        wait_for(
            f"the tray menu in Russian ({wanted})",
            lambda: all(w in panel.menu_labels(item) for w in wanted),
        )
        # The Guest passes submenu's entries are made again in the new
        # language; its own title is said at the next start (the OS-locale
        # test reads it), as libappindicator does not pass a submenu's new
        # label on.
        assert ru["tray.noGuests"] in panel.menu_labels(item), sorted(panel.menu_labels(item))
        top = [label for label, _ in panel.menu_top(item)]
        assert top[:2] == [ru["tray.open"], ru["tray.status.stopped"]], top

        choose(app, "en")
        wait_for("the tray menu in English again", lambda: "Open SocksBox" in panel.menu_labels(item))
    finally:
        panel.close()


@pytest.fixture
def russian_os(monkeypatch):
    """The OS's locale is Russian: the driver, and so the app, inherit it."""
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)


def test_the_os_locale_chooses_russian_when_the_setting_is_the_system(russian_os, launch):
    from sni import Panel

    panel = Panel()
    try:
        app = launch()
        check_views(app, "ru", "ru-os")
        ru = catalogue("ru")
        system = app.driver.execute_script("return document.querySelector('#language option').textContent")
        assert system == ru["settings.languageSystem"].replace("{language}", "Русский"), system

        deadline = time.monotonic() + WAIT
        while not panel.registered():
            assert time.monotonic() < deadline, "the app registered no tray icon with the desktop's panel"
            time.sleep(0.1)
        item = panel.registered()[0]
        top = [label for label, _ in panel.menu_top(item)]
        wanted = [ru[k] for k in ("tray.open", "tray.status.stopped", "tray.start", "tray.systemProxy", "tray.copy")]
        assert top[:5] == wanted, top
        assert ru["tray.guests"] in top and ru["tray.quit"] in top, top
        entries = [label for label, _ in panel.menu_entries(item, ru["tray.guests"])]
        assert entries == [ru["tray.noGuests"]], entries
    finally:
        panel.close()
