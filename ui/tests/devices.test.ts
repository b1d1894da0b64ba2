import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { Device, Policy, SaveRefused } from "../src/ipc";
import { mountDevices } from "../src/views/devices";
import { addressProblem, addressText, deviceLabel, nameProblem } from "../src/views/devices/model";
import { NO_POLICY } from "../src/views/policy/model";
import { $ as el, flush, text } from "./fixtures/dom";

vi.mock("../src/ipc");

function device(name: string | null, address: string, policy: Partial<Policy> = {}): Device {
  return { name, address, policy: { ...NO_POLICY, ...policy } };
}

const TV = device("tv", "192.168.1.23/32", { hours: ["Mon-Sun 07:00-22:00"] });
const GUESTS = device(null, "192.168.2.0/24", { rateLimit: "1 MB/s" });

function type(selector: string, value: string): void {
  const input = el<HTMLInputElement>(selector);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

async function mount(devices: Device[] = [TV, GUESTS]): Promise<void> {
  vi.mocked(ipc.listDevices).mockResolvedValue(structuredClone(devices));
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  await mountDevices(section).ready;
}

beforeEach(() => {
  vi.resetAllMocks();
});

describe("device checks", () => {
  it("names a device by its name, or its address as the app writes it", () => {
    expect(deviceLabel(TV)).toBe("tv");
    expect(deviceLabel(device(null, " 192.168.1.5 "))).toBe("192.168.1.5/32");
    expect(addressText("fd00::1")).toBe("fd00::1/128");
    expect(addressText("lan")).toBe("lan");
  });

  it("takes addresses, ranges and the named groups, in the app's words otherwise", () => {
    for (const fine of ["192.168.1.23", "192.168.1.0/24", "fd00::/8", "lan", "loopback", "any"]) {
      expect(addressProblem({ name: "", address: fine }), fine).toBeNull();
    }
    expect(addressProblem({ name: "", address: " phone " })).toBe(
      '"phone" is not "loopback", "lan", "any" or an address range like 192.168.1.0/24.',
    );
  });

  it("refuses a long or broken name, and one another device goes by", () => {
    expect(nameProblem({ name: "x".repeat(65), address: "lan" }, [])).toContain("1 to 64 characters");
    expect(nameProblem({ name: "a\nb", address: "lan" }, [])).toContain("control characters");
    expect(nameProblem({ name: "tv", address: "10.0.0.1" }, [TV])).toBe('There is already a device named "tv".');
    expect(nameProblem({ name: "", address: "192.168.2.0/24" }, [GUESTS])).toBe(
      'There is already a device named "192.168.2.0/24".',
    );
    expect(nameProblem({ name: " ", address: "10.0.0.1" }, [TV]), "blank is no name").toBeNull();
  });
});

describe("devices view", () => {
  it("has one row per device with its address, limits and buttons", async () => {
    await mount();
    expect(document.querySelectorAll("#devices-table tbody tr")).toHaveLength(2);
    expect(text('tr[data-device="tv"] .address')).toBe("192.168.1.23/32");
    expect(text('tr[data-device="tv"] .limits')).toBe("Mon-Sun 07:00-22:00");
    expect(text('tr[data-device="192.168.2.0/24"] .limits')).toBe("1 MB/s");
    expect(text('tr[data-device="192.168.2.0/24"] .device-name')).toBe("—");
    expect(el("#devices-empty").hidden).toBe(true);
    await mount([]);
    expect(el("#devices-empty").hidden).toBe(false);
  });

  it("checks the dialog's fields before add_device, then adds", async () => {
    await mount();
    el<HTMLButtonElement>("#add-device").click();
    expect(el<HTMLDialogElement>("#device-dialog").hasAttribute("open")).toBe(true);
    expect(document.activeElement?.id).toBe("device-address");
    type("#device-address", "phone");
    expect(text("#error-device-address")).toContain('"phone" is not "loopback"');
    type("#device-policy-quota", "lots");
    el<HTMLButtonElement>("#device-save").click();
    await flush();
    expect(ipc.addDevice).not.toHaveBeenCalled();
    expect(text("#error-device-policy-quota")).toBe('"lots" is not a quota (such as "5 GB/day").');
    expect(document.activeElement?.id).toBe("device-address");

    const kid = device("tablet", "192.168.1.40", { hours: ["Mon-Fri 16:00-20:00"], quota: "2 GB/day" });
    vi.mocked(ipc.addDevice).mockResolvedValue([TV, GUESTS, { ...kid, address: "192.168.1.40/32" }]);
    type("#device-name", " tablet ");
    type("#device-address", "192.168.1.40");
    type("#device-policy-quota", "2 GB/day");
    type("#device-policy-hours", "Mon-Fri 16:00-20:00");
    el<HTMLButtonElement>("#device-save").click();
    await flush();
    expect(ipc.addDevice).toHaveBeenCalledExactlyOnceWith(kid);
    expect(el<HTMLDialogElement>("#device-dialog").hasAttribute("open")).toBe(false);
    expect(document.querySelector('tr[data-device="tablet"]')).not.toBeNull();
  });

  it("puts the app's refusals next to the fields they name", async () => {
    await mount();
    vi.mocked(ipc.addDevice).mockRejectedValue({
      errors: [
        { field: "devices.address", message: '"10.0.0.300" is not "loopback", "lan", "any" or an address range like 192.168.1.0/24.' },
        { field: "policy.rateLimit", message: '"x" is not a rate (such as "2 MB/s").' },
        { field: "general", message: "The devices could not be saved: disk full" },
      ],
    } satisfies SaveRefused);
    el<HTMLButtonElement>("#add-device").click();
    type("#device-address", "10.0.0.3");
    el<HTMLButtonElement>("#device-save").click();
    await flush();
    expect(text("#error-device-address")).toContain('"10.0.0.300"');
    expect(text("#error-device-policy-rate-limit")).toBe('"x" is not a rate (such as "2 MB/s").');
    expect(text("#device-dialog-error")).toBe("The devices could not be saved: disk full");
    expect(document.activeElement?.id).toBe("device-address");
  });

  it("edits a device under its name, keeping what was not changed", async () => {
    await mount();
    vi.mocked(ipc.editDevice).mockResolvedValue([TV, GUESTS]);
    el<HTMLButtonElement>('tr[data-device="192.168.2.0/24"] .edit').click();
    expect(text("#device-dialog-title")).toBe("Edit device 192.168.2.0/24");
    expect(el<HTMLInputElement>("#device-address").value).toBe("192.168.2.0/24");
    expect(el<HTMLInputElement>("#device-policy-rate-limit").value).toBe("1 MB/s");
    type("#device-policy-max-sessions", "8");
    el<HTMLButtonElement>("#device-save").click();
    await flush();
    expect(ipc.editDevice).toHaveBeenCalledExactlyOnceWith("192.168.2.0/24", {
      ...GUESTS,
      policy: { ...GUESTS.policy, maxSessions: 8 },
    });
    expect(document.activeElement).toBe(el('tr[data-device="192.168.2.0/24"] .edit'));
  });

  it("removes a device after asking", async () => {
    await mount();
    vi.mocked(ipc.removeDevice).mockResolvedValue([GUESTS]);
    el<HTMLButtonElement>('tr[data-device="tv"] .remove').click();
    expect(text("#confirm-remove-device-text")).toContain("tv");
    el<HTMLButtonElement>("#confirm-remove-device-no").click();
    await flush();
    expect(ipc.removeDevice).not.toHaveBeenCalled();
    el<HTMLButtonElement>('tr[data-device="tv"] .remove').click();
    el<HTMLButtonElement>("#confirm-remove-device-yes").click();
    await flush();
    expect(ipc.removeDevice).toHaveBeenCalledExactlyOnceWith("tv");
    expect(document.querySelector('tr[data-device="tv"]')).toBeNull();
  });
});
