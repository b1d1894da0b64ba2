// The mappings table: one row per mapping with its name, addresses,
// protocol, route and state (with the last error reaching its target), and
// the Start or Stop, Retry, Edit and Remove buttons. After a redraw, focus
// goes back to the same control of the same mapping.

import { KeyedTable, button, cell } from "../keyed-table";
import { t } from "../../i18n";
import type { MappingRow } from "../../ipc";
import { lastErrorText, protocolText, routeText, stateText } from "./model";

/** What a row's buttons do. */
export interface RowActions {
  setEnabled(row: MappingRow, enabled: boolean, button: HTMLButtonElement): void;
  edit(row: MappingRow): void;
  remove(row: MappingRow): void;
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

export class MappingsTable extends KeyedTable<MappingRow> {
  /** home takes focus when the focused row is gone. */
  constructor(
    section: HTMLElement,
    home: HTMLElement,
    private readonly actions: RowActions,
  ) {
    super(section, "mappings", "mapping", home);
  }

  protected row(row: MappingRow): HTMLTableRowElement {
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
      cell("protocol", protocolText(mapping.protocol)),
      cell("route", routeText(mapping.route)),
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
    const toggle = button(
      "toggle",
      t(on ? "mappings.stop" : "mappings.start"),
      t(on ? "mappings.stopLabel" : "mappings.startLabel", { name }),
      () => this.actions.setEnabled(row, !on, toggle),
    );
    td.append(toggle);
    if (row.state.kind === "failed") {
      const retry = button("retry", t("mappings.retry"), t("mappings.retryLabel", { name }), () =>
        this.actions.setEnabled(row, true, retry),
      );
      td.append(retry);
    }
    td.append(
      button("edit", t("common.edit"), t("mappings.editLabel", { name }), () => this.actions.edit(row)),
      button("remove", t("common.remove"), t("mappings.removeLabel", { name }), () => this.actions.remove(row)),
    );
    return td;
  }
}
