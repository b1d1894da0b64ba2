// The recently closed sessions, newest first, under the same filter as the
// open ones. Redrawn only when the list or the filter changed.

import { byId, cellsOf, escapeHtml } from "../../dom";
import { formatBytes, formatDuration, formatTimeOfDay } from "../../format";
import { t } from "../../i18n";
import type { ClosedRow } from "../../ipc";
import { commandLabel, matcher, userLabel, userTitle, type LiveModel } from "../../live";

/** The user's cell: an unverified name says why in its title. */
function userCellHtml(c: ClosedRow): string {
  const title = userTitle(c);
  const attrs = title ? ` class="unverified" title="${escapeHtml(title)}"` : "";
  return `<td${attrs}>${escapeHtml(userLabel(c.user, c.userVerified))}</td>`;
}

function closedRowHtml(c: ClosedRow): string {
  const cells =
    cellsOf([formatTimeOfDay(c.endedAt), c.client], 2) +
    userCellHtml(c) +
    cellsOf(
      [commandLabel(c), c.target, c.route, formatDuration(c.durationMs), formatBytes(c.bytesUp), formatBytes(c.bytesDown)],
      3,
    );
  return `<tr data-id="${c.id}" data-bytes-up="${c.bytesUp}" data-bytes-down="${c.bytesDown}">${cells}</tr>`;
}

export class ClosedTable {
  /** What is on screen: the model's closedVersion and the filter it was drawn under. */
  private drawn = { version: -1, filter: "" };
  private readonly body: HTMLElement;
  private readonly empty: HTMLElement;

  constructor(
    section: HTMLElement,
    private readonly model: LiveModel,
  ) {
    this.body = byId("closed-body", section);
    this.empty = byId("closed-empty", section);
  }

  /** Draws the list when it or the filter changed since the last drawing. */
  update(filter: string): void {
    if (this.drawn.version === this.model.closedVersion && this.drawn.filter === filter) return;
    this.draw(filter);
    this.drawn = { version: this.model.closedVersion, filter };
  }

  private draw(filter: string): void {
    const rows = this.model.closed.filter(matcher(filter));
    this.body.innerHTML = rows.map(closedRowHtml).join("");
    this.empty.hidden = rows.length > 0;
    this.empty.textContent = t(this.model.closed.length > 0 ? "conn.noClosedMatch" : "conn.noneYet");
  }
}
