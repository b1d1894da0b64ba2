// The devices view: devices by address or range, each with its limits,
// and add, edit and remove; every change applies to the running proxy at
// once and is saved.
//
// The parts: model.ts (the list and the checks, no DOM), page.ts (what the
// parts share), table.ts, dialog.ts, markup.ts; the policy's fields are
// ../policy.

import * as ipc from "../../ipc";
import type { Device } from "../../ipc";
import { ask, byId, showText } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import { DeviceDialog } from "./dialog";
import { markup } from "./markup";
import { DeviceList, deviceLabel } from "./model";
import { createPage, type DevicesPage } from "./page";
import { DevicesTable } from "./table";

export interface DevicesViewHandle {
  /** The view is shown: the list is read again. */
  show(): void;
  /** Resolves once the first list has been read. */
  ready: Promise<void>;
}

export function mountDevices(section: HTMLElement): DevicesViewHandle {
  section.innerHTML = markup();
  const list = new DeviceList();
  const error = byId("devices-error", section);
  const home = byId<HTMLButtonElement>("add-device", section);
  const page = createPage({ list, error, home }, (devices) => table.draw(devices));
  // The rows' Edit buttons open the dialog, which puts focus back on a row's button.
  const table: DevicesTable = new DevicesTable(section, home, {
    edit: (device) => dialog.open(device),
    remove: (device) => void removeDevice(section, page, device),
  });
  const dialog = new DeviceDialog(section, page, table);
  home.addEventListener("click", () => dialog.open(null));

  async function refresh(): Promise<void> {
    try {
      await page.apply(ipc.listDevices());
    } catch (reason) {
      showText(error, t("devices.unreadable", { reason: messageOf(reason) }));
    }
  }

  const ready = refresh();
  return {
    show: () => void refresh(),
    ready,
  };
}

/** Removes a device after asking. */
async function removeDevice(section: HTMLElement, page: DevicesPage, device: Device): Promise<void> {
  const label = deviceLabel(device);
  byId("confirm-remove-device-text", section).textContent = t("devices.removeQuestion", {
    name: label,
    address: device.address,
  });
  const yes = await ask(
    byId<HTMLDialogElement>("confirm-remove-device", section),
    byId<HTMLButtonElement>("confirm-remove-device-yes", section),
    byId<HTMLButtonElement>("confirm-remove-device-no", section),
  );
  if (!yes) return;
  try {
    await page.apply(ipc.removeDevice(label));
    showText(page.error, null);
    if (!document.activeElement || document.activeElement === document.body) page.home.focus();
  } catch (reason) {
    showText(page.error, t("devices.removeFailed", { name: label, reason: messageOf(reason) }));
  }
}
