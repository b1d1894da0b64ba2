import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { SystemProxy } from "../src/ipc";
import { mountStatus } from "../src/views/status";
import { SYSTEM_PROXY_TEXT } from "../src/views/status/markup";
import { systemProxyDescription } from "../src/views/status/system-proxy";
import { mountSettings } from "../src/views/settings";
import { $, flush, text } from "./fixtures/dom";
import { SETTINGS } from "./fixtures/settings";

vi.mock("../src/ipc");
vi.mock("../src/graph", () => ({ createGraph: () => ({ draw: () => {}, resize: () => {} }) }));

const OFF: SystemProxy = {
  desktop: "GNOME",
  protocols: "SOCKS5, HTTP and HTTPS",
  on: false,
  address: null,
  error: null,
  recovered: false,
  envFile: "/home/ann/.local/share/socksbox/proxy.env",
  envLine: "[ -r /home/ann/.local/share/socksbox/proxy.env ] && . /home/ann/.local/share/socksbox/proxy.env",
  envWritten: false,
};
const ON: SystemProxy = { ...OFF, on: true, address: "127.0.0.1:1080", envWritten: true };
const NO_DESKTOP: SystemProxy = { ...OFF, desktop: null, protocols: null };

let changed: ((status: SystemProxy) => void) | null = null;

const toggle = (): HTMLInputElement => $<HTMLInputElement>("#system-proxy-toggle");
const shown = (selector: string): boolean => !$(selector).hidden;

async function mount(first: SystemProxy): Promise<void> {
  vi.mocked(ipc.systemProxyStatus).mockResolvedValue(first);
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  await mountStatus(section).ready;
}

function click(): void {
  const box = toggle();
  box.checked = !box.checked;
  box.dispatchEvent(new Event("change", { bubbles: true }));
}

beforeEach(() => {
  vi.resetAllMocks();
  changed = null;
  vi.mocked(ipc.serverStatus).mockResolvedValue({ state: "stopped" });
  vi.mocked(ipc.onStatusChanged).mockResolvedValue(() => {});
  vi.mocked(ipc.onVisitsChanged).mockResolvedValue(() => {});
  vi.mocked(ipc.recentVisits).mockResolvedValue([]);
  vi.mocked(ipc.copyText).mockResolvedValue(undefined);
  vi.mocked(ipc.watchLive).mockResolvedValue(() => Promise.resolve());
  vi.mocked(ipc.onSystemProxyChanged).mockImplementation((handler) => {
    changed = handler;
    return Promise.resolve(() => {});
  });
});

