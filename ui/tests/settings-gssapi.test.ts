import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { Settings } from "../src/ipc";
import { mountSettings } from "../src/views/settings";
import { checkAllow, gssapiFrom, gssapiValuesOf, GSSAPI_DEFAULTS } from "../src/views/settings/gssapi";
import { settingsFrom, valuesOf } from "../src/views/settings/model";
import { fieldPathToId } from "../src/errors";
import { flush } from "./fixtures/dom";
import { SETTINGS } from "./fixtures/settings";

vi.mock("../src/ipc");

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

function tick(id: string, checked: boolean): void {
  const el = field(id);
  el.checked = checked;
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

async function mount(available: boolean | "rejects", settings: Settings = SETTINGS): Promise<void> {
  vi.mocked(ipc.getSettings).mockResolvedValue({ settings: structuredClone(settings), warning: null });
  if (available === "rejects") vi.mocked(ipc.gssapiAvailable).mockRejectedValue({ message: "no such command" });
  else vi.mocked(ipc.gssapiAvailable).mockResolvedValue(available);
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  await mountSettings(section).ready;
}

async function save(): Promise<void> {
  field<HTMLButtonElement>("save-settings").click();
  await flush();
  await flush();
}

beforeEach(() => {
  vi.resetAllMocks();
});

describe("the GSS-API section's model", () => {
  it("reads allowed entries as proxy-core does", () => {
    expect(checkAllow("alice@EXAMPLE.ORG\n@PARTNER.ORG\n*\n\n")).toBeNull();
    expect(checkAllow("alice")).toContain('"alice" must be a principal');
    expect(checkAllow("@")).toContain('"@"');
    expect(checkAllow("bob@")).toContain('"bob@"');
    expect(checkAllow("al ice@X")).toContain("must be");
  });

  it("gives back what it was given, and trims what was typed", () => {
    const g = { enabled: true, keytab: "/k", principal: "rcmd/h@R", protection: ["none", "selective"], allow: ["@R"] } as const;
    const settings: Settings = { ...SETTINGS, gssapi: { ...g, protection: [...g.protection], allow: [...g.allow] } };
    expect(settingsFrom(valuesOf(settings), settings)).toEqual(settings);
    const values = { ...gssapiValuesOf(settings.gssapi), keytab: "  /etc/k.keytab ", allow: " *\n\n" };
    expect(gssapiFrom(values)).toMatchObject({ keytab: "/etc/k.keytab", allow: ["*"] });
  });

  it("refuses no level or a bad entry only while on", () => {
    const off = { ...gssapiValuesOf(GSSAPI_DEFAULTS), allow: "alice" };
    expect(gssapiFrom(off)).not.toBeNull();
    expect(gssapiFrom({ ...off, enabled: true })).toBeNull();
    const none = { ...gssapiValuesOf(GSSAPI_DEFAULTS), enabled: true };
    for (const level of Object.keys(none.protection) as (keyof typeof none.protection)[]) none.protection[level] = false;
    expect(gssapiFrom(none)).toBeNull();
  });

  it("keeps the loaded section when the page does not show it", () => {
    const loaded: Settings = { ...SETTINGS, gssapi: { ...GSSAPI_DEFAULTS, enabled: true, allow: ["*"] } };
    expect(settingsFrom({ ...valuesOf(loaded), gssapi: null }, loaded)?.gssapi).toEqual(loaded.gssapi);
  });

  it("places the app's errors next to the section's fields", () => {
    expect(fieldPathToId("gssapi.allow")).toBe("gssapi-allow");
    expect(fieldPathToId("gssapi.keytab")).toBe("gssapi-keytab");
    expect(fieldPathToId("gssapi.protection")).toBe("gssapi-protection");
    expect(fieldPathToId("gssapi.enabled")).toBe("gssapi-enabled");
  });
});

describe("the GSS-API section on the page", () => {
  it("is hidden when the build has no GSS-API, or the app cannot say", async () => {
    await mount(false);
    expect(field("gssapi-section").hidden).toBe(true);
    await mount("rejects");
    expect(field("gssapi-section").hidden).toBe(true);
  });

  it("is shown when the build has GSS-API, with its hints", async () => {
    await mount(true);
    expect(field("gssapi-section").hidden).toBe(false);
    expect(field("gssapi-enabled").checked).toBe(false);
    expect(field("gssapi-allow").hasAttribute("disabled")).toBe(true);
    expect(text("hint-gssapi-protection")).toContain("curl");
    expect(text("hint-gssapi-principal")).toContain("rcmd/HOST@REALM");
    expect(text("hint-gssapi-keytab")).toContain("keytab is a file");
    for (const level of ["none", "integrity", "confidentiality", "selective"]) {
      expect(field(`gssapi-protection-${level}`).checked).toBe(true);
    }
  });

  it("names a bad allowed entry next to its field and saves nothing", async () => {
    await mount(true);
    tick("gssapi-enabled", true);
    expect(field("gssapi-allow").hasAttribute("disabled")).toBe(false);
    type("gssapi-allow", "alice");
    expect(text("error-gssapi-allow")).toContain('"alice" must be a principal');
    await save();
    expect(ipc.saveSettings).not.toHaveBeenCalled();
    expect(document.activeElement?.id).toBe("gssapi-allow");
    tick("gssapi-enabled", false);
    expect(field("error-gssapi-allow").hidden).toBe(true);
  });

  it("asks for a level while on", async () => {
    await mount(true);
    tick("gssapi-enabled", true);
    for (const level of ["none", "integrity", "confidentiality", "selective"]) tick(`gssapi-protection-${level}`, false);
    expect(text("error-gssapi-protection")).toBe("Accept at least one protection level.");
    tick("gssapi-protection-none", true);
    expect(field("error-gssapi-protection").hidden).toBe(true);
  });

  it("saves the section with the other settings, and shows the app's field errors", async () => {
    await mount(true);
    tick("gssapi-enabled", true);
    type("gssapi-keytab", "/home/me/proxy.keytab");
    type("gssapi-principal", "rcmd/localhost@SOCKSBOX.TEST");
    tick("gssapi-protection-selective", false);
    type("gssapi-allow", "@SOCKSBOX.TEST");
    vi.mocked(ipc.saveSettings).mockRejectedValue({
      errors: [{ field: "gssapi.keytab", message: '"x": not a file name.' }],
    });
    await save();
    expect(ipc.saveSettings).toHaveBeenCalledWith({
      ...SETTINGS,
      gssapi: {
        enabled: true,
        keytab: "/home/me/proxy.keytab",
        principal: "rcmd/localhost@SOCKSBOX.TEST",
        protection: ["none", "integrity", "confidentiality"],
        allow: ["@SOCKSBOX.TEST"],
      },
    });
    expect(text("error-gssapi-keytab")).toBe('"x": not a file name.');
  });
});
