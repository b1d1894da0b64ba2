import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { Status } from "../src/ipc";
import type { Visit } from "../src/ipc";
import { t } from "../src/i18n";
import { mountStatus, type StatusView } from "../src/views/status";
import { ServerStatus, stateLabel } from "../src/views/status/model";
import { $, flush, text } from "./fixtures/dom";

vi.mock("../src/ipc");
vi.mock("../src/graph", () => ({ createGraph: () => ({ draw: () => {}, resize: () => {} }) }));

const STOPPED: Status = { state: "stopped" };
const RUNNING = {
  state: "running",
  listening: ["127.0.0.1:1080", "[::1]:1080"],
  shareAddresses: [],
  openWarning: false,
  servesHttp: true,
} satisfies Status;
const FAILED = {
  state: "failed",
  error: "port 1080 is in use by another program",
} satisfies Status;
const SHARING_OPEN = {
  state: "running",
  listening: ["0.0.0.0:1080"],
  shareAddresses: ["192.168.1.5:1080", "[fd00::5]:1080"],
  openWarning: true,
  servesHttp: true,
} satisfies Status;

const QR_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script><rect width="10" height="10"/></svg>';

const visible = (selector: string): boolean => {
  // Shown when neither it nor an ancestor is hidden.
  for (let el: HTMLElement | null = $(selector); el; el = el.parentElement) if (el.hidden) return false;
  return true;
};

let statusHandler: ((s: Status) => void) | null = null;
let visitsHandler: ((v: Visit[]) => void) | null = null;

const PHONE: Visit = {
  client: "192.168.1.23",
  page: "setup",
  agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
  firstAt: Date.now() - 300_000,
  lastAt: Date.now() - 120_000,
  count: 3,
};
const LAPTOP: Visit = {
  client: "fd00::7",
  page: "pac",
  agent: '<img src=x onerror="alert(1)">',
  firstAt: Date.now(),
  lastAt: Date.now(),
  count: 1,
};

/** The rows of the devices' table, as text. */
const visitRows = (): string[][] =>
  Array.from(document.querySelectorAll("#visits tbody tr")).map((tr) =>
    Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? ""),
  );

async function mount(initial: Status = STOPPED): Promise<StatusView> {
  vi.mocked(ipc.serverStatus).mockResolvedValue(initial);
  const section = document.createElement("section");
  section.id = "view-status";
  document.body.replaceChildren(section);
  const view = mountStatus(section);
  await view.ready;
  return view;
}

beforeEach(() => {
  vi.resetAllMocks();
  statusHandler = null;
  visitsHandler = null;
  vi.mocked(ipc.onStatusChanged).mockImplementation((handler) => {
    statusHandler = handler;
    return Promise.resolve(() => {});
  });
  vi.mocked(ipc.onVisitsChanged).mockImplementation((handler) => {
    visitsHandler = handler;
    return Promise.resolve(() => {});
  });
  vi.mocked(ipc.recentVisits).mockResolvedValue([]);
  vi.mocked(ipc.qrCode).mockResolvedValue(QR_SVG);
  vi.mocked(ipc.copyText).mockResolvedValue(undefined);
  vi.mocked(ipc.watchLive).mockResolvedValue(() => Promise.resolve());
  vi.mocked(ipc.firewallCheck).mockResolvedValue({ reports: [] });
});

afterEach(() => {
  document.body.replaceChildren();
});

