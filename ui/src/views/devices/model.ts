// The devices view's model: the list as last answered, a device's name and
// address checked as the app checks them, and the device to send. No DOM.

import { quoted } from "../../access";
import { t } from "../../i18n";
import type { Device } from "../../ipc";
import { isAddressOrRange, isIPv4, isIPv6 } from "../../validate";
import { NO_POLICY } from "../policy/model";

/** The longest name a device may have, in characters (src-tauri/src/settings/device.rs). */
export const DEVICE_NAME_MAX = 64;

export function deviceNameMessage(): string {
  return t("devices.nameMessage", { max: DEVICE_NAME_MAX });
}

/** The form's fields by the Rust side's names for them. */
export const FIELD_IDS: Readonly<Record<string, string>> = {
  "devices.name": "device-name",
  "devices.address": "device-address",
};

/** The prefix of the dialog's policy field ids. */
export const POLICY_PREFIX = "device-policy";

export class DeviceList {
  /** The devices as last answered. */
  devices: Device[] = [];
  /** The list on screen, as JSON, to redraw only when it changes. */
  private shown = "";
  private requests = 0;

  /** Numbers a request; the function answers whether it is still the latest (see UserList.ticket). */
  ticket(): () => boolean {
    const mine = ++this.requests;
    return () => mine === this.requests;
  }

  /** Takes an answer; true when it differs from the list on screen. */
  take(devices: Device[]): boolean {
    this.devices = Array.isArray(devices) ? devices : [];
    const key = JSON.stringify(this.devices);
    if (key === this.shown) return false;
    this.shown = key;
    return true;
  }
}

/** An address as the app writes it: a single address with its prefix (192.168.1.23/32). */
export function addressText(raw: string): string {
  const text = raw.trim();
  if (isIPv4(text)) return `${text}/32`;
  if (isIPv6(text)) return `${text.toLowerCase()}/128`;
  return text;
}

/** How the calls name a device: its name, or its address. */
export function deviceLabel(device: Device): string {
  return device.name ?? addressText(device.address);
}

/** A control character (Unicode's Cc, as Rust's char::is_control). */
function isControl(c: string): boolean {
  const n = c.codePointAt(0) ?? 0;
  return n < 0x20 || (n >= 0x7f && n <= 0x9f);
}

/** What the dialog's own fields hold. */
export interface DeviceValues {
  name: string;
  address: string;
}

/** The device these values describe, without its policy: a blank name is none. */
function deviceOf(values: DeviceValues): Device {
  const name = values.name.trim();
  return { name: name === "" ? null : name, address: values.address.trim(), policy: NO_POLICY };
}

/** What is wrong with the name, beside the other devices, or null. */
export function nameProblem(values: DeviceValues, others: readonly Device[]): string | null {
  const raw = values.name;
  if (raw.trim() !== "" && ([...raw.trim()].length > DEVICE_NAME_MAX || [...raw].some(isControl))) {
    return deviceNameMessage();
  }
  const label = deviceLabel(deviceOf(values));
  return others.some((o) => deviceLabel(o) === label) ? t("devices.nameTaken", { name: label }) : null;
}

/** What is wrong with the address, or null: one address, a range, "lan", "loopback" or "any". */
export function addressProblem(values: DeviceValues): string | null {
  const text = values.address.trim();
  if (["loopback", "lan", "any"].includes(text) || isAddressOrRange(text)) return null;
  return t("devices.badAddress", { value: quoted(text) });
}

/** The device these values and this policy describe. */
export function deviceFrom(values: DeviceValues, policy: Device["policy"]): Device {
  return { ...deviceOf(values), policy };
}
