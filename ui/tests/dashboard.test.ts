// The Status page as a dashboard: the address and the how-tos filled from
// the real port and whether passwords are required, the firewall's part
// of the warning line and when it is asked, the first start's lines, and
// the rates and connection count from the live channel.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { FirewallCheck, LiveMessage, Status } from "../src/ipc";
import { mountStatus } from "../src/views/status";
import { firewallAttention } from "../src/views/status/attention";
import { FIREWALL_INTERVAL_MS, FirewallChecks } from "../src/views/status/firewall";
import { howTos, localAddress, splitAddress } from "../src/views/status/howto";
import { INTRO_DISMISSED_KEY } from "../src/views/status/intro";
import { $, flush, text } from "./fixtures/dom";
import { reset, tick, totals } from "./fixtures/live";
import { SETTINGS } from "./fixtures/settings";

vi.mock("../src/ipc");
vi.mock("../src/graph", () => ({ createGraph: () => ({ draw: () => {}, resize: () => {} }) }));

const RUNNING = {
  state: "running",
  listening: ["127.0.0.1:1080", "[::1]:1080"],
  shareAddresses: [],
  openWarning: false,
  servesHttp: true,
} satisfies Status;
const SHARING = {
  state: "running",
  listening: ["0.0.0.0:1080", "[::]:1080"],
  shareAddresses: ["192.168.1.5:1080"],
  openWarning: true,
  servesHttp: true,
} satisfies Status;
const BLOCKED: FirewallCheck = {
  reports: [
    { listen: "0.0.0.0:1080", port: 1080, firewall: "ufw", state: "blocks", why: "default incoming policy deny", fix: "sudo ufw allow 1080/tcp", whatToCheck: null },
    { listen: "[::]:1080", port: 1080, firewall: "ufw", state: "unknown", why: null, fix: null, whatToCheck: "run sudo ufw status verbose" },
  ],
};

describe("the address and the how-tos", () => {
  it("gives programs a loopback address for a server on every interface", () => {
    expect(localAddress(["0.0.0.0:1080", "[::]:1080"])).toBe("127.0.0.1:1080");
    expect(localAddress(["[::]:2080"])).toBe("[::1]:2080");
    expect(localAddress(["[::1]:1080", "127.0.0.1:1080"])).toBe("127.0.0.1:1080");
    expect(localAddress([])).toBeNull();
    expect(splitAddress("[::1]:1080")).toEqual({ host: "::1", port: "1080" });
  });

  it("fills each program's steps from the port, and asks for the user only when passwords are required", () => {
    const open = howTos("127.0.0.1:2080", false);
    expect(open.map((h) => h.program)).toEqual(["firefox", "chromium", "curl", "git", "ssh", "telegram"]);
    const commands = open.flatMap((h) => h.commands);
    expect(commands).toContain('chromium --proxy-server="socks5://127.0.0.1:2080"');
    expect(commands).toContain("curl --socks5-hostname 127.0.0.1:2080 https://example.com/");
    expect(commands).toContain("git config --global http.proxy socks5h://127.0.0.1:2080");
    expect(commands).toContain("ssh -o ProxyCommand='nc -X 5 -x 127.0.0.1:2080 %h %p' HOST");
    const firefox = open[0]?.steps.join(" ") ?? "";
    expect(firefox).toContain("SOCKS Host 127.0.0.1, Port 2080, SOCKS v5");
    expect(firefox).toContain("Proxy DNS when using SOCKS v5");
    expect(open.find((h) => h.program === "telegram")?.steps.join(" ")).toContain("host 127.0.0.1, port 2080");
    expect(open.flatMap((h) => h.steps).join(" ")).not.toContain("user and password");

    const locked = howTos("127.0.0.1:2080", true);
    expect(locked.flatMap((h) => h.commands)).toContain("git config --global http.proxy socks5h://USER:PASSWORD@127.0.0.1:2080");
    expect(locked.flatMap((h) => h.commands)).toContain("curl --socks5-hostname 127.0.0.1:2080 --proxy-user USER:PASSWORD https://example.com/");
    expect(locked.find((h) => h.program === "telegram")?.steps.join(" ")).toContain("user and password");
  });
});

describe("the firewall's warnings", () => {
  it("names the fix while sharing, and nothing when not sharing", () => {
    const items = firewallAttention(SHARING, BLOCKED);
    expect(items.map((i) => i.kind)).toEqual(["blocks", "unknown"]);
    expect(items[0]?.command).toBe("sudo ufw allow 1080/tcp");
    expect(items[0]?.text).toContain("ufw blocks TCP port 1080");
    expect(items[1]?.text).toContain("run sudo ufw status verbose");
    expect(firewallAttention(RUNNING, BLOCKED)).toEqual([]);
    expect(firewallAttention(SHARING, null)).toEqual([]);
  });

  it("asks while sharing, at most once a minute, and at once on Check again", async () => {
    let now = 0;
    const check = vi.fn(() => Promise.resolve(BLOCKED));
    const checks = new FirewallChecks(check, () => {}, () => now);
    checks.follow(RUNNING);
    expect(check).not.toHaveBeenCalled();
    checks.follow(SHARING);
    await flush();
    expect(check).toHaveBeenCalledTimes(1);
    expect(checks.last).toEqual(BLOCKED);
    now += FIREWALL_INTERVAL_MS - 1;
    checks.follow({ ...SHARING, openWarning: false });
    await flush();
    expect(check).toHaveBeenCalledTimes(1);
    checks.again();
    await flush();
    expect(check).toHaveBeenCalledTimes(2);
    now += FIREWALL_INTERVAL_MS;
    checks.follow(SHARING);
    await flush();
    expect(check).toHaveBeenCalledTimes(3);
    checks.follow({ state: "stopped" });
    expect(checks.last).toBeNull();
    checks.again();
    await flush();
    expect(check).toHaveBeenCalledTimes(3);
  });
});

