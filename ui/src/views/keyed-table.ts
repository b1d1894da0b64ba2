// What the tables of named rows share (mappings, devices): a row per item
// marked with its name (data-KEY), an "empty" line, and after a redraw the
// focus back on the same control of the same row.

import { byId } from "../dom";

/** A button of a row. */
export function button(cls: string, text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

/** A cell of a row. */
export function cell(cls: string, text: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text;
  return td;
}

export abstract class KeyedTable<T> {
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  /** Rows carry `data-{key}`; home takes focus when the focused row is gone. */
  protected constructor(
    section: HTMLElement,
    id: string,
    private readonly key: string,
    private readonly home: HTMLElement,
  ) {
    this.body = byId<HTMLTableElement>(`${id}-table`, section).tBodies[0] as HTMLTableSectionElement;
    this.empty = byId(`${id}-empty`, section);
  }

  draw(items: T[]): void {
    const active = document.activeElement;
    const activeRow = active instanceof HTMLElement ? active.closest<HTMLTableRowElement>(`tr[data-${this.key}]`) : null;
    const focusName = activeRow && this.body.contains(activeRow) ? activeRow.dataset[this.key] : undefined;
    const focusClass = active instanceof HTMLElement ? (active.classList[0] ?? "") : "";

    this.body.replaceChildren(...items.map((item) => this.row(item)));
    this.empty.hidden = items.length > 0;

    if (focusName !== undefined) {
      const again = focusClass ? this.control(focusName, focusClass) : null;
      (again ?? this.control(focusName, "edit") ?? this.home).focus();
    }
  }

  /** The control with this class in the row named `name`, if there is one. */
  control(name: string, cls: string): HTMLElement | null {
    const row = Array.from(this.body.rows).find((r) => r.dataset[this.key] === name);
    return row?.querySelector<HTMLElement>(`.${cls}`) ?? null;
  }

  protected abstract row(item: T): HTMLTableRowElement;
}
