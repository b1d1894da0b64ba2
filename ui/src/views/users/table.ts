// The users table: one row per user with its name, an Enabled box, its
// state (active, disabled, expired), its limits in a few words and the
// Rename, Set password, Limits and Delete buttons. After a redraw, focus
// goes back to the same control of the same user.

import { byId } from "../../dom";
import type { User, UserState } from "../../ipc";
import { policySummary } from "../policy/model";
import type { EditKind } from "./model";

/** What a row's controls do. */
export interface RowActions {
  setEnabled(name: string, box: HTMLInputElement): void;
  edit(kind: EditKind, name: string): void;
  limits(user: User): void;
  remove(name: string): void;
}

/** A user's state in words. */
export const STATE_TEXT: Record<UserState, string> = {
  active: "Active",
  disabled: "Disabled",
  expired: "Expired",
};

function textCell(cls: string, text: string): HTMLTableCellElement {
  const cell = document.createElement("td");
  cell.className = cls;
  cell.textContent = text;
  return cell;
}

/** The class of the button that opens the dialog for this task. */
export function editButtonClass(kind: EditKind): string {
  return kind === "password" ? "set-password" : "rename";
}

function actionButton(cls: string, text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

export class UsersTable {
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  /** home takes focus when the focused row is gone. */
  constructor(
    section: HTMLElement,
    private readonly home: HTMLElement,
    private readonly actions: RowActions,
  ) {
    this.body = byId<HTMLTableElement>("users-table", section).tBodies[0] as HTMLTableSectionElement;
    this.empty = byId("users-empty", section);
  }

  draw(list: User[]): void {
    // Put focus back on the same control of the same user after redrawing.
    const active = document.activeElement;
    const activeRow = active instanceof HTMLElement ? active.closest<HTMLTableRowElement>("tr[data-user]") : null;
    const focusName = activeRow && this.body.contains(activeRow) ? activeRow.dataset.user : undefined;
    const focusClass = active instanceof HTMLElement ? (active.classList[0] ?? "") : "";

    this.body.replaceChildren(...list.map((user, i) => this.row(user, i)));
    this.empty.hidden = list.length > 0;

    if (focusName !== undefined) {
      const again = focusClass ? this.control(focusName, focusClass) : null;
      if (again) again.focus();
      else this.home.focus();
    }
  }

  /** The control with this class in the row of this user, if there is one. */
  control(name: string, cls: string): HTMLElement | null {
    for (const row of Array.from(this.body.rows)) {
      if (row.dataset.user === name) return row.querySelector<HTMLElement>(`.${cls}`);
    }
    return null;
  }

  private row(user: User, index: number): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.user = user.name;
    const nameCell = document.createElement("th");
    nameCell.scope = "row";
    nameCell.className = "user-name";
    nameCell.textContent = user.name;
    const state = textCell("state", STATE_TEXT[user.state]);
    state.dataset.state = user.state;
    if (user.state === "expired") state.title = "The proxy refuses this user: its expiry has passed.";
    row.append(
      nameCell,
      this.enabledCell(user, index),
      state,
      textCell("limits", policySummary(user.policy)),
      this.actionsCell(user),
    );
    return row;
  }

  private enabledCell(user: User, index: number): HTMLTableCellElement {
    const cell = document.createElement("td");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "enabled";
    box.id = `user-enabled-${index}`;
    box.checked = user.enabled;
    const boxLabel = document.createElement("label");
    boxLabel.htmlFor = box.id;
    boxLabel.className = "visually-hidden";
    boxLabel.textContent = `${user.name} may sign in`;
    box.addEventListener("change", () => this.actions.setEnabled(user.name, box));
    cell.append(box, boxLabel);
    return cell;
  }

  private actionsCell(user: User): HTMLTableCellElement {
    const cell = document.createElement("td");
    cell.className = "actions";
    const { name } = user;
    cell.append(
      actionButton("rename", "Rename", `Rename ${name}`, () => this.actions.edit("rename", name)),
      actionButton("set-password", "Set password", `Set the password of ${name}`, () => this.actions.edit("password", name)),
      actionButton("policy", "Limits", `Limits of ${name}`, () => this.actions.limits(user)),
      actionButton("delete", "Delete", `Delete ${name}`, () => this.actions.remove(name)),
    );
    return cell;
  }
}
