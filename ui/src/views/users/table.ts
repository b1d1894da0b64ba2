// The users table: one row per user with its name (a guest pass says so),
// an Enabled box, its state (active, disabled, expired; while the proxy
// runs also outside hours or over quota, the reason in the title), its
// limits in a few words, its use (against its quota, today and this month,
// its rate against its cap) and the Rename, Set password, Limits and Delete
// (for a guest pass, Revoke) buttons. After a redraw, focus goes back to
// the same control of the same user. The use is refreshed in place, every
// second while shown, without redrawing the rows.

import { byId, setAttr, setText } from "../../dom";
import { t, type TextKey } from "../../i18n";
import type { OwnerRow, User, UserState } from "../../ipc";
import { byOwner, ownerKey, ownerStateText, periodParts, quotaShare, quotaText, rateText, rateTitle, stateTitle } from "../../usage";
import { policySummary } from "../policy/model";
import type { EditKind } from "./model";

/** What a row's controls do. */
export interface RowActions {
  setEnabled(name: string, box: HTMLInputElement): void;
  edit(kind: EditKind, name: string): void;
  limits(user: User): void;
  remove(name: string): void;
  revoke(name: string): void;
}

const STATE_KEYS: Record<UserState, TextKey> = {
  active: "users.state.active",
  disabled: "users.state.disabled",
  expired: "users.state.expired",
};

/** A user's state in words. */
export function userStateText(state: UserState): string {
  return t(STATE_KEYS[state]);
}

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

/** What the use cell says while the proxy is stopped (nothing is counted then). */
export const NO_USE = "—";

export class UsersTable {
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  /** The use last read, by owner ("user alice"). */
  private usage = new Map<string, OwnerRow>();
  /** Whether the proxy ran at that reading: a user it did not count has used nothing yet. */
  private running = false;

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

  /** Shows each user's use (from list_usage) in the rows on screen, touching only what changed. */
  showUse(rows: readonly OwnerRow[], running: boolean): void {
    this.usage = byOwner(rows);
    this.running = running;
    for (const row of Array.from(this.body.rows)) this.fillUse(row);
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
    row.dataset.listedState = user.state;
    row.classList.toggle("guest", user.guest);
    const nameCell = document.createElement("th");
    nameCell.scope = "row";
    nameCell.className = "user-name";
    nameCell.textContent = user.name;
    if (user.guest) {
      const badge = document.createElement("span");
      badge.className = "badge guest-badge";
      badge.textContent = t("users.guestBadge");
      nameCell.append(" ", badge);
    }
    row.append(
      nameCell,
      this.enabledCell(user, index),
      textCell("state", ""),
      textCell("limits", policySummary(user.policy)),
      useCell(),
      this.actionsCell(user),
    );
    this.fillUse(row);
    return row;
  }

  /** Writes a row's state and use from the use last read. */
  private fillUse(row: HTMLTableRowElement): void {
    const name = row.dataset.user ?? "";
    const owner = this.usage.get(ownerKey("user", name)) ?? (this.running ? unused(name) : undefined);
    const listed = (row.dataset.listedState ?? "active") as UserState;
    const state = row.querySelector<HTMLElement>("td.state");
    if (state) {
      // The list says disabled and expired; the proxy says when an active user is refused now.
      const refused = listed === "active" && owner !== undefined && owner.state !== "active";
      const key = refused ? owner.state : listed;
      setText(state, refused ? ownerStateText(owner.state) : userStateText(listed));
      setAttr(state, "data-state", key);
      const title = refused ? stateTitle(owner) : listed === "expired" ? t("users.expiredTitle") : "";
      if (state.title !== title) state.title = title;
    }
    const cell = row.querySelector<HTMLElement>("td.use");
    if (cell) writeUse(cell, owner);
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
    boxLabel.textContent = t("users.maySignIn", { name: user.name });
    box.addEventListener("change", () => this.actions.setEnabled(user.name, box));
    cell.append(box, boxLabel);
    return cell;
  }

  private actionsCell(user: User): HTMLTableCellElement {
    const cell = document.createElement("td");
    cell.className = "actions";
    const { name } = user;
    cell.append(
      actionButton("rename", t("users.rename"), t("users.renameLabel", { name }), () => this.actions.edit("rename", name)),
      actionButton("set-password", t("users.setPassword"), t("users.setPasswordLabel", { name }), () =>
        this.actions.edit("password", name),
      ),
      actionButton("policy", t("users.limits"), t("users.limitsLabel", { name }), () => this.actions.limits(user)),
      user.guest
        ? actionButton("revoke", t("guest.revoke"), t("guest.revokeLabel", { name }), () => this.actions.revoke(name))
        : actionButton("delete", t("users.delete"), t("users.deleteLabel", { name }), () => this.actions.remove(name)),
    );
    return cell;
  }
}

/** The use of a user the running proxy has not counted: nothing yet. */
function unused(name: string): OwnerRow {
  return {
    owner: ownerKey("user", name),
    kind: "user",
    name,
    today: 0,
    thisWeek: 0,
    thisMonth: 0,
    total: 0,
    quota: null,
    rateLimit: null,
    rate: 0,
    state: "active",
    refused: null,
  };
}

/** The use cell: the quota's line (with a meter), the other periods' line, the rate's line. */
function useCell(): HTMLTableCellElement {
  const cell = document.createElement("td");
  cell.className = "use";
  const quota = document.createElement("span");
  quota.className = "use-quota";
  const meter = document.createElement("meter");
  meter.className = "use-meter";
  meter.min = 0;
  meter.max = 1;
  meter.low = 0.8;
  meter.high = 0.99;
  meter.optimum = 0;
  const periods = document.createElement("span");
  periods.className = "use-periods";
  const rate = document.createElement("span");
  rate.className = "use-rate";
  rate.title = rateTitle();
  cell.append(quota, meter, periods, rate);
  return cell;
}

/** Writes an owner's use into its cell; without one (the proxy stopped), a dash. */
function writeUse(cell: HTMLElement, owner: OwnerRow | undefined): void {
  const [quota, meter, periods, rate] = Array.from(cell.children) as [HTMLElement, HTMLMeterElement, HTMLElement, HTMLElement];
  const q = owner?.quota ?? null;
  setText(quota, owner === undefined ? NO_USE : q === null ? "" : quotaText(q));
  quota.hidden = owner !== undefined && q === null;
  quota.title = owner === undefined ? t("users.noUseTitle") : "";
  meter.hidden = q === null;
  if (q !== null) {
    meter.value = quotaShare(q);
    meter.setAttribute("aria-label", quotaText(q));
  }
  writeParts(periods, owner === undefined ? [] : periodParts(owner));
  periods.hidden = owner === undefined;
  setText(rate, owner === undefined ? "" : rateText(owner));
  rate.hidden = owner === undefined;
}

/** One line per part in box (a span each), remade only when the parts' words change. */
function writeParts(box: HTMLElement, parts: readonly string[]): void {
  const shown = Array.from(box.children).map((c) => c.textContent ?? "");
  if (shown.length === parts.length && shown.every((t, i) => t === parts[i])) return;
  box.replaceChildren(
    ...parts.map((part) => {
      const line = document.createElement("span");
      line.textContent = part;
      return line;
    }),
  );
}
