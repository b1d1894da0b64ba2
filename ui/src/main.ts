// Entry point: mounts the views and switches between them.

// First: later imports may hand navigator.language to Intl as they load.
import "./locale";
import "./style.css";
import { byId } from "./dom";
import { getSettings } from "./ipc";
import { onLanguageChange, setLanguage, setSystemLanguage, translatePage, type LanguageChoice } from "./i18n";
import { mountStatus } from "./views/status";
import { mountConnections } from "./views/connections";
import { mountSettings } from "./views/settings";
import { mountUsers } from "./views/users";
import { mountMappings } from "./views/mappings";
import { mountDevices } from "./views/devices";
import { mountLogs } from "./views/logs";

const VIEW_NAMES = ["status", "connections", "settings", "users", "devices", "mappings", "logs"] as const;
type ViewName = (typeof VIEW_NAMES)[number];

interface Shown {
  show(): void;
  hide?(): void;
}

function start(): void {
  // The page's own words (the navigation); each view writes its own.
  translatePage();
  onLanguageChange(() => translatePage());
  const status = mountStatus(byId("view-status"));
  const views: Record<ViewName, Shown> = {
    status,
    connections: mountConnections(byId("view-connections")),
    settings: mountSettings(byId("view-settings"), {
      onStatus: (s) => status.apply(s),
      // Every view takes its words again: the page starts over in the new language.
      onLanguage: () => location.reload(),
    }),
    users: mountUsers(byId("view-users")),
    devices: mountDevices(byId("view-devices")),
    mappings: mountMappings(byId("view-mappings")),
    logs: mountLogs(byId("view-logs")),
  };

  function showView(name: ViewName): void {
    for (const other of VIEW_NAMES) {
      const section = byId(`view-${other}`);
      if (other !== name && !section.hidden) views[other].hide?.();
      section.hidden = other !== name;
      const button = byId(`nav-${other}`);
      if (other === name) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
    // The connections, users, devices and mappings tables want the window's whole width.
    byId("content").classList.toggle("wide", ["connections", "users", "devices", "mappings"].includes(name));
    views[name].show();
  }

  for (const name of VIEW_NAMES) {
    byId(`nav-${name}`).addEventListener("click", () => showView(name));
  }

  // Left and right arrows move between the navigation buttons.
  byId("nav-status").parentElement?.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const index = VIEW_NAMES.findIndex((n) => document.activeElement === byId(`nav-${n}`));
    if (index < 0) return;
    const step = event.key === "ArrowRight" ? 1 : VIEW_NAMES.length - 1;
    const next = VIEW_NAMES[(index + step) % VIEW_NAMES.length];
    if (next) byId(`nav-${next}`).focus();
    event.preventDefault();
  });
}

/** The language setting first (the app's settings file), so that every view is drawn in it. */
async function boot(): Promise<void> {
  try {
    const loaded = await getSettings();
    setSystemLanguage(loaded.systemLanguage);
    setLanguage((loaded.settings.language ?? "system") as LanguageChoice);
  } catch (reason) {
    console.warn("the language setting cannot be read:", reason);
  }
  start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void boot());
else void boot();
