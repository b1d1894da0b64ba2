// The devices table: one row per device with its name, its address, its
// limits in a few words and the Edit and Remove buttons. After a redraw,
// focus goes back to the same control of the same device.

import { KeyedTable, button, cell } from "../keyed-table";
import { t } from "../../i18n";
import type { Device } from "../../ipc";
import { policySummary } from "../policy/model";
import { deviceLabel } from "./model";

/** What a row's buttons do. */
export interface RowActions {
  edit(device: Device): void;
  remove(device: Device): void;
}

export class DevicesTable extends KeyedTable<Device> {
  /** home takes focus when the focused row is gone. */
  constructor(
    section: HTMLElement,
    home: HTMLElement,
    private readonly actions: RowActions,
  ) {
    super(section, "devices", "device", home);
  }

  protected row(device: Device): HTMLTableRowElement {
    const label = deviceLabel(device);
    const tr = document.createElement("tr");
    tr.dataset.device = label;
    const name = document.createElement("th");
    name.scope = "row";
    name.className = "device-name";
    name.textContent = device.name ?? "—";
    const buttons = document.createElement("td");
    buttons.className = "buttons";
    buttons.append(
      button("edit", t("common.edit"), t("devices.editLabel", { name: label }), () => this.actions.edit(device)),
      button("remove", t("common.remove"), t("devices.removeLabel", { name: label }), () => this.actions.remove(device)),
    );
    tr.append(name, cell("address", device.address), cell("limits", policySummary(device.policy)), buttons);
    return tr;
  }
}
