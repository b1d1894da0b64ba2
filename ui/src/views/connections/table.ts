// The open-sessions table: sorted by any column, filtered by text, a
// marker on each session a rate limit held back in the last second, a Close
// button on each row. It draws only the rows in sight, between two spacer
// rows that stand for the rest, so thousands of sessions cost what a
// screenful costs; the row elements are pooled and refilled.

import { byId, setAttr, setHidden, setText } from "../../dom";
import { formatBytes, formatDuration, formatRate } from "../../format";
import { t, tHtml } from "../../i18n";
import type { LiveRow } from "../../ipc";
import {
  DEFAULT_SORT,
  commandLabel,
  SortedRows,
  nextSort,
  userLabel,
  userTitle,
  type LiveModel,
  type Sort,
  type SortKey,
} from "../../live";
import { COLUMNS } from "./markup";

/** The height of one open-session row, in CSS pixels (fixed, see style.css). */
export const ROW_HEIGHT = 30;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 8;
/** Rows drawn when the scroll box has no size yet (tests, first frame). */
const DEFAULT_VISIBLE = 24;

/** The rows to draw, from first up to last, for a scroll position and the box's height (0 before layout). */
export function rowWindow(scrollTop: number, height: number, total: number): { first: number; last: number } {
  const visible = height > 0 ? Math.ceil(height / ROW_HEIGHT) : DEFAULT_VISIBLE;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, first + visible + 2 * OVERSCAN);
  return { first, last };
}

function spacer(): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "spacer";
  tr.setAttribute("aria-hidden", "true");
  return tr;
}

function newRow(): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "row";
  tr.innerHTML =
    COLUMNS.map((c) => `<td class="col-${c.key}${c.numeric ? " num" : ""}"></td>`).join("") +
    `<td class="col-slowed"><span class="slowed-mark" title="${tHtml("conn.slowedTitle")}" hidden><span class="visually-hidden">${tHtml("conn.slowed")}</span></span></td>` +
    `<td class="col-close"><button type="button" class="close-one">${tHtml("common.close")}</button></td>`;
  return tr;
}

/** Writes a session into a pooled row, touching only what changed. */
function fillRow(tr: HTMLTableRowElement, row: LiveRow, now: number): void {
  if (tr.dataset.id !== String(row.id)) {
    tr.dataset.id = String(row.id);
    const button = tr.querySelector<HTMLButtonElement>("button.close-one");
    if (button) {
      button.disabled = false;
      button.setAttribute("aria-label", t("conn.closeOneLabel", { target: row.target }));
    }
  }
  const bytesUp = String(row.bytesUp);
  const bytesDown = String(row.bytesDown);
  if (tr.dataset.bytesUp !== bytesUp) tr.dataset.bytesUp = bytesUp;
  if (tr.dataset.bytesDown !== bytesDown) tr.dataset.bytesDown = bytesDown;
  const cells = tr.cells;
  setText(cells[0], row.client);
  setText(cells[1], userLabel(row.user, row.userVerified));
  const title = userTitle(row);
  if (cells[1] && cells[1].title !== title) {
    cells[1].title = title;
    cells[1].classList.toggle("unverified", title !== "");
  }
  const command = commandLabel(row);
  setText(cells[2], command);
  if (cells[2] && cells[2].title !== command) cells[2].title = command;
  setText(cells[3], row.target);
  if (cells[3] && cells[3].title !== row.target) cells[3].title = row.target;
  setText(cells[4], row.route);
  if (cells[4] && cells[4].title !== row.route) cells[4].title = row.route;
  setText(cells[5], formatDuration(now - row.startedAt));
  setText(cells[6], formatBytes(row.bytesUp));
  setText(cells[7], formatBytes(row.bytesDown));
  setText(cells[8], formatRate(row.rateUp));
  setText(cells[9], formatRate(row.rateDown));
  if (tr.classList.contains("slowed") !== row.slowed) {
    tr.classList.toggle("slowed", row.slowed);
    const mark = cells[10]?.firstElementChild;
    if (mark instanceof HTMLElement) mark.hidden = !row.slowed;
  }
}

