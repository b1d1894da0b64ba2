// The mappings table: one row per mapping with its name, addresses,
// protocol, route and state (with the last error reaching its target), and
// the Start or Stop, Retry, Edit and Remove buttons. After a redraw, focus
// goes back to the same control of the same mapping.

import { byId } from "../../dom";
import type { MappingRow } from "../../ipc";
import { PROTOCOL_TEXT, ROUTE_TEXT, lastErrorText, stateText } from "./model";

/** What a row's buttons do. */
export interface RowActions {
  setEnabled(row: MappingRow, enabled: boolean, button: HTMLButtonElement): void;
  edit(row: MappingRow): void;
  remove(row: MappingRow): void;
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

/** The state cell: the state in words, and the last error on a line of its own. */
function stateCell(row: MappingRow): HTMLTableCellElement {
  const td = cell("state", "");
  td.dataset.state = row.state.kind;
  const state = document.createElement("span");
  state.className = "state-text";
  state.textContent = stateText(row);
  td.append(state);
  const error = lastErrorText(row);
  if (error !== "") {
    const line = document.createElement("span");
    line.className = "last-error";
    line.textContent = error;
    td.append(line);
  }
  return td;
}

export class MappingsTable {
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  /** home takes focus when the focused row is gone. */
  constructor(
    section: HTMLElement,
    private readonly home: HTMLElement,
    private readonly actions: RowActions,
  ) {
    this.body = byId<HTMLTableElement>("mappings-table", section).tBodies[0] as HTMLTableSectionElement;
    this.empty = byId("mappings-empty", section);
  }

  draw(rows: MappingRow[]): void {
    const active = document.activeElement;
    const activeRow = active instanceof HTMLElement ? active.closest<HTMLTableRowElement>("tr[data-mapping]") : null;
    const focusName = activeRow && this.body.contains(activeRow) ? activeRow.dataset.mapping : undefined;
    const focusClass = active instanceof HTMLElement ? (active.classList[0] ?? "") : "";

    this.body.replaceChildren(...rows.map((row) => this.row(row)));
    this.empty.hidden = rows.length > 0;

    if (focusName !== undefined) {
      const again = focusClass ? this.control(focusName, focusClass) : null;
      (again ?? this.control(focusName, "edit") ?? this.home).focus();
    }
  }

  /** The control with this class in the row of this mapping, if there is one. */
  control(name: string, cls: string): HTMLElement | null {
    const row = Array.from(this.body.rows).find((r) => r.dataset.mapping === name);
    return row?.querySelector<HTMLElement>(`.${cls}`) ?? null;
  }

  private row(row: MappingRow): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.dataset.mapping = row.name;
    const name = document.createElement("th");
    name.scope = "row";
    name.className = "mapping-name";
    name.textContent = row.name;
    const { mapping } = row;
    tr.append(
      name,
      cell("listen", mapping.listen),
      cell("target", mapping.target),
      cell("protocol", PROTOCOL_TEXT[mapping.protocol]),
      cell("route", ROUTE_TEXT[mapping.route]),
      stateCell(row),
      this.actionsCell(row),
    );
    return tr;
  }

  private actionsCell(row: MappingRow): HTMLTableCellElement {
    const td = document.createElement("td");
    td.className = "buttons";
    const { name } = row;
    const on = row.mapping.enabled;
    const toggle = button("toggle", on ? "Stop" : "Start", `${on ? "Stop" : "Start"} the mapping ${name}`, () =>
      this.actions.setEnabled(row, !on, toggle),
    );
    td.append(toggle);
    if (row.state.kind === "failed") {
      const retry = button("retry", "Retry", `Try the mapping ${name} again`, () =>
        this.actions.setEnabled(row, true, retry),
      );
      td.append(retry);
    }
    td.append(
      button("edit", "Edit", `Edit the mapping ${name}`, () => this.actions.edit(row)),
      button("remove", "Remove", `Remove the mapping ${name}`, () => this.actions.remove(row)),
    );
    return td;
  }
}