describe("the system proxy switch on the status page", () => {
  it("names the desktop and what it gets while off", async () => {
    await mount(OFF);
    expect(toggle().checked).toBe(false);
    expect(toggle().disabled).toBe(false);
    expect(text("#system-proxy-desktop")).toContain("Points the proxy settings of GNOME at this proxy: SOCKS5, HTTP and HTTPS.");
    expect(text("#system-proxy-desktop")).toContain("localhost, 127.0.0.0/8, ::1");
    expect(shown("#system-proxy-error")).toBe(false);
    expect(shown("#system-proxy-recovered")).toBe(false);
    expect(shown("#system-proxy-env")).toBe(false);
  });

  it("is disabled, saying why, where no supported desktop was found", async () => {
    await mount(NO_DESKTOP);
    expect(toggle().disabled).toBe(true);
    expect(text("#system-proxy-desktop")).toBe(SYSTEM_PROXY_TEXT.unsupported);
    click();
    await flush();
    expect(ipc.setSystemProxy).not.toHaveBeenCalled();
  });

  it("turns on through set_system_proxy and shows where the desktop points and the terminals' line", async () => {
    await mount(OFF);
    let answer: (status: SystemProxy) => void = () => {};
    vi.mocked(ipc.setSystemProxy).mockReturnValue(new Promise((resolve) => (answer = resolve)));
    click();
    expect(ipc.setSystemProxy).toHaveBeenCalledWith(true);
    // Until the app answers, the switch shows what is, and waits.
    expect(toggle().checked).toBe(false);
    expect(toggle().disabled).toBe(true);
    answer(ON);
    await flush();
    expect(toggle().checked).toBe(true);
    expect(toggle().disabled).toBe(false);
    expect(text("#system-proxy-desktop")).toBe(
      "The proxy settings of GNOME point at 127.0.0.1:1080: SOCKS5, HTTP and HTTPS. Turning this off, stopping the proxy or quitting SocksBox puts your own settings back.",
    );
    expect(shown("#system-proxy-env")).toBe(true);
    expect(text("#system-proxy-env-path")).toBe(ON.envFile);
    expect(text("#system-proxy-env-line code")).toBe(ON.envLine);
    $<HTMLButtonElement>("#system-proxy-env-line button.copy").click();
    await flush();
    expect(ipc.copyText).toHaveBeenCalledWith(ON.envLine);
  });

  it("says why a change was refused, and the switch stays as it was", async () => {
    await mount(OFF);
    vi.mocked(ipc.setSystemProxy).mockRejectedValue({ message: "The proxy could not start, so the desktop was not pointed at it: Port 1080 is in use by another program." });
    click();
    await flush();
    expect(toggle().checked).toBe(false);
    expect(shown("#system-proxy-error")).toBe(true);
    expect(text("#system-proxy-error")).toContain("Port 1080 is in use by another program.");
  });

  it("follows the state the app announces (the tray, a server stop) and shows its error and a recovery", async () => {
    await mount(ON);
    expect(toggle().checked).toBe(true);
    changed?.({ ...OFF, error: "Your own proxy settings could not be put back: gsettings failed: no dconf." });
    expect(toggle().checked).toBe(false);
    expect(text("#system-proxy-error")).toContain("gsettings failed: no dconf.");
    changed?.({ ...OFF, recovered: true });
    expect(shown("#system-proxy-error")).toBe(false);
    expect(shown("#system-proxy-recovered")).toBe(true);
    expect(text("#system-proxy-recovered")).toBe(SYSTEM_PROXY_TEXT.recovered);
  });

  it("writes each desktop's words from what the app says", () => {
    const windows = { ...ON, desktop: "Windows", protocols: "HTTP and HTTPS (Windows' own settings have no SOCKS5)" };
    expect(systemProxyDescription(windows)).toContain("The proxy settings of Windows point at 127.0.0.1:1080: HTTP and HTTPS");
    expect(systemProxyDescription({ ...ON, address: null })).toContain("Points the proxy settings of GNOME");
  });
});

describe("the terminals' file in settings", () => {
  it("is a saved checkbox, with the file and the line for a shell profile beside it", async () => {
    vi.mocked(ipc.getSettings).mockResolvedValue({ settings: { ...SETTINGS, systemProxyEnvFile: true }, warning: null });
    vi.mocked(ipc.systemProxyStatus).mockResolvedValue(OFF);
    vi.mocked(ipc.saveSettings).mockImplementation((settings) => Promise.resolve({ settings, status: { state: "stopped" } }));
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    await mountSettings(section).ready;
    const box = $<HTMLInputElement>("#system-proxy-env-file");
    expect(box.checked).toBe(true);
    expect(document.querySelector(`label[for="system-proxy-env-file"]`)?.textContent).toBe("Also write a file for terminals");
    expect(text("#settings-env-file")).toBe(OFF.envFile);
    expect(text("#settings-env-line")).toBe(OFF.envLine);
    expect(shown("#system-proxy-env-profile")).toBe(true);
    box.checked = false;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    $<HTMLButtonElement>("#save-settings").click();
    await flush();
    await flush();
    expect(vi.mocked(ipc.saveSettings).mock.calls[0]?.[0].systemProxyEnvFile).toBe(false);
  });
});