export class OpenTable {
  private sort: Sort = { ...DEFAULT_SORT };
  private filterText = "";
  private readonly sorted: SortedRows;
  private readonly pool: HTMLTableRowElement[] = [];
  private readonly top = spacer();
  private readonly bottom = spacer();
  private readonly body: HTMLTableSectionElement;
  private readonly scroll: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly count: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly closeAll: HTMLButtonElement;

  constructor(
    private readonly section: HTMLElement,
    private readonly model: LiveModel,
    private readonly clock: () => number,
  ) {
    this.sorted = new SortedRows(model);
    this.body = byId<HTMLTableSectionElement>("conn-body", section);
    this.scroll = byId("conn-scroll", section);
    this.table = byId<HTMLTableElement>("conn-table", section);
    this.count = byId("open-count", section);
    this.empty = byId("conn-empty", section);
    this.closeAll = byId<HTMLButtonElement>("close-all", section);
    this.body.append(this.top, this.bottom);
    section.querySelectorAll<HTMLButtonElement>("button.sort").forEach((button) => {
      button.addEventListener("click", () => this.sortBy(button.dataset.key as SortKey));
    });
    this.showSort();
  }

  /** The filter the open and the closed sessions are shown under. */
  get filter(): string {
    return this.filterText;
  }

  /** Takes a new filter and goes back to the top of the list; the caller draws. */
  setFilter(text: string): void {
    this.filterText = text;
    this.scroll.scrollTop = 0;
  }

  /** Calls listener as the table scrolls. */
  onScroll(listener: () => void): void {
    this.scroll.addEventListener("scroll", listener, { passive: true });
  }

  /** Draws the rows in sight with their figures at now. */
  draw(now: number): void {
    const rows = this.sorted.get(this.sort, this.filterText);
    this.showCounts(rows.length);
    const { first, last } = rowWindow(this.scroll.scrollTop, this.scroll.clientHeight, rows.length);
    const drawn = this.placeRows(Math.max(0, last - first));
    // Only some rows exist at a time: tell assistive technology how many
    // there are and where each drawn one stands (the header is row 1).
    setAttr(this.table, "aria-rowcount", String(rows.length + 1));
    drawn.forEach((tr, i) => {
      const row = rows[first + i];
      if (row) fillRow(tr, row, now);
      setAttr(tr, "aria-rowindex", String(first + i + 2));
    });
    this.top.style.height = `${first * ROW_HEIGHT}px`;
    this.bottom.style.height = `${(rows.length - last) * ROW_HEIGHT}px`;
  }

  private showCounts(shown: number): void {
    const total = this.model.rows.size;
    setText(this.count, shown === total ? String(total) : t("conn.shownOf", { shown, total }));
    setHidden(this.empty, shown > 0);
    setText(this.empty, t(total > 0 ? "conn.noOpenMatch" : "conn.noOpen"));
    this.closeAll.disabled = total === 0;
  }

  /** Puts exactly count pooled rows between the spacers, in order, and answers them. */
  private placeRows(count: number): HTMLTableRowElement[] {
    while (this.pool.length < count) this.pool.push(newRow());
    const wanted = this.pool.slice(0, count);
    let cursor: ChildNode | null = this.top.nextSibling;
    for (const tr of wanted) {
      if (cursor !== tr) this.body.insertBefore(tr, cursor);
      else cursor = cursor.nextSibling;
    }
    for (const extra of this.pool.slice(count)) if (extra.parentNode) extra.remove();
    return wanted;
  }

  private sortBy(key: SortKey): void {
    const numeric = COLUMNS.find((c) => c.key === key)?.numeric ?? false;
    this.sort = nextSort(this.sort, key, numeric);
    this.showSort();
    if (!this.section.hidden) this.draw(this.clock());
  }

  private showSort(): void {
    this.section.querySelectorAll<HTMLElement>("#conn-table th[aria-sort]").forEach((th) => {
      const key = th.querySelector<HTMLButtonElement>("button.sort")?.dataset.key;
      th.setAttribute("aria-sort", key === this.sort.key ? this.sort.direction : "none");
    });
  }
}
