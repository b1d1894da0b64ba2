// The page as a whole: index.html, navigation between views, and the logs view.
import { beforeAll, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import html from "../index.html?raw";
import { $ as el, flush } from "./fixtures/dom";
import { SETTINGS } from "./fixtures/settings";

const sources = import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true });

vi.mock("../src/ipc");

beforeAll(async () => {
  vi.mocked(ipc.serverStatus).mockResolvedValue({ state: "stopped" });
  vi.mocked(ipc.onStatusChanged).mockResolvedValue(() => {});
  vi.mocked(ipc.getSettings).mockResolvedValue({
    settings: structuredClone(SETTINGS),
    warning: null,
  });
  vi.mocked(ipc.listUsers).mockResolvedValue({ users: [], keyringError: null });
  vi.mocked(ipc.listMappings).mockResolvedValue([]);
  vi.mocked(ipc.readLogs).mockResolvedValue(["INFO one", "WARN two"]);
  vi.mocked(ipc.watchLive).mockResolvedValue(unwatch);
  document.body.innerHTML = new DOMParser().parseFromString(html, "text/html").body.innerHTML;
  await import("../src/main");
  await flush();
});

const unwatch = vi.fn(() => Promise.resolve());

vi.mock("../src/graph", () => ({ createGraph: () => ({ draw: () => {}, resize: () => {} }) }));

const shown = (): string[] =>
  ["status", "connections", "settings", "users", "devices", "mappings", "logs"].filter((v) => !el(`#view-${v}`).hidden);

describe("the page", () => {
  it("loads nothing from the network", () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("starts on the status view", () => {
    expect(shown()).toEqual(["status"]);
    expect(el("#nav-status").getAttribute("aria-current")).toBe("page");
    expect(el("#server-state").textContent).toBe("Stopped");
  });

  it("switches views with the navigation buttons", () => {
    el<HTMLButtonElement>("#nav-settings").click();
    expect(shown()).toEqual(["settings"]);
    expect(el("#nav-settings").getAttribute("aria-current")).toBe("page");
    expect(el("#nav-status").hasAttribute("aria-current")).toBe(false);
    el<HTMLButtonElement>("#nav-users").click();
    expect(shown()).toEqual(["users"]);
    el<HTMLButtonElement>("#nav-mappings").click();
    expect(shown()).toEqual(["mappings"]);
    el<HTMLButtonElement>("#nav-status").click();
    expect(shown()).toEqual(["status"]);
  });

  it("watches the live connections only while the Status page or the Connections view is shown", async () => {
    await flush();
    // The Status page (shown) watches for its rates and connection count.
    const watched = vi.mocked(ipc.watchLive).mock.calls.length;
    const stopped = unwatch.mock.calls.length;
    expect(watched).toBe(stopped + 1);
    el<HTMLButtonElement>("#nav-connections").click();
    await flush();
    expect(shown()).toEqual(["connections"]);
    expect(el("#content").classList.contains("wide")).toBe(true);
    expect(ipc.watchLive).toHaveBeenCalledTimes(watched + 1);
    expect(unwatch).toHaveBeenCalledTimes(stopped + 1);
    el<HTMLButtonElement>("#nav-settings").click();
    await flush();
    expect(unwatch).toHaveBeenCalledTimes(stopped + 2);
    expect(el("#content").classList.contains("wide")).toBe(false);
    expect(ipc.watchLive).toHaveBeenCalledTimes(watched + 1);
    el<HTMLButtonElement>("#nav-status").click();
    await flush();
    expect(ipc.watchLive).toHaveBeenCalledTimes(watched + 2);
  });

  it("reads the logs when the view opens, on Refresh and on a level change, and not before", async () => {
    expect(ipc.readLogs).not.toHaveBeenCalled();
    el<HTMLButtonElement>("#nav-logs").click();
    await flush();
    expect(shown()).toEqual(["logs"]);
    expect(el<HTMLSelectElement>("#log-level").value).toBe("info");
    expect(ipc.readLogs).toHaveBeenLastCalledWith("info");
    expect(el("#log-lines").textContent).toBe("INFO one\nWARN two");

    vi.mocked(ipc.readLogs).mockResolvedValue(["WARN two"]);
    const level = el<HTMLSelectElement>("#log-level");
    level.value = "warn";
    level.dispatchEvent(new Event("change", { bubbles: true }));
    await flush();
    expect(ipc.readLogs).toHaveBeenLastCalledWith("warn");
    expect(el("#log-lines").textContent).toBe("WARN two");

    vi.mocked(ipc.readLogs).mockResolvedValue([]);
    el<HTMLButtonElement>("#log-refresh").click();
    await flush();
    expect(ipc.readLogs).toHaveBeenCalledTimes(3);
    expect(el("#log-empty").hidden).toBe(false);

    vi.mocked(ipc.readLogs).mockRejectedValue("cannot open the log file");
    el<HTMLButtonElement>("#log-refresh").click();
    await flush();
    expect(el("#log-error").textContent).toContain("cannot open the log file");
  });

  it("does not read the logs on a timer", async () => {
    el<HTMLButtonElement>("#nav-status").click();
    const calls = vi.mocked(ipc.readLogs).mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(vi.mocked(ipc.readLogs).mock.calls.length).toBe(calls);
    expect(Object.keys(sources).length).toBeGreaterThanOrEqual(12);
    for (const [file, source] of Object.entries(sources)) {
      expect(source, file).not.toMatch(/setInterval/);
    }
  });
});
