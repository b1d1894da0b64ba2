// The live connections model: applies the sampler's messages (a reset, then
// ticks carrying what changed) and answers the view's questions: which rows,
// in which order, under which filter; the graph's points for a range. No DOM
// here, so every rule is tested on its own.

import { t } from "./i18n";
import type { ClosedRow, LiveMessage, LiveRow, LiveTick, LiveTotals, OwnerRow, Point, UserRow } from "./ipc";

/** Points the graph keeps: 15 minutes at one a second. */
export const HISTORY_LIMIT = 15 * 60;

export type SortKey =
  | "client"
  | "user"
  | "command"
  | "target"
  | "route"
  | "duration"
  | "bytesUp"
  | "bytesDown"
  | "rateUp"
  | "rateDown";

export type SortDirection = "ascending" | "descending";

export interface Sort {
  key: SortKey;
  direction: SortDirection;
}

export const DEFAULT_SORT: Sort = { key: "duration", direction: "descending" };

/** The sort keys whose order a tick can change (duration order changes only with membership). */
export const FIGURE_KEYS: ReadonlySet<SortKey> = new Set<SortKey>(["bytesUp", "bytesDown", "rateUp", "rateDown"]);

export class LiveModel {
  readonly rows = new Map<number, LiveRow>();
  /** Newest first, at most closedLimit. */
  closed: ClosedRow[] = [];
  closedLimit = 100;
  totals: LiveTotals | null = null;
  users: UserRow[] = [];
  /** Each user's and device's use against its limits. */
  owners: OwnerRow[] = [];
  history: Point[] = [];
  /** The time of the last message (ms since the epoch). */
  at = 0;
  /** Bumped when rows are added or removed (not when figures change). */
  membership = 0;
  /** Bumped when a tick changes some row's figures (bytes, rates). */
  figures = 0;
  /** Bumped when the closed list changes. */
  closedVersion = 0;
  /** Bumped when the user figures change. */
  usersVersion = 0;
  /** Bumped when the owners' use changes. */
  ownersVersion = 0;

  apply(message: LiveMessage): void {
    this.at = message.at;
    this.totals = message.totals;
    if (message.kind === "reset") {
      this.rows.clear();
      for (const row of message.sessions) this.rows.set(row.id, row);
      this.closedLimit = message.closedLimit;
      this.closed = message.closed.slice(-this.closedLimit).reverse();
      this.users = message.users;
      this.owners = message.owners;
      this.history = message.history.slice(-HISTORY_LIMIT);
      this.membership++;
      this.closedVersion++;
      this.usersVersion++;
      this.ownersVersion++;
      return;
    }
    this.applyRows(message);
    if (message.closed.length > 0) {
      const newest = message.closed.slice().reverse();
      this.closed = newest.concat(this.closed).slice(0, this.closedLimit);
      this.closedVersion++;
    }
    if (message.users) {
      this.users = message.users;
      this.usersVersion++;
    }
    if (message.owners) {
      this.owners = message.owners;
      this.ownersVersion++;
    }
    this.history.push(message.point);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
  }

  /** A tick's open rows: gone, new, and changed figures. */
  private applyRows(message: LiveTick): void {
    for (const id of message.removed) this.rows.delete(id);
    for (const row of message.added) this.rows.set(row.id, row);
    for (const [id, bytesUp, bytesDown, rateUp, rateDown, slowed] of message.changed) {
      const row = this.rows.get(id);
      if (!row) continue;
      row.bytesUp = bytesUp;
      row.bytesDown = bytesDown;
      row.rateUp = rateUp;
      row.rateDown = rateDown;
      row.slowed = slowed;
    }
    if (message.changed.length > 0) this.figures++;
    if (message.added.length > 0 || message.removed.length > 0) this.membership++;
  }

  /** The current total rate (the last point), bytes per second. */
  rate(): { up: number; down: number } {
    const last = this.history[this.history.length - 1];
    return { up: last?.[1] ?? 0, down: last?.[2] ?? 0 };
  }

  /** The open rows matching filter, in sort order. */
  view(sort: Sort, filter: string): LiveRow[] {
    const rows = Array.from(this.rows.values()).filter(matcher(filter));
    return sortRows(rows, sort);
  }
}

/**
 * The sort after a click on a column's header: the sorted column turns
 * around; another starts with the largest first when numeric, else from A.
 */