describe("the dashboard", () => {
  let statusHandler: ((s: Status) => void) | null = null;
  let liveHandler: ((m: LiveMessage) => void) | null = null;
  const unwatch = vi.fn(() => Promise.resolve());

  async function mount(initial: Status, passwordRequired = false) {
    vi.mocked(ipc.serverStatus).mockResolvedValue(initial);
    vi.mocked(ipc.getSettings).mockResolvedValue({ settings: { ...SETTINGS, passwordRequired }, warning: null });
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    const view = mountStatus(section);
    await view.ready;
    await flush();
    return view;
  }

  beforeEach(() => {
    vi.resetAllMocks();
    localStorage.clear();
    vi.mocked(ipc.onStatusChanged).mockImplementation((handler) => {
      statusHandler = handler;
      return Promise.resolve(() => {});
    });
    vi.mocked(ipc.onVisitsChanged).mockResolvedValue(() => {});
    vi.mocked(ipc.onSystemProxyChanged).mockResolvedValue(() => {});
    vi.mocked(ipc.recentVisits).mockResolvedValue([]);
    vi.mocked(ipc.copyText).mockResolvedValue(undefined);
    vi.mocked(ipc.qrCode).mockResolvedValue("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>");
    vi.mocked(ipc.firewallCheck).mockResolvedValue(BLOCKED);
    vi.mocked(ipc.watchLive).mockImplementation((handler) => {
      liveHandler = handler;
      return Promise.resolve(unwatch);
    });
  });

  afterEach(() => document.body.replaceChildren());

  it("shows the address with a Copy button and the how-tos once running", async () => {
    await mount({ state: "stopped" });
    expect($("#use-running").hidden).toBe(true);
    expect(text("#server-toggle")).toBe("Start");
    statusHandler?.({ ...RUNNING, listening: ["127.0.0.1:2080"] });
    await flush();
    expect($("#use-running").hidden).toBe(false);
    expect(text("#proxy-address")).toBe("127.0.0.1:2080");
    expect(text("#server-toggle")).toBe("Stop");
    $("#proxy-address-copy-button").click();
    await flush();
    expect(ipc.copyText).toHaveBeenCalledWith("127.0.0.1:2080");
    const programs = Array.from(document.querySelectorAll<HTMLDetailsElement>("#howtos details")).map((d) => d.dataset.program);
    expect(programs).toEqual(["firefox", "chromium", "curl", "git", "ssh", "telegram"]);
    expect($("#use-passwords").hidden).toBe(true);
  });

  it("says a user and password are needed when the settings require them", async () => {
    await mount(RUNNING, true);
    expect($("#use-passwords").hidden).toBe(false);
    expect(text("#howtos")).toContain("USER:PASSWORD@127.0.0.1:1080");
  });

  it("shows the firewall's fix with a Copy button while sharing", async () => {
    await mount(SHARING);
    await flush();
    expect($("#firewall-block").hidden).toBe(false);
    expect(text("#firewall-warnings .fix")).toBe("sudo ufw allow 1080/tcp");
    expect($("#open-warning-block").hidden).toBe(false);
    expect($("#lan-state").dataset.sharing).toBe("true");
    vi.mocked(ipc.firewallCheck).mockResolvedValue({ reports: [] });
    $("#firewall-again").click();
    await flush();
    await flush();
    expect($("#firewall-block").hidden).toBe(true);
  });

  it("shows the first start's lines until they are dismissed, and not after", async () => {
    await mount({ state: "stopped" });
    expect($("#intro").hidden).toBe(false);
    $("#intro-dismiss").click();
    expect($("#intro").hidden).toBe(true);
    expect(localStorage.getItem(INTRO_DISMISSED_KEY)).toBe("1");
    await mount({ state: "stopped" });
    expect($("#intro").hidden).toBe(true);
  });

  it("shows the rates and the open connections while shown, and stops watching when hidden", async () => {
    const view = await mount(RUNNING);
    // The window opens on the Status page: it watches from the start.
    expect(ipc.watchLive).toHaveBeenCalledTimes(1);
    liveHandler?.(reset({ totals: totals({ activeSessions: 2 }), history: [[10_000, 2048, 4096]] }));
    await new Promise((r) => setTimeout(r, 30));
    expect(text("#dash-connections")).toBe("2 open connections");
    expect(text("#dash-rate-down")).toContain("4");
    liveHandler?.(tick({ totals: totals({ activeSessions: 1 }), point: [11_000, 0, 0] }));
    await new Promise((r) => setTimeout(r, 30));
    expect($("#dash-connections").dataset.count).toBe("1");
    view.hide();
    await flush();
    expect(unwatch).toHaveBeenCalledTimes(1);
    view.show();
    await flush();
    expect(ipc.watchLive).toHaveBeenCalledTimes(2);
  });
});
