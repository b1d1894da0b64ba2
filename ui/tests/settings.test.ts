import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { Settings, Status } from "../src/ipc";
import { mountSettings, renderUpstreamReport } from "../src/views/settings";
import { LIMIT_IDS, checkFieldText, dependentsOf, policyOf, settingsFrom, valuesOf } from "../src/views/settings/model";
import { LIMIT_KEYS } from "../src/validate";
import { flush } from "./fixtures/dom";
import { user } from "./fixtures/users";
import { NO_POLICY } from "../src/views/policy/model";
import { SETTINGS as DEFAULTS } from "./fixtures/settings";

vi.mock("../src/ipc");

const SETTINGS: Settings = { ...DEFAULTS, upstream: ["socks5://alice@gw.example:1080"] };
const RUNNING: Status = { state: "running", listening: ["127.0.0.1:1080"], shareAddresses: [], openWarning: false, servesHttp: true };

function field<T extends HTMLElement = HTMLInputElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} not found`);
  return el as T;
}
const text = (id: string): string => (field<HTMLElement>(id).textContent ?? "").trim();

function type(id: string, value: string): void {
  const el = field<HTMLInputElement | HTMLTextAreaElement>(id);
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

function choose(id: string, value: string): void {
  const el = field<HTMLSelectElement>(id);
  el.value = value;
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

function tick(id: string, checked: boolean): void {
  const el = field(id);
  el.checked = checked;
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

async function mount(settings: Settings = SETTINGS, warning: string | null = null) {
  vi.mocked(ipc.getSettings).mockResolvedValue({ settings: structuredClone(settings), warning });
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  const onStatus = vi.fn();
  const view = mountSettings(section, { onStatus });
  await view.ready;
  return { view, onStatus };
}

async function save(): Promise<void> {
  field<HTMLButtonElement>("save-settings").click();
  await flush();
  await flush();
}

beforeEach(() => {
  vi.resetAllMocks();
});

describe("settings view", () => {
  it("fills the form from get_settings and shows its warning", async () => {
    await mount({ ...SETTINGS, clientPolicy: "custom", allowedRanges: ["10.0.0.0/8", "fd00::/8"] }, "The settings file was damaged.");
    expect(field("port").value).toBe("1080");
    expect(field<HTMLSelectElement>("client-policy").value).toBe("custom");
    expect(field<HTMLTextAreaElement>("allowed-ranges").value).toBe("10.0.0.0/8\nfd00::/8");
    expect(field("timeout-idle").value).toBe("3600");
    expect(field("timeout-udp-idle").value).toBe("120");
    expect(field<HTMLTextAreaElement>("upstream").value).toBe("socks5://alice@gw.example:1080");
    expect(field("notifications").checked).toBe(true);
    expect(field("test-target").value).toBe("example.org:443");
    expect(text("settings-warning")).toBe("The settings file was damaged.");
    expect(field("settings-warning").hidden).toBe(false);
  });

  it("gives every input a label", async () => {
    await mount();
    const controls = document.querySelectorAll("input, select, textarea");
    expect(controls.length).toBeGreaterThan(10);
    for (const control of Array.from(controls)) {
      expect(document.querySelector(`label[for="${control.id}"]`), control.id).not.toBeNull();
    }
  });

  it("enables the ranges only for the custom policy", async () => {
    await mount();
    expect(field<HTMLTextAreaElement>("allowed-ranges").disabled).toBe(true);
    choose("client-policy", "custom");
    expect(field<HTMLTextAreaElement>("allowed-ranges").disabled).toBe(false);
    expect(text("error-allowed-ranges")).toContain("at least one");
    choose("client-policy", "lan");
    expect(field<HTMLTextAreaElement>("allowed-ranges").disabled).toBe(true);
    expect(field("error-allowed-ranges").hidden).toBe(true);
  });

  it("checks fields as they are typed", async () => {
    await mount();
    type("port", "70000");
    expect(text("error-port")).toBe("Enter a port between 1 and 65535.");
    expect(field("port").getAttribute("aria-invalid")).toBe("true");
    type("port", "80");
    expect(field("error-port").hidden).toBe(true);
    expect(field("port").hasAttribute("aria-invalid")).toBe(false);
    expect(text("hint-port")).toContain("administrator");
    type("timeout-connect", "0");
    expect(text("error-timeout-connect")).toContain("between 1 and 86400");
    type("upstream", "https://proxy:8080");
    expect(text("error-upstream")).toContain("Line 1");
    type("upstream", "http://alice@proxy:8080");
    expect(field("error-upstream").hidden).toBe(true);
  });

  it("shows the HTTP switch and saves it with the other settings", async () => {
    await mount({ ...SETTINGS, http: { enabled: false } });
    expect(field("http-enabled").checked).toBe(false);
    expect(document.querySelector('label[for="http-enabled"]')?.textContent).toBe(
      "Serve HTTP proxy, setup page and PAC file on the same port",
    );
    vi.mocked(ipc.saveSettings).mockResolvedValue({ settings: SETTINGS, status: RUNNING });
    tick("http-enabled", true);
    await save();
    expect(ipc.saveSettings).toHaveBeenCalledWith({ ...SETTINGS, http: { enabled: true } });
    expect(field("http-enabled").checked).toBe(true);
  });

  it("does not call save_settings while a field is wrong", async () => {
    await mount();
    type("timeout-handshake", "abc");
    await save();
    expect(ipc.saveSettings).not.toHaveBeenCalled();
    expect(document.activeElement?.id).toBe("timeout-handshake");
  });

  it("saves, confirms and passes the status on", async () => {
    const { onStatus } = await mount();
    const returned = { ...SETTINGS, port: 2080, upstream: ["socks5://bob@gw.example:1080"] };
    vi.mocked(ipc.saveSettings).mockResolvedValue({ settings: returned, status: RUNNING });
    type("port", "2080");
    type("upstream", "socks5://bob:secret@gw.example:1080\n");
    expect(text("hint-upstream")).toContain("keyring");
    await save();
    expect(ipc.saveSettings).toHaveBeenCalledWith({
      ...SETTINGS,
      port: 2080,
      upstream: ["socks5://bob:secret@gw.example:1080"],
    });
    expect(text("settings-saved")).toBe("Settings saved.");
    expect(field<HTMLTextAreaElement>("upstream").value).toBe("socks5://bob@gw.example:1080");
    expect(onStatus).toHaveBeenCalledWith(RUNNING);
    type("port", "2081");
    expect(text("settings-saved")).toBe("");
  });

  it("keeps settings keys the form does not show", async () => {
    const withUsers = { ...SETTINGS, users: [{ name: "alice", enabled: true }] } as Settings;
    await mount(withUsers);
    vi.mocked(ipc.saveSettings).mockResolvedValue({ settings: withUsers, status: RUNNING });
    await save();
    expect(vi.mocked(ipc.saveSettings).mock.calls[0]?.[0]).toHaveProperty("users", [{ name: "alice", enabled: true }]);
  });

  it("puts the errors of save_settings next to their fields", async () => {
    await mount();
    vi.mocked(ipc.saveSettings).mockRejectedValue({
      errors: [
        { field: "port", message: "Port 1080 is in use by another program." },
        { field: "timeouts.udpIdle", message: "Too long." },
        { field: "upstream", message: "hop 1: unknown scheme" },
        { field: "general", message: "The settings file cannot be written." },
      ],
    });
    await save();
    expect(text("error-port")).toBe("Port 1080 is in use by another program.");
    expect(text("error-timeout-udp-idle")).toBe("Too long.");
    expect(text("error-upstream")).toBe("hop 1: unknown scheme");
    expect(text("settings-error")).toBe("The settings file cannot be written.");
    expect(text("settings-saved")).toBe("");
    expect(document.activeElement?.id).toBe("port");
  });

  it("keeps every field id, and has one for each limit and destination setting", async () => {
    await mount();
    for (const id of [
      "port", "share-on-lan", "password-required", "client-policy", "allowed-ranges",
      "timeout-handshake", "timeout-connect", "timeout-idle", "timeout-bind", "timeout-udp-idle",
      "http-enabled", "upstream", "test-target", "test-upstream", "start-on-launch", "launch-at-login", "notifications",
      "save-settings", "settings-saved", "settings-error", "settings-warning", "confirm-share",
      "deny-targets", "remote-reach-link-local", "remote-reach-multicast",
      "limit-sessions", "limit-handshakes", "limit-sessions-per-client", "limit-handshakes-per-client",
      "limit-udp-per-client", "limit-bind-per-client", "limit-udp-datagrams", "limits-for-loopback",
    ]) {
      expect(document.getElementById(id), id).not.toBeNull();
    }
    for (const key of LIMIT_KEYS) expect(field(LIMIT_IDS[key]).type, key).toBe("number");
  });

  it("shows the limits, the refused destinations and the remote-reach switches", async () => {
    await mount({
      ...SETTINGS,
      limits: { ...SETTINGS.limits, maxHandshakesPerClient: 3, perClientLimitsForLoopback: true },
      denyTargets: ["10.0.0.0/8", "192.168.1.20"],
      remoteReach: { linkLocal: true, multicast: false },
    });
    expect(field("limit-handshakes-per-client").value).toBe("3");
    expect(field("limit-sessions").value).toBe("4096");
    expect(field("limit-udp-datagrams").value).toBe("20000");
    expect(field("limits-for-loopback").checked).toBe(true);
    expect(field<HTMLTextAreaElement>("deny-targets").value).toBe("10.0.0.0/8\n192.168.1.20");
    expect(field("remote-reach-link-local").checked).toBe(true);
    expect(field("remote-reach-multicast").checked).toBe(false);
    const label = (id: string) => (document.querySelector(`label[for="${id}"]`)?.textContent ?? "").trim();
    expect(label("limit-handshakes-per-client")).toBe("Connections in their handshake, per device");
    expect(label("limit-handshakes")).toBe("Connections in their handshake");
    expect(label("limit-sessions-per-client")).toBe("Connections at once, per device");
    expect(label("remote-reach-link-local")).toBe("Let other devices reach link-local addresses (169.254.x.x, fe80::)");
    expect(label("remote-reach-multicast")).toContain("multicast and broadcast");
    expect(field<HTMLElement>("limits-legend").textContent).toBe("Limits");
    expect(field<HTMLElement>("deny-legend").textContent).toBe("Refused destinations");
  });

  it("checks limits and refused destinations as they are typed, a total with its per-device limit", async () => {
    await mount();
    type("limit-udp-per-client", "0");
    expect(text("error-limit-udp-per-client")).toBe("0 is out of range: enter a number from 1 to 1000000.");
    expect(field("limit-udp-per-client").getAttribute("aria-invalid")).toBe("true");
    type("limit-handshakes-per-client", "600");
    expect(text("error-limit-handshakes-per-client")).toBe(
      "600 is more than the limit for all devices (512): enter at most 512.",
    );
    // Raising the total clears the per-device message; lowering it brings it back.
    type("limit-handshakes", "1000");
    expect(field("error-limit-handshakes-per-client").hidden).toBe(true);
    type("limit-handshakes", "100");
    expect(text("error-limit-handshakes-per-client")).toContain("(100)");
    type("deny-targets", "10.0.0.0/8\n300.1.1.1/8");
    expect(text("error-deny-targets")).toBe('"300.1.1.1/8" is not an address or range like 10.0.0.0/8.');
    expect(field("deny-targets").getAttribute("aria-invalid")).toBe("true");
    type("deny-targets", "10.0.0.0/8\n");
    expect(field("error-deny-targets").hidden).toBe(true);
    await save();
    expect(ipc.saveSettings).not.toHaveBeenCalled();
    expect(document.activeElement?.id).toBe("limit-handshakes-per-client");
  });

  it("saves the limits, the refused destinations and the switches", async () => {
    await mount();
    vi.mocked(ipc.saveSettings).mockResolvedValue({ settings: SETTINGS, status: RUNNING });
    type("limit-handshakes-per-client", "3");
    type("limit-udp-datagrams", "500");
    tick("limits-for-loopback", true);
    type("deny-targets", " 127.0.0.2 \n\nfd00::/8\n");
    tick("remote-reach-multicast", true);
    await save();
    expect(ipc.saveSettings).toHaveBeenCalledWith({
      ...SETTINGS,
      limits: {
        ...SETTINGS.limits,
        maxHandshakesPerClient: 3,
        udpDatagramsPerSecond: 500,
        perClientLimitsForLoopback: true,
      },
      denyTargets: ["127.0.0.2", "fd00::/8"],
      remoteReach: { linkLocal: false, multicast: true },
    });
  });

  it("checks the bandwidth for the whole proxy as proxy-core reads it, and saves it", async () => {
    await mount({ ...SETTINGS, limits: { ...SETTINGS.limits, rateLimit: "50 MB/s" } });
    expect(field("limit-rate").value).toBe("50 MB/s");
    type("limit-rate", "50 MB");
    expect(text("error-limit-rate")).toBe('"50 MB" is not a rate (such as "2 MB/s").');
    expect(field("limit-rate").getAttribute("aria-invalid")).toBe("true");
    await save();
    expect(ipc.saveSettings).not.toHaveBeenCalled();
    expect(document.activeElement?.id).toBe("limit-rate");
    vi.mocked(ipc.saveSettings).mockResolvedValue({ settings: SETTINGS, status: RUNNING });
    type("limit-rate", " 10 Mbit/s ");
    expect(field("error-limit-rate").hidden).toBe(true);
    await save();
    expect(vi.mocked(ipc.saveSettings).mock.calls[0]?.[0].limits.rateLimit).toBe("10 Mbit/s");
    type("limit-rate", "");
    await save();
    expect(vi.mocked(ipc.saveSettings).mock.calls[1]?.[0].limits.rateLimit, "empty: no limit").toBe("");
    // The app's refusal lands next to the field too.
    vi.mocked(ipc.saveSettings).mockRejectedValue({
      errors: [{ field: "limits.rateLimit", message: '"x" is not a rate (such as "2 MB/s").' }],
    });
    await save();
    expect(text("error-limit-rate")).toBe('"x" is not a rate (such as "2 MB/s").');
  });

  it("sends back the users, mappings and devices it was given", async () => {
    const devices = [{ name: "tv", address: "192.168.1.23/32", policy: { ...NO_POLICY, rateLimit: "1 MB/s" } }];
    await mount({ ...SETTINGS, devices });
    vi.mocked(ipc.saveSettings).mockResolvedValue({ settings: SETTINGS, status: RUNNING });
    await save();
    expect(vi.mocked(ipc.saveSettings).mock.calls[0]?.[0].devices).toEqual(devices);
  });

  it("puts the Rust side's limit and destination errors next to their fields", async () => {
    await mount();
    vi.mocked(ipc.saveSettings).mockRejectedValue({
      errors: [
        { field: "limits.maxHandshakesPerClient", message: "600 is more than the limit for all devices (512): enter at most 512." },
        { field: "denyTargets", message: '"300.1.1.1/8" is not an address or range like 10.0.0.0/8.' },
        { field: "denyTargets", message: '"nope" is not an address or range like 10.0.0.0/8.' },
        { field: "limits.udpDatagramsPerSecond", message: "0 is out of range: enter a number from 1 to 1000000." },
      ],
    });
    await save();
    expect(text("error-limit-handshakes-per-client")).toContain("600 is more than");
    expect(text("error-deny-targets")).toBe(
      '"300.1.1.1/8" is not an address or range like 10.0.0.0/8. "nope" is not an address or range like 10.0.0.0/8.',
    );
    expect(text("error-limit-udp-datagrams")).toContain("0 is out of range");
    expect(field("settings-error").hidden).toBe(true);
    expect(document.activeElement?.id).toBe("limit-handshakes-per-client");
  });

  it("shows any other rejection in the general message", async () => {
    await mount();
    vi.mocked(ipc.saveSettings).mockRejectedValue({ message: "The system keyring cannot be reached: locked; nothing was saved." });
    await save();
    expect(text("settings-error")).toContain("The system keyring cannot be reached");
  });

  it("asks before sharing with no password and no enabled user, and unticks on No", async () => {
    await mount();
    vi.mocked(ipc.listUsers).mockResolvedValue({ users: [user("bob", false)], keyringError: null });
    tick("share-on-lan", true);
    await flush();
    const dialog = field<HTMLDialogElement>("confirm-share");
    expect(dialog.hasAttribute("open")).toBe(true);
    field<HTMLButtonElement>("confirm-share-no").click();
    await flush();
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(field("share-on-lan").checked).toBe(false);
  });

  it("keeps sharing on after Yes", async () => {
    await mount();
    vi.mocked(ipc.listUsers).mockResolvedValue({ users: [], keyringError: null });
    tick("share-on-lan", true);
    await flush();
    field<HTMLButtonElement>("confirm-share-yes").click();
    await flush();
    expect(field("share-on-lan").checked).toBe(true);
  });

  it("does not ask when a password is required or a user is enabled", async () => {
    await mount({ ...SETTINGS, passwordRequired: true });
    tick("share-on-lan", true);
    await flush();
    expect(field<HTMLDialogElement>("confirm-share").hasAttribute("open")).toBe(false);

    await mount();
    vi.mocked(ipc.listUsers).mockResolvedValue({ users: [user("alice", true)], keyringError: null });
    tick("share-on-lan", true);
    await flush();
    expect(field<HTMLDialogElement>("confirm-share").hasAttribute("open")).toBe(false);
    expect(field("share-on-lan").checked).toBe(true);
  });

  it("tests the upstream chain and shows each step", async () => {
    await mount();
    vi.mocked(ipc.testUpstream).mockResolvedValue({
      hops: [{ name: "hop 1 (socks5://gw.example:1080)", ok: true, millis: 12.4, error: null }],
      target: { name: "example.org:443", ok: false, millis: null, error: "connection refused" },
      udp: { status: "unsupported", millis: null, detail: "a SOCKS4 hop cannot carry UDP" },
    });
    type("test-target", "example.com:80");
    field<HTMLButtonElement>("test-upstream").click();
    await flush();
    expect(ipc.testUpstream).toHaveBeenCalledWith("example.com:80");
    const report = text("upstream-report");
    expect(report).toContain("hop 1 (socks5://gw.example:1080): OK, 12 ms");
    expect(report).toContain("Failed: connection refused");
    expect(report).toContain("UDP: Not supported by this chain: a SOCKS4 hop cannot carry UDP");
    expect(report).toContain("The chain does not work");
  });

  it("refuses a bad test target without calling", async () => {
    await mount();
    type("test-target", "example.org");
    expect(text("error-test-target")).toContain("host:port");
    field<HTMLButtonElement>("test-upstream").click();
    await flush();
    expect(ipc.testUpstream).not.toHaveBeenCalled();
  });
});

describe("renderUpstreamReport", () => {
  it("reports a working chain", () => {
    const box = document.createElement("div");
    box.append(
      renderUpstreamReport({
        hops: [],
        target: { name: "example.org:443", ok: true, millis: 0.4, error: null },
        udp: { status: "ok", millis: 30, detail: null },
      }),
    );
    expect(box.textContent).toContain("The chain works");
    expect(box.textContent).toContain("under 1 ms");
    expect(box.textContent).toContain("UDP: OK, 30 ms");
  });
});

describe("the settings model", () => {
  it("turns settings into the form's values and back", () => {
    const values = valuesOf({ ...SETTINGS, allowedRanges: ["10.0.0.0/8", "fd00::/8"], clientPolicy: "custom" });
    expect(values.port).toBe("1080");
    expect(values.allowedRanges).toBe("10.0.0.0/8\nfd00::/8");
    expect(values.timeouts.udpIdle).toBe("120");
    expect(settingsFrom(values, SETTINGS)).toEqual({ ...SETTINGS, allowedRanges: ["10.0.0.0/8", "fd00::/8"], clientPolicy: "custom" });
  });

  it("gives no settings while a value is wrong", () => {
    const values = valuesOf(SETTINGS);
    expect(settingsFrom({ ...values, port: "0" }, SETTINGS)).toBeNull();
    expect(settingsFrom({ ...values, timeouts: { ...values.timeouts, idle: "x" } }, SETTINGS)).toBeNull();
    expect(settingsFrom({ ...values, clientPolicy: "custom", allowedRanges: "" }, SETTINGS)).toBeNull();
  });

  it("carries the limits, the refused destinations and the switches both ways", () => {
    const settings: Settings = {
      ...SETTINGS,
      limits: { ...SETTINGS.limits, maxSessions: 100, maxSessionsPerClient: 100, perClientLimitsForLoopback: true },
      denyTargets: ["10.0.0.0/8", "::ffff:10.0.0.0/104"],
      remoteReach: { linkLocal: true, multicast: true },
    };
    const values = valuesOf(settings);
    expect(values.limits.maxSessionsPerClient).toBe("100");
    expect(values.perClientLimitsForLoopback).toBe(true);
    expect(values.denyTargets).toBe("10.0.0.0/8\n::ffff:10.0.0.0/104");
    expect(values.remoteReachLinkLocal && values.remoteReachMulticast).toBe(true);
    expect(settingsFrom(values, settings)).toEqual(settings);
  });

  it("gives no settings while a limit or a refused destination is wrong", () => {
    const values = valuesOf(SETTINGS);
    const limit = (key: string, text: string) => ({ ...values, limits: { ...values.limits, [key]: text } });
    expect(settingsFrom(limit("maxBindPerClient", "0"), SETTINGS)).toBeNull();
    expect(settingsFrom(limit("udpDatagramsPerSecond", "1000001"), SETTINGS)).toBeNull();
    expect(settingsFrom(limit("maxSessionsPerClient", "4097"), SETTINGS)).toBeNull();
    expect(settingsFrom(limit("maxSessionsPerClient", "4096"), SETTINGS)).not.toBeNull();
    expect(settingsFrom({ ...values, denyTargets: "example.org" }, SETTINGS)).toBeNull();
  });

  it("keeps limit and reach keys the form does not show", () => {
    const loaded = {
      ...SETTINGS,
      limits: { ...SETTINGS.limits, maxFuture: 7 },
      remoteReach: { ...SETTINGS.remoteReach, loopback: false },
    } as Settings;
    const saved = settingsFrom(valuesOf(loaded), loaded);
    expect(saved?.limits).toHaveProperty("maxFuture", 7);
    expect(saved?.remoteReach).toHaveProperty("loopback", false);
  });

  it("checks a limit by its id, a per-device one against its total's text", () => {
    expect(checkFieldText("limit-bind-per-client", "0", "loopback").error).toContain("0 is out of range");
    expect(checkFieldText("limit-handshakes-per-client", "33", "loopback", { maxHandshakes: "32" }).error).toBe(
      "33 is more than the limit for all devices (32): enter at most 32.",
    );
    expect(checkFieldText("limit-handshakes-per-client", "33", "loopback", { maxHandshakes: "x" }).error).toBeNull();
    expect(checkFieldText("limit-sessions", "999999", "loopback", { maxSessionsPerClient: "1000000" }).error).toBeNull();
    expect(checkFieldText("deny-targets", "nope", "loopback").error).toContain('"nope"');
    expect(dependentsOf("limit-handshakes")).toEqual(["limit-handshakes-per-client"]);
    expect(dependentsOf("limit-sessions")).toEqual(["limit-sessions-per-client"]);
    expect(dependentsOf("limit-udp-per-client")).toEqual([]);
    expect(dependentsOf("port")).toEqual([]);
  });

  it("checks one field by its id, with the hints that depend on the value", () => {
    expect(checkFieldText("port", "80", "loopback")).toEqual({ error: null, hint: expect.stringContaining("administrator") as string });
    expect(checkFieldText("port", "2080", "loopback")).toEqual({ error: null, hint: null });
    expect(checkFieldText("port", "70000", "loopback")).toEqual({ error: "Enter a port between 1 and 65535.", hint: null });
    expect(checkFieldText("timeout-connect", "0", "loopback").error).toContain("between 1 and 86400");
    expect(checkFieldText("allowed-ranges", "", "custom").error).toContain("at least one");
    expect(checkFieldText("allowed-ranges", "", "lan").error).toBeNull();
    expect(checkFieldText("client-policy", "everyone", "loopback").error).toBe("Choose who may connect.");
    expect(checkFieldText("notifications", "on", "loopback")).toEqual({ error: null });
    expect(policyOf("everyone")).toBe("loopback");
  });
});