export function nextSort(sort: Sort, key: SortKey, numeric: boolean): Sort {
  return sort.key === key
    ? { key, direction: sort.direction === "ascending" ? "descending" : "ascending" }
    : { key, direction: numeric ? "descending" : "ascending" };
}

/**
 * The open rows in sight order, sorted again only when which rows, their
 * order or the filter can have changed. The rows are the model's own
 * objects, updated in place, so the figures drawn from them stay current.
 */
export class SortedRows {
  private rows: LiveRow[] = [];
  private madeFor = { membership: -1, figures: -1, key: "", direction: "", filter: "" };

  constructor(private readonly model: LiveModel) {}

  /** The open rows matching filter, in sort order. */
  get(sort: Sort, filter: string): LiveRow[] {
    const model = this.model;
    const figures = FIGURE_KEYS.has(sort.key) ? model.figures : -1;
    const was = this.madeFor;
    if (
      was.membership !== model.membership ||
      was.figures !== figures ||
      was.key !== sort.key ||
      was.direction !== sort.direction ||
      was.filter !== filter
    ) {
      this.rows = model.view(sort, filter);
      this.madeFor = { membership: model.membership, figures, key: sort.key, direction: sort.direction, filter };
    }
    return this.rows;
  }
}

/**
 * What a session does, with the protocol it speaks: "SOCKS5 CONNECT", "HTTP
 * FORWARD"; a port mapping's by the mapping's name: "mapping ssh", "mapping
 * dns UDP".
 */
export function commandLabel(row: { protocol: string; command: string; mapping?: string | null }): string {
  if (row.mapping != null) {
    return t(row.command === "UDP" ? "live.mappingUdp" : "live.mapping", { name: row.mapping });
  }
  return `${row.protocol} ${row.command}`;
}

/**
 * Whether a row's words (client, user, protocol and command, target, route,
 * and "slowed" for an open session a rate limit holds back) contain every
 * word of the filter.
 */
export function matcher(filter: string): (row: LiveRow | ClosedRow) => boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return () => true;
  const slowedWord = ` ${t("live.slowedWord")}`;
  return (row) => {
    const user = userLabel(row.user, row.userVerified);
    const slowed = !("seq" in row) && row.slowed ? slowedWord : "";
    const text = `${row.client} ${user} ${commandLabel(row)} ${row.target} ${row.route}${slowed}`.toLowerCase();
    return words.every((word) => text.includes(word));
  };
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function compare(a: LiveRow, b: LiveRow, key: SortKey): number {
  switch (key) {
    case "duration":
      // Longer first when descending: an earlier start is a longer duration.
      return b.startedAt - a.startedAt;
    case "user":
      return collator.compare(a.user ?? "", b.user ?? "");
    case "command":
      return collator.compare(commandLabel(a), commandLabel(b));
    case "client":
    case "target":
    case "route":
      return collator.compare(a[key], b[key]);
    default:
      return a[key] - b[key];
  }
}

/** Sorts in place and returns rows; ties go by id so rows do not jump. */
export function sortRows(rows: LiveRow[], sort: Sort): LiveRow[] {
  const sign = sort.direction === "ascending" ? 1 : -1;
  return rows.sort((a, b) => sign * compare(a, b, sort.key) || a.id - b.id);
}

/** The points of the last `minutes`, relative to `now` (ms since the epoch). */
export function pointsWithin(history: Point[], minutes: number, now: number): Point[] {
  const from = now - minutes * 60_000;
  let first = history.length;
  while (first > 0 && (history[first - 1]?.[0] ?? 0) >= from) first--;
  return history.slice(first);
}

/**
 * The display name of a session's user: "(no user)" without one, and
 * "bob (unverified)" for a name nobody checked (a SOCKS4 USERID).
 */
export function userLabel(user: string | null, verified: boolean): string {
  if (user === null) return t("live.noUser");
  return verified ? user : t("live.unverified", { user });
}

/** What an unverified name is, for its cell's title. */
export function unverifiedTitle(): string {
  return t("live.unverifiedTitle");
}

/** The title of a row's user cell: why a name is unverified, or "". */
export function userTitle(row: Pick<LiveRow, "user" | "userVerified">): string {
  return row.user !== null && !row.userVerified ? unverifiedTitle() : "";
}
