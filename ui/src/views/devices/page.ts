// What the devices view's parts share: the list, the message slot, and the
// one way an answer reaches the screen.

import type { Device } from "../../ipc";
import type { DeviceList } from "./model";

export interface DevicesPage {
  readonly list: DeviceList;
  /** The view's message (#devices-error), for what belongs to no dialog. */
  readonly error: HTMLElement;
  /** Where focus goes when its control is gone: Add a device. */
  readonly home: HTMLButtonElement;
  /** Waits for a call's answer and shows it, unless a newer call was made meanwhile; rejects as the call does. */
  apply(call: Promise<Device[]>): Promise<void>;
}

export function createPage(
  parts: Pick<DevicesPage, "list" | "error" | "home">,
  draw: (devices: Device[]) => void,
): DevicesPage {
  return {
    ...parts,
    async apply(call) {
      const isLatest = parts.list.ticket();
      const devices = await call;
      if (isLatest() && parts.list.take(devices)) draw(parts.list.devices);
    },
  };
}
