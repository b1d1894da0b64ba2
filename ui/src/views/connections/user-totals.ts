// The per-user totals: open and all sessions, bytes sent and received.
// Redrawn only when the sampler sent new user figures.

import { byId, cellsOf, escapeHtml } from "../../dom";
import { formatBytes } from "../../format";
import type { UserRow } from "../../ipc";
import { userLabel, type LiveModel } from "../../live";

function userRowHtml(u: UserRow): string {
  // Only checked users have totals of their own (a SOCKS4 USERID counts under no user).
  const label = escapeHtml(userLabel(u.user, true));
  const cells = cellsOf([String(u.active), String(u.sessions), formatBytes(u.bytesUp), formatBytes(u.bytesDown)], 0);
  return `<tr data-user="${escapeHtml(u.user ?? "")}"><th scope="row">${label}</th>${cells}</tr>`;
}

export class UserTotals {
  /** The model's usersVersion on screen. */
  private drawn = -1;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  constructor(
    section: HTMLElement,
    private readonly model: LiveModel,
  ) {
    this.body = byId<HTMLTableElement>("user-totals", section).tBodies[0] as HTMLTableSectionElement;
    this.empty = byId("no-users", section);
  }

  /** Draws the users when their figures changed since the last drawing. */
  update(): void {
    if (this.drawn === this.model.usersVersion) return;
    this.body.innerHTML = this.model.users.map(userRowHtml).join("");
    this.empty.hidden = this.model.users.length > 0;
    this.drawn = this.model.usersVersion;
  }
}