describe("status view rendering", () => {
  it("shows a stopped server with a Start button and nothing else", async () => {
    await mount(STOPPED);
    expect(text("#server-state")).toBe("Stopped");
    expect(text("#server-toggle")).toBe("Start");
    expect($<HTMLButtonElement>("#server-toggle").disabled).toBe(false);
    expect(visible("#server-error")).toBe(false);
    expect(visible("#open-warning")).toBe(false);
    expect(visible("#listening")).toBe(false);
    expect(visible("#share-addresses")).toBe(false);
  });

  it("shows a running server, its addresses and a copy button for each", async () => {
    await mount(RUNNING);
    expect(text("#server-state")).toBe("Running");
    expect(text("#server-toggle")).toBe("Stop");
    expect(visible("#listening")).toBe(true);
    const items = Array.from(document.querySelectorAll("#listening li"));
    expect(items.map((li) => li.querySelector("code")?.textContent)).toEqual(["127.0.0.1:1080", "[::1]:1080"]);
    expect(items.every((li) => li.querySelector("button.copy"))).toBe(true);
    expect(visible("#server-error")).toBe(false);
    expect(visible("#share-addresses")).toBe(false);
  });

  it("copies an address with copy_text", async () => {
    await mount(RUNNING);
    const button = document.querySelectorAll<HTMLButtonElement>("#listening .copy")[1];
    button?.click();
    await flush();
    expect(ipc.copyText).toHaveBeenCalledWith("[::1]:1080");
    expect(text("#status-notice")).toBe("Copied [::1]:1080.");
  });

  it("says why a copy failed", async () => {
    vi.mocked(ipc.copyText).mockRejectedValue({ message: "The clipboard cannot be reached." });
    await mount(RUNNING);
    document.querySelector<HTMLButtonElement>("#listening .copy")?.click();
    await flush();
    expect(text("#status-notice")).toContain("The clipboard cannot be reached.");
  });

  it("shows a failure with its reason and a Start button", async () => {
    await mount(FAILED);
    expect(text("#server-state")).toBe("Failed");
    expect(text("#server-toggle")).toBe("Start");
    expect(visible("#server-error")).toBe(true);
    expect(text("#server-error")).toBe("port 1080 is in use by another program");
  });

  it("shows per share address the setup page with its QR code, the PAC URL and the proxy address, and the open warning", async () => {
    await mount(SHARING_OPEN);
    await flush();
    expect(visible("#share-addresses")).toBe(true);
    const items = Array.from(document.querySelectorAll("#share-addresses li"));
    expect(items).toHaveLength(2);
    const shown = (css: string) => items.map((li) => li.querySelector(css)?.textContent);
    expect(shown("code.setup-url")).toEqual(["http://192.168.1.5:1080/", "http://[fd00::5]:1080/"]);
    expect(shown("code.pac-url")).toEqual(["http://192.168.1.5:1080/proxy.pac", "http://[fd00::5]:1080/proxy.pac"]);
    expect(shown("code.address")).toEqual(["192.168.1.5:1080", "[fd00::5]:1080"]);
    expect(items.every((li) => li.querySelectorAll("button.copy").length === 3)).toBe(true);
    expect(ipc.qrCode).toHaveBeenCalledWith("http://192.168.1.5:1080/");
    expect(ipc.qrCode).toHaveBeenCalledWith("http://[fd00::5]:1080/");
    expect(ipc.qrCode).toHaveBeenCalledTimes(2);
    expect(items[1]?.querySelector<HTMLElement>(".qr")?.dataset.url).toBe("http://[fd00::5]:1080/");
    expect(visible("#http-off-note")).toBe(false);
    expect(text("#share-intro")).toContain("setup page");
    const svg = items[0]?.querySelector(".qr svg");
    expect(svg).not.toBeNull();
    expect(svg?.getAttribute("aria-label")).toBe("QR code for http://192.168.1.5:1080/");
    // Nothing active survives from the markup.
    expect(svg?.hasAttribute("onload")).toBe(false);
    expect(items[0]?.querySelector("script")).toBeNull();

    expect(visible("#open-warning")).toBe(true);
    expect(text("#open-warning")).toBe(t("status.openWarning"));
    expect(t("status.openWarning")).toBe("Anyone on your network can use this proxy without a password");
  });

  it("copies the setup page and the PAC URL", async () => {
    await mount(SHARING_OPEN);
    document.querySelector<HTMLButtonElement>('#share-addresses button[aria-label="Copy http://[fd00::5]:1080/proxy.pac"]')?.click();
    await flush();
    expect(ipc.copyText).toHaveBeenCalledWith("http://[fd00::5]:1080/proxy.pac");
    expect(text("#status-notice")).toBe("Copied http://[fd00::5]:1080/proxy.pac.");
  });

  it("offers only the SOCKS address, and says why, while HTTP is off", async () => {
    const view = await mount({ ...SHARING_OPEN, servesHttp: false });
    await flush();
    const items = Array.from(document.querySelectorAll("#share-addresses li"));
    expect(items.map((li) => li.querySelector("code.address")?.textContent)).toEqual(["192.168.1.5:1080", "[fd00::5]:1080"]);
    expect(document.querySelectorAll("#share-addresses .setup-url, #share-addresses .pac-url, #share-addresses .qr")).toHaveLength(0);
    expect(document.querySelector("#share-addresses")?.textContent).not.toContain("http://");
    expect(ipc.qrCode).not.toHaveBeenCalled();
    expect(visible("#http-off-note")).toBe(true);
    expect(text("#http-off-note")).toBe(t("status.httpOff"));
    expect(t("status.httpOff")).toContain("Settings");
    expect(text("#share-intro")).toBe("Set a device's SOCKS proxy to one of these addresses.");
    expect(visible("#visits-block")).toBe(false);
    // HTTP back on: the URLs come back.
    view.apply(SHARING_OPEN);
    expect(document.querySelectorAll("#share-addresses code.setup-url")).toHaveLength(2);
    expect(visible("#http-off-note")).toBe(false);
    expect(visible("#visits-block")).toBe(true);
  });

  it("says when a QR code cannot be made", async () => {
    vi.mocked(ipc.qrCode).mockRejectedValue({ message: "data too long" });
    await mount(SHARING_OPEN);
    await flush();
    expect(text("#share-addresses .qr")).toContain("data too long");
  });

  it("hides the warning and the share list again when sharing stops", async () => {
    const view = await mount(SHARING_OPEN);
    view.apply(RUNNING);
    expect(visible("#open-warning")).toBe(false);
    expect(visible("#share-addresses")).toBe(false);
    expect(document.querySelectorAll("#share-addresses li")).toHaveLength(0);
  });
});

