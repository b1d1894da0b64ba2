// Each user's and device's use as the views write it: against its quota
// ("1.2 GB of 5 GB today", "400 MB of 2 GB in all"), today and this month,
// its current rate against its cap ("1.8 MB/s of 2 MB/s"), and whether the
// proxy refuses it now (Expired, Outside hours, Over quota, with the
// server's reason as the title). The Users page and the Connections view
// write it alike. No DOM.

import { formatBytes, formatRate, formatSize, perSecond } from "./format";
import { t, type TextKey } from "./i18n";
import type { OwnerRow, OwnerState, QuotaRow } from "./ipc";

/** A quota or a budget as a size without a needless ".0": "5 GB", "1.5 GB" (format_amount in src-tauri/src/format.rs). */
export function formatAmount(bytes: number): string {
  return formatSize(bytes);
}

/** A quota's words by its period. */
const QUOTA_KEYS: Record<QuotaRow["period"], TextKey> = {
  day: "usage.quotaDay",
  week: "usage.quotaWeek",
  month: "usage.quotaMonth",
  total: "usage.quotaTotal",
};

/** A quota and what was used of it: "1.2 GB of 5 GB today", "400 MB of 2 GB in all". */
export function quotaText(quota: QuotaRow): string {
  return t(QUOTA_KEYS[quota.period], { used: formatBytes(quota.used), quota: formatAmount(quota.bytes) });
}

/** The share of a quota used, from 0 to 1. */
export function quotaShare(quota: QuotaRow): number {
  return quota.bytes > 0 ? Math.min(1, quota.used / quota.bytes) : 0;
}

/** The use beside the quota's, each period apart: today and this month, less the one the quota already says. */
export function periodParts(owner: OwnerRow): string[] {
  const period = owner.quota?.period;
  const parts: string[] = [];
  if (period !== "day") parts.push(t("usage.today", { size: formatBytes(owner.today) }));
  if (period !== "month") parts.push(t("usage.thisMonth", { size: formatBytes(owner.thisMonth) }));
  return parts;
}

/** The use beside the quota's on one line: "today 1.2 GB · this month 30 GB". */
export function periodText(owner: OwnerRow): string {
  return periodParts(owner).join(" · ");
}

/** The current rate, against the cap when there is one: "1.8 MB/s of 2 MB/s", "250 kB/s". */
export function rateText(owner: OwnerRow): string {
  const rate = formatRate(owner.rate);
  return owner.rateLimit === null ? rate : t("usage.rateOf", { rate, cap: perSecond(formatAmount(owner.rateLimit)) });
}

/** What the rate is, for its title. */
export function rateTitle(): string {
  return t("usage.rateTitle");
}

const OWNER_STATE_KEYS: Record<OwnerState, TextKey> = {
  active: "usage.state.active",
  expired: "usage.state.expired",
  outsideHours: "usage.state.outsideHours",
  overQuota: "usage.state.overQuota",
  refused: "usage.state.refused",
};

/** An owner's state in words. */
export function ownerStateText(state: OwnerState): string {
  return t(OWNER_STATE_KEYS[state]);
}

/** Why the proxy refuses an owner now (the server's reason), for its state's title; "" when it does not. */
export function stateTitle(owner: OwnerRow): string {
  return owner.refused === null ? "" : t("usage.refusedTitle", { reason: owner.refused });
}

/** "user alice", "device tv": the owner as the proxy counts it, by kind and name. */
export function ownerKey(kind: OwnerRow["kind"], name: string): string {
  return `${kind} ${name}`;
}

/** The rows by owner ("user alice"). */
export function byOwner(rows: readonly OwnerRow[]): Map<string, OwnerRow> {
  return new Map(rows.map((row) => [row.owner, row]));
}

/** An owner for a table: "alice", "tv (device)". */
export function ownerLabel(owner: OwnerRow): string {
  return owner.kind === "device" ? t("usage.deviceLabel", { name: owner.name }) : owner.name;
}
