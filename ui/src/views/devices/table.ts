// The devices table: one row per device with its name, its address, its
// limits in a few words and the Edit and Remove buttons. After a redraw,
// focus goes back to the same control of the same device.

import { byId } from "../../dom";
import type { Device } from "../../ipc";
import { policySummary } from "../policy/model";
import { deviceLabel } from "./model";

/** What a row's buttons do. */
export interface RowActions {
  edit(device: Device): void;
  remove(device: Device): void;
}

function button(cls: string, text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function cell(cls: string, text: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text;
  return td;
}

export class DevicesTable {
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  /** home takes focus when the focused row is gone. */
  constructor(
    section: HTMLElement,
    private readonly home: HTMLElement,
    private readonly actions: RowActions,
  ) {
    this.body = byId<HTMLTableElement>("devices-table", section).tBodies[0] as HTMLTableSectionElement;
    this.empty = byId("devices-empty", section);
  }

  draw(devices: Device[]): void {
    const active = document.activeElement;
    const activeRow = active instanceof HTMLElement ? active.closest<HTMLTableRowElement>("tr[data-device]") : null;
    const focusName = activeRow && this.body.contains(activeRow) ? activeRow.dataset.device : undefined;
    const focusClass = active instanceof HTMLElement ? (active.classList[0] ?? "") : "";

    this.body.replaceChildren(...devices.map((device) => this.row(device)));
    this.empty.hidden = devices.length > 0;

    if (focusName !== undefined) {
      const again = focusClass ? this.control(focusName, focusClass) : null;
      (again ?? this.control(focusName, "edit") ?? this.home).focus();
    }
  }

  /** The control with this class in the row of the device named, if there is one. */
  control(name: string, cls: string): HTMLElement | null {
    const row = Array.from(this.body.rows).find((r) => r.dataset.device === name);
    return row?.querySelector<HTMLElement>(`.${cls}`) ?? null;
  }

  private row(device: Device): HTMLTableRowElement {
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
      button("edit", "Edit", `Edit the device ${label}`, () => this.actions.edit(device)),
      button("remove", "Remove", `Remove the device ${label}`, () => this.actions.remove(device)),
    );
    tr.append(name, cell("address", device.address), cell("limits", policySummary(device.policy)), buttons);
    return tr;
  }
}
