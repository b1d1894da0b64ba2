// Each user's and device's use against its limits: today, this month, its
// quota ("1.2 GB of 5 GB today"), its rate against its cap, and whether the
// proxy refuses it now (with the reason as the title). Redrawn only when
// the sampler sent new figures.

import { byId, cellsOf, escapeHtml } from "../../dom";
import { formatBytes } from "../../format";
import { t } from "../../i18n";
import type { OwnerRow } from "../../ipc";
import type { LiveModel } from "../../live";
import { ownerLabel, ownerStateText, quotaText, rateText, rateTitle, stateTitle } from "../../usage";

function ownerRowHtml(o: OwnerRow): string {
  const figures = cellsOf([formatBytes(o.today), formatBytes(o.thisMonth)], 0);
  const quota = o.quota === null ? t("conn.noQuota") : quotaText(o.quota);
  const title = stateTitle(o);
  return (
    `<tr data-owner="${escapeHtml(o.owner)}"><th scope="row">${escapeHtml(ownerLabel(o))}</th>${figures}` +
    `<td class="quota">${escapeHtml(quota)}</td>` +
    `<td class="rate" title="${escapeHtml(rateTitle())}">${escapeHtml(rateText(o))}</td>` +
    `<td class="state" data-state="${o.state}"${title ? ` title="${escapeHtml(title)}"` : ""}>` +
    `${escapeHtml(ownerStateText(o.state))}</td></tr>`
  );
}

export class OwnerUse {
  /** The model's ownersVersion on screen. */
  private drawn = -1;
  private readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  constructor(
    section: HTMLElement,
    private readonly model: LiveModel,
  ) {
    this.table = byId<HTMLTableElement>("owner-use", section);
    this.body = this.table.tBodies[0] as HTMLTableSectionElement;
    this.empty = byId("no-owners", section);
  }

  /** Draws the owners when their figures changed since the last drawing. */
  update(): void {
    if (this.drawn === this.model.ownersVersion) return;
    this.body.innerHTML = this.model.owners.map(ownerRowHtml).join("");
    this.empty.hidden = this.model.owners.length > 0;
    // No header over nothing.
    this.table.hidden = this.model.owners.length === 0;
    this.drawn = this.model.ownersVersion;
  }
}