describe("devices that opened the setup page", () => {
  it("shows the empty state while no device has", async () => {
    await mount(SHARING_OPEN);
    expect(visible("#visits-block")).toBe(true);
    expect(text("#visits-title")).toBe("Devices that opened the setup page recently");
    expect(visible("#visits-empty")).toBe(true);
    expect(text("#visits-empty")).toBe(t("status.noVisits"));
    expect(t("status.noVisits")).toBe("No device has opened the setup page yet. Scan the code with the phone's camera.");
    expect(visible("#visits")).toBe(false);
  });

  it("lists each device: what it is, its address, what it fetched, how often and when", async () => {
    vi.mocked(ipc.recentVisits).mockResolvedValue([PHONE, LAPTOP]);
    await mount(SHARING_OPEN);
    expect(visible("#visits-empty")).toBe(false);
    expect(visitRows()).toEqual([
      ["Android phone", "192.168.1.23", "Setup page", "3", "2 min ago"],
      ['<img src=x onerror="alert(1)">', "fd00::7", "PAC file", "1", "just now"],
    ]);
    // An agent is text, never markup; the whole agent is in the title.
    expect(document.querySelector("#visits img")).toBeNull();
    expect(document.querySelector("#visits td")?.getAttribute("title")).toBe(PHONE.agent);
  });

  it("follows the visits-changed event, reusing the rows", async () => {
    vi.mocked(ipc.recentVisits).mockResolvedValue([PHONE]);
    await mount(SHARING_OPEN);
    const row = document.querySelector("#visits tbody tr");
    visitsHandler?.([{ ...PHONE, count: 4, lastAt: Date.now() }, LAPTOP]);
    expect(document.querySelector("#visits tbody tr")).toBe(row);
    expect(visitRows().map((r) => [r[3], r[4]])).toEqual([["4", "just now"], ["1", "just now"]]);
    visitsHandler?.([]);
    expect(visitRows()).toEqual([]);
    expect(visible("#visits-empty")).toBe(true);
  });

  it("prefers a list that arrives while the first one is being read", async () => {
    let answer: (v: Visit[]) => void = () => {};
    vi.mocked(ipc.recentVisits).mockReturnValue(new Promise<Visit[]>((resolve) => (answer = resolve)));
    vi.mocked(ipc.serverStatus).mockResolvedValue(SHARING_OPEN);
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    const view = mountStatus(section);
    await flush();
    visitsHandler?.([LAPTOP]);
    answer([PHONE]);
    await view.ready;
    expect(visitRows().map((r) => r[1])).toEqual(["fd00::7"]);
  });

  it("brings the times up to date when their words change, only while the view is shown", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      vi.mocked(ipc.recentVisits).mockResolvedValue([{ ...PHONE, lastAt: Date.now() - 30_000 }]);
      const view = await mount(SHARING_OPEN);
      expect(visitRows()[0]?.[4]).toBe("just now");
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(29_999);
      expect(visitRows()[0]?.[4]).toBe("just now");
      vi.advanceTimersByTime(1);
      expect(visitRows()[0]?.[4]).toBe("1 min ago");
      view.hide();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(120_000);
      expect(visitRows()[0]?.[4]).toBe("1 min ago");
      view.show();
      expect(visitRows()[0]?.[4]).toBe("3 min ago");
      expect(vi.getTimerCount()).toBe(1);
      // Sharing stops: no timer is left.
      view.apply({ ...SHARING_OPEN, shareAddresses: [] });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("says nothing of devices when the list cannot be read", async () => {
    vi.mocked(ipc.recentVisits).mockRejectedValue(new Error("no IPC"));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await mount(SHARING_OPEN);
    expect(visible("#visits-empty")).toBe(true);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});

describe("status view updates", () => {
  it("follows the status-changed event", async () => {
    await mount(STOPPED);
    expect(statusHandler).not.toBeNull();
    statusHandler?.(RUNNING);
    expect(text("#server-state")).toBe("Running");
    expect(text("#server-toggle")).toBe("Stop");
    statusHandler?.(FAILED);
    expect(text("#server-state")).toBe("Failed");
    expect(text("#server-error")).toBe(FAILED.error);
  });

  it("does not redraw when the status did not change", async () => {
    const view = await mount(SHARING_OPEN);
    await flush();
    const before = document.querySelector("#share-addresses li");
    const listItem = document.querySelector("#listening li");
    view.apply({ ...SHARING_OPEN, listening: [...SHARING_OPEN.listening] });
    expect(document.querySelector("#share-addresses li")).toBe(before);
    expect(document.querySelector("#listening li")).toBe(listItem);
    expect(ipc.qrCode).toHaveBeenCalledTimes(2);
  });

  it("touches the page not at all for a repeated status", async () => {
    const view = await mount(SHARING_OPEN);
    await flush();
    const records: MutationRecord[] = [];
    const observer = new MutationObserver((list) => records.push(...list));
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    view.apply(structuredClone(SHARING_OPEN));
    statusHandler?.(structuredClone(SHARING_OPEN));
    await flush();
    records.push(...observer.takeRecords());
    observer.disconnect();
    expect(records).toHaveLength(0);
  });

  it("keeps the address lists when only the state changes", async () => {
    const view = await mount(RUNNING);
    const first = document.querySelector("#listening li");
    view.apply({ ...RUNNING, openWarning: true });
    expect(document.querySelector("#listening li")).toBe(first);
  });

  it("starts the server, disabling the button while the call is in flight", async () => {
    await mount(STOPPED);
    let finish: (s: Status) => void = () => {};
    vi.mocked(ipc.startServer).mockReturnValue(new Promise<Status>((resolve) => (finish = resolve)));
    const toggle = $<HTMLButtonElement>("#server-toggle");
    toggle.click();
    expect(ipc.startServer).toHaveBeenCalledTimes(1);
    expect(ipc.stopServer).not.toHaveBeenCalled();
    expect(toggle.disabled).toBe(true);
    toggle.click(); // ignored while busy
    expect(ipc.startServer).toHaveBeenCalledTimes(1);
    finish(RUNNING);
    await flush();
    expect(toggle.disabled).toBe(false);
    expect(text("#server-state")).toBe("Running");
    expect(text("#server-toggle")).toBe("Stop");
  });

  it("stops a running server", async () => {
    await mount(RUNNING);
    vi.mocked(ipc.stopServer).mockResolvedValue(STOPPED);
    $<HTMLButtonElement>("#server-toggle").click();
    await flush();
    expect(ipc.stopServer).toHaveBeenCalledTimes(1);
    expect(ipc.startServer).not.toHaveBeenCalled();
    expect(text("#server-state")).toBe("Stopped");
    expect(text("#server-toggle")).toBe("Start");
    expect(visible("#listening")).toBe(false);
  });

  it("offers Start again after a failed start, with the reason shown", async () => {
    await mount(STOPPED);
    vi.mocked(ipc.startServer).mockResolvedValue(FAILED);
    $<HTMLButtonElement>("#server-toggle").click();
    await flush();
    expect(text("#server-toggle")).toBe("Start");
    expect(text("#server-error")).toBe(FAILED.error);
    vi.mocked(ipc.startServer).mockResolvedValue(RUNNING);
    $<HTMLButtonElement>("#server-toggle").click();
    await flush();
    expect(ipc.startServer).toHaveBeenCalledTimes(2);
    expect(visible("#server-error")).toBe(false);
  });

  it("shows an unexpected rejection in words", async () => {
    await mount(STOPPED);
    vi.mocked(ipc.startServer).mockRejectedValue("Command start_server not found");
    $<HTMLButtonElement>("#server-toggle").click();
    await flush();
    expect(text("#server-error")).toBe("Command start_server not found");
    expect(text("#server-state")).toBe("Stopped");
    expect($<HTMLButtonElement>("#server-toggle").disabled).toBe(false);
  });

  it("prefers an event that arrives while the first status is being read", async () => {
    let answer: (s: Status) => void = () => {};
    vi.mocked(ipc.serverStatus).mockReturnValue(new Promise<Status>((resolve) => (answer = resolve)));
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    const view = mountStatus(section);
    await flush();
    statusHandler?.(RUNNING);
    answer(STOPPED);
    await view.ready;
    expect(text("#server-state")).toBe("Running");
  });

  it("says when the state cannot be read", async () => {
    vi.mocked(ipc.serverStatus).mockRejectedValue(new Error("no IPC"));
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    await mountStatus(section).ready;
    expect(text("#server-error")).toContain("no IPC");
  });
});

describe("the status model", () => {
  it("takes a status, and says whether it differs from the one on screen", () => {
    const model = new ServerStatus();
    expect(model.canToggle()).toBe(false);
    model.callError = "no IPC";
    expect(model.take(RUNNING)).toBe(true);
    expect(model.callError).toBeNull();
    expect(model.canToggle()).toBe(true);
    expect(model.running()).toBe(true);
    expect(model.take(structuredClone(RUNNING))).toBe(false);
    expect(model.take(STOPPED)).toBe(true);
    model.busy = true;
    expect(model.canToggle()).toBe(false);
  });

  it("shows the status's own error first, then a failed call's, and never a blank one", () => {
    const model = new ServerStatus();
    expect(model.errorText()).toBeNull();
    model.take(FAILED);
    model.callError = "the call failed";
    expect(model.errorText()).toBe(FAILED.error);
    model.take(STOPPED);
    model.callError = "the call failed";
    expect(model.errorText()).toBe("the call failed");
    model.callError = "  ";
    expect(model.errorText()).toBeNull();
  });

  it("names each state", () => {
    expect([stateLabel("stopped"), stateLabel("running"), stateLabel("failed")]).toEqual(["Stopped", "Running", "Failed"]);
  });
});
