// The connections view: the bandwidth graph and totals, per-user totals, the
// open sessions (sortable, filterable, each closable) and the recently
// closed ones. It watches the sampler only while it is shown and the page
// is visible; it draws on the next animation frame, which the webview does
// not run while the window is hidden. The open-sessions table draws only the
// rows in sight, so thousands of sessions cost what a screenful costs.

import * as ipc from "../ipc";
import type { ClosedRow, LiveMessage, LiveRow } from "../ipc";
import { ask, byId, showText } from "../dom";
import { messageOf } from "../errors";
import { countOf, formatBytes, formatDateTime, formatDuration, formatRate, formatTimeOfDay } from "../format";
import { createGraph, type Graph } from "../graph";
import {
  DEFAULT_SORT,
  FIGURE_KEYS,
  LiveModel,
  matcher,
  pointsWithin,
  userLabel,
  type Sort,
  type SortKey,
} from "../live";

/** The height of one open-session row, in CSS pixels (fixed, see style.css). */
export const ROW_HEIGHT = 30;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 8;
/** Rows drawn when the scroll box has no size yet (tests, first frame). */
const DEFAULT_VISIBLE = 24;
const RANGES = [1, 5, 15] as const;

interface Column {
  key: SortKey;
  label: string;
  numeric?: boolean;
}

const COLUMNS: Column[] = [
  { key: "client", label: "Client" },
  { key: "user", label: "User" },
  { key: "command", label: "Command" },
  { key: "target", label: "Target" },
  { key: "route", label: "Route" },
  { key: "duration", label: "Duration", numeric: true },
  { key: "bytesUp", label: "Sent", numeric: true },
  { key: "bytesDown", label: "Received", numeric: true },
  { key: "rateUp", label: "Up", numeric: true },
  { key: "rateDown", label: "Down", numeric: true },
];

const headerCells = COLUMNS.map(
  (c) =>
    `<th scope="col" class="col-${c.key}${c.numeric ? " num" : ""}" aria-sort="none">` +
    `<button type="button" class="sort" data-key="${c.key}">${c.label}</button></th>`,
).join("");

const MARKUP = `
  <h2>Connections</h2>
  <section class="bandwidth" aria-labelledby="bandwidth-title">
    <div class="section-head">
      <h3 id="bandwidth-title">Bandwidth</h3>
      <div class="range" role="group" aria-label="Graph range">
        ${RANGES.map((m) => `<button type="button" data-minutes="${m}" aria-pressed="false">${m} min</button>`).join("")}
      </div>
    </div>
    <p class="rates">
      <span>Download <strong id="rate-down">0 B/s</strong></span>
      <span>Upload <strong id="rate-up">0 B/s</strong></span>
    </p>
    <div id="graph" class="graph" role="img" aria-label="Download and upload rate"></div>
    <dl class="totals">
      <div><dt>Received</dt><dd id="total-down" data-bytes="0">0 B</dd></div>
      <div><dt>Sent</dt><dd id="total-up" data-bytes="0">0 B</dd></div>
      <div><dt>Sessions</dt><dd id="total-sessions">0</dd></div>
      <div><dt>Open now</dt><dd id="total-open">0</dd></div>
    </dl>
    <p id="totals-since" class="muted"></p>
  </section>
  <section aria-labelledby="per-user-title">
    <h3 id="per-user-title">Per user</h3>
    <table id="user-totals" class="compact">
      <thead><tr><th scope="col">User</th><th scope="col" class="num">Open</th><th scope="col" class="num">Sessions</th>
        <th scope="col" class="num">Sent</th><th scope="col" class="num">Received</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-users" class="muted">No sessions yet.</p>
  </section>
  <section aria-labelledby="open-title">
    <div class="section-head">
      <h3 id="open-title">Open connections <span id="open-count" class="count">0</span></h3>
      <div class="inline-controls">
        <label class="visually-hidden" for="conn-filter">Filter connections</label>
        <input id="conn-filter" type="search" placeholder="Filter by client, user, target, route" autocomplete="off" spellcheck="false" />
        <button id="close-all" type="button" class="danger" disabled>Close all</button>
      </div>
    </div>
    <div id="conn-scroll" class="conn-scroll">
      <table id="conn-table" class="live">
        <thead><tr aria-rowindex="1">${headerCells}<th scope="col" class="col-close"><span class="visually-hidden">Close</span></th></tr></thead>
        <tbody id="conn-body"></tbody>
      </table>
    </div>
    <p id="conn-empty" class="muted">No open connections.</p>
  </section>
  <section aria-labelledby="closed-title">
    <h3 id="closed-title">Recently closed</h3>
    <table id="closed-table" class="compact">
      <thead><tr><th scope="col">Ended</th><th scope="col">Client</th><th scope="col">User</th><th scope="col">Command</th>
        <th scope="col">Target</th><th scope="col">Route</th><th scope="col" class="num">Duration</th>
        <th scope="col" class="num">Sent</th><th scope="col" class="num">Received</th></tr></thead>
      <tbody id="closed-body"></tbody>
    </table>
    <p id="closed-empty" class="muted">None yet.</p>
  </section>
  <p id="conn-notice" class="notice" role="status"></p>
  <dialog id="confirm-close-all" aria-labelledby="confirm-close-all-title">
    <h3 id="confirm-close-all-title">Close every connection?</h3>
    <p id="confirm-close-all-text"></p>
    <div class="actions">
      <button type="button" id="confirm-close-all-yes" class="danger">Close all</button>
      <button type="button" id="confirm-close-all-no">Cancel</button>
    </div>
  </dialog>
`;

export interface ConnectionsView {
  /** The view is shown: start watching (when the page is visible). */
  show(): void;
  /** The view is hidden: stop watching. */
  hide(): void;
  /** Draws now instead of on the next frame (tests). */
  render(): void;
  /** Resolves when the current watch request has been answered. */
  settled(): Promise<void>;
  /** Stops watching and removes the listeners on the document and the window. */
  destroy(): void;
}

function setText(cell: HTMLElement | undefined, value: string): void {
  if (cell && cell.textContent !== value) cell.textContent = value;
}

function setAttr(element: Element, name: string, value: string): void {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

function cellsOf(values: string[], numericFrom: number): string {
  return values.map((v, i) => `<td${i >= numericFrom ? ' class="num"' : ""}>${escapeHtml(v)}</td>`).join("");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function mountConnections(section: HTMLElement): ConnectionsView {
  section.innerHTML = MARKUP;
  const model = new LiveModel();
  const body = byId<HTMLTableSectionElement>("conn-body", section);
  const scroll = byId("conn-scroll", section);
  const table = byId<HTMLTableElement>("conn-table", section);
  const filterInput = byId<HTMLInputElement>("conn-filter", section);
  const closeAll = byId<HTMLButtonElement>("close-all", section);
  const notice = byId("conn-notice", section);
  const graphBox = byId("graph", section);
  const openCount = byId("open-count", section);
  const connEmpty = byId("conn-empty", section);
  const usersBody = byId<HTMLTableElement>("user-totals", section).tBodies[0] as HTMLTableSectionElement;
  const noUsers = byId("no-users", section);
  const closedBody = byId("closed-body", section);
  const closedEmpty = byId("closed-empty", section);
  const rateDown = byId("rate-down", section);
  const rateUp = byId("rate-up", section);
  const totalDown = byId("total-down", section);
  const totalUp = byId("total-up", section);
  const totalSessions = byId("total-sessions", section);
  const totalOpen = byId("total-open", section);
  const totalsSince = byId("totals-since", section);
  const confirmDialog = byId<HTMLDialogElement>("confirm-close-all", section);
  const confirmText = byId("confirm-close-all-text", section);
  const confirmYes = byId<HTMLButtonElement>("confirm-close-all-yes", section);
  const confirmNo = byId<HTMLButtonElement>("confirm-close-all-no", section);
  const topSpacer = document.createElement("tr");
  const bottomSpacer = document.createElement("tr");
  topSpacer.className = bottomSpacer.className = "spacer";
  topSpacer.setAttribute("aria-hidden", "true");
  bottomSpacer.setAttribute("aria-hidden", "true");
  body.append(topSpacer, bottomSpacer);
  const pool: HTMLTableRowElement[] = [];

  let sort: Sort = { ...DEFAULT_SORT };
  let filter = "";
  let minutes: number = 5;
  let graph: Graph | null = null;
  const drawn = { closed: -1, users: -1, filter: "" };
  let frame = 0;
  let everything = false;
  let shown = false;
  let watching: Promise<void> = Promise.resolve();
  let unwatch: (() => Promise<void>) | null = null;
  let generation = 0;
  let pending = false;
  let messages = 0;
  /** The graph should follow its box's width on the next frame (window resized, view shown). */
  let resizeGraph = false;
  /** totals.since as last written out (formatting a date is not free). */
  let sinceShown: number | null = null;
  // The open rows in sight order, rebuilt only when which rows, their order
  // or the filter can have changed. The rows are the model's own objects,
  // updated in place, so the figures drawn from them stay current.
  let sorted: LiveRow[] = [];
  let sortedFor = { membership: -1, figures: -1, key: "", direction: "", filter: "" };

  /** The time the figures are for: the last message's, or now before any. */
  const clock = (): number => model.at || Date.now();

  // ---- watching

  function onMessage(message: LiveMessage): void {
    model.apply(message);
    messages++;
    section.dataset.messages = String(messages);
    schedule();
  }

  function startWatching(): void {
    if (!shown || document.hidden || unwatch || pending) return;
    pending = true;
    const mine = ++generation;
    watching = ipc
      .watchLive(onMessage)
      .then((stop) => {
        pending = false;
        // Hidden again while the answer was on its way: stop this one and
        // start over if the view is back.
        if (mine !== generation) {
          void stop()
            .catch(() => undefined)
            .then(startWatching);
          return;
        }
        unwatch = stop;
        showText(notice, null);
      })
      .catch((e: unknown) => {
        pending = false;
        showText(notice, `The live view is not available: ${messageOf(e)}`);
      });
  }

  function stopWatching(): void {
    generation++;
    const stop = unwatch;
    unwatch = null;
    if (stop) watching = stop().catch(() => undefined);
  }

  // The listeners outside the section, removed by destroy().
  const outside = new AbortController();

  document.addEventListener(
    "visibilitychange",
    () => {
      if (document.hidden) stopWatching();
      else startWatching();
    },
    { signal: outside.signal },
  );

  // ---- drawing

  /** Draws on the next frame: everything, or (scrolling) the table alone. */
  function schedule(tableOnly = false): void {
    if (!tableOnly) everything = true;
    if (frame) return;
    const run = (): void => {
      frame = 0;
      // Measure before writing, so following the width costs no extra layout.
      if (resizeGraph && !section.hidden) {
        resizeGraph = false;
        graph?.resize();
      }
      if (everything) render();
      else if (!section.hidden) renderOpen(clock());
      everything = false;
    };
    frame = typeof requestAnimationFrame === "function" ? requestAnimationFrame(run) : window.setTimeout(run, 16);
  }

  function cancelFrame(): void {
    if (!frame) return;
    if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(frame);
    else window.clearTimeout(frame);
    frame = 0;
  }

  function newRow(): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.className = "row";
    tr.innerHTML =
      COLUMNS.map((c) => `<td class="col-${c.key}${c.numeric ? " num" : ""}"></td>`).join("") +
      `<td class="col-close"><button type="button" class="close-one">Close</button></td>`;
    return tr;
  }

  function fillRow(tr: HTMLTableRowElement, row: LiveRow, now: number): void {
    if (tr.dataset.id !== String(row.id)) {
      tr.dataset.id = String(row.id);
      const button = tr.querySelector<HTMLButtonElement>("button.close-one");
      if (button) {
        button.disabled = false;
        button.setAttribute("aria-label", `Close the connection to ${row.target}`);
      }
    }
    const bytesUp = String(row.bytesUp);
    const bytesDown = String(row.bytesDown);
    if (tr.dataset.bytesUp !== bytesUp) tr.dataset.bytesUp = bytesUp;
    if (tr.dataset.bytesDown !== bytesDown) tr.dataset.bytesDown = bytesDown;
    const cells = tr.cells;
    setText(cells[0], row.client);
    setText(cells[1], userLabel(row.user));
    setText(cells[2], row.command);
    setText(cells[3], row.target);
    if (cells[3] && cells[3].title !== row.target) cells[3].title = row.target;
    setText(cells[4], row.route);
    if (cells[4] && cells[4].title !== row.route) cells[4].title = row.route;
    setText(cells[5], formatDuration(now - row.startedAt));
    setText(cells[6], formatBytes(row.bytesUp));
    setText(cells[7], formatBytes(row.bytesDown));
    setText(cells[8], formatRate(row.rateUp));
    setText(cells[9], formatRate(row.rateDown));
  }

  function openRows(): LiveRow[] {
    const figures = FIGURE_KEYS.has(sort.key) ? model.figures : -1;
    const was = sortedFor;
    if (
      was.membership !== model.membership ||
      was.figures !== figures ||
      was.key !== sort.key ||
      was.direction !== sort.direction ||
      was.filter !== filter
    ) {
      sorted = model.view(sort, filter);
      sortedFor = { membership: model.membership, figures, key: sort.key, direction: sort.direction, filter };
    }
    return sorted;
  }

  function renderOpen(now: number): void {
    const rows = openRows();
    const total = model.rows.size;
    setText(openCount, rows.length === total ? String(total) : `${rows.length} of ${total}`);
    if (connEmpty.hidden !== rows.length > 0) connEmpty.hidden = rows.length > 0;
    setText(connEmpty, total > 0 ? "No open connection matches the filter." : "No open connections.");
    closeAll.disabled = total === 0;
    const height = scroll.clientHeight;
    const visible = height > 0 ? Math.ceil(height / ROW_HEIGHT) : DEFAULT_VISIBLE;
    const first = Math.max(0, Math.floor(scroll.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, first + visible + 2 * OVERSCAN);
    const count = Math.max(0, last - first);
    while (pool.length < count) pool.push(newRow());
    const wanted = pool.slice(0, count);
    // Put exactly the wanted rows between the spacers, in order.
    let cursor: ChildNode | null = topSpacer.nextSibling;
    for (const tr of wanted) {
      if (cursor !== tr) body.insertBefore(tr, cursor);
      else cursor = cursor.nextSibling;
    }
    for (const extra of pool.slice(count)) if (extra.parentNode) extra.remove();
    // Only some rows exist at a time: tell assistive technology how many
    // there are and where each drawn one stands (the header is row 1).
    setAttr(table, "aria-rowcount", String(rows.length + 1));
    wanted.forEach((tr, i) => {
      const row = rows[first + i];
      if (row) fillRow(tr, row, now);
      setAttr(tr, "aria-rowindex", String(first + i + 2));
    });
    topSpacer.style.height = `${first * ROW_HEIGHT}px`;
    bottomSpacer.style.height = `${(rows.length - last) * ROW_HEIGHT}px`;
  }

  function renderUsers(): void {
    usersBody.innerHTML = model.users
      .map((u) => {
        const label = escapeHtml(userLabel(u.user));
        return `<tr data-user="${escapeHtml(u.user ?? "")}"><th scope="row">${label}</th>${cellsOf(
          [String(u.active), String(u.sessions), formatBytes(u.bytesUp), formatBytes(u.bytesDown)],
          0,
        )}</tr>`;
      })
      .join("");
    noUsers.hidden = model.users.length > 0;
  }

  function renderClosed(): void {
    const keep = matcher(filter);
    const rows = model.closed.filter(keep);
    closedBody.innerHTML = rows
      .map(
        (c: ClosedRow) =>
          `<tr data-id="${c.id}" data-bytes-up="${c.bytesUp}" data-bytes-down="${c.bytesDown}">` +
          cellsOf(
            [
              formatTimeOfDay(c.endedAt),
              c.client,
              userLabel(c.user),
              c.command,
              c.target,
              c.route,
              formatDuration(c.durationMs),
              formatBytes(c.bytesUp),
              formatBytes(c.bytesDown),
            ],
            6,
          ) +
          `</tr>`,
      )
      .join("");
    closedEmpty.hidden = rows.length > 0;
    closedEmpty.textContent = model.closed.length > 0 ? "No closed connection matches the filter." : "None yet.";
  }

  function renderClosedIfChanged(): void {
    if (drawn.closed === model.closedVersion && drawn.filter === filter) return;
    renderClosed();
    drawn.closed = model.closedVersion;
    drawn.filter = filter;
  }

  function renderTotals(): void {
    const rate = model.rate();
    setText(rateDown, formatRate(rate.down));
    setText(rateUp, formatRate(rate.up));
    const totals = model.totals;
    if (!totals) return;
    totalDown.dataset.bytes = String(totals.bytesDown);
    totalUp.dataset.bytes = String(totals.bytesUp);
    setText(totalDown, formatBytes(totals.bytesDown));
    setText(totalUp, formatBytes(totals.bytesUp));
    setText(totalSessions, String(totals.sessions));
    setText(totalOpen, String(totals.activeSessions));
    if (totals.since !== sinceShown) {
      sinceShown = totals.since;
      setText(totalsSince, `Counted since ${formatDateTime(totals.since)}.`);
    }
  }

  function renderGraph(): void {
    if (!graph) {
      try {
        graph = createGraph(graphBox);
      } catch {
        // No canvas (tests without one): the figures still show.
        return;
      }
    }
    graph.draw(pointsWithin(model.history, minutes, model.at), minutes, model.at);
    graphBox.setAttribute(
      "aria-label",
      `Download and upload rate over the last ${countOf(minutes, "minute")}; now ${formatRate(model.rate().down)} down, ${formatRate(model.rate().up)} up`,
    );
  }

  function render(): void {
    if (section.hidden) return;
    const started = performance.now();
    const now = clock();
    renderTotals();
    renderOpen(now);
    if (drawn.users !== model.usersVersion) {
      renderUsers();
      drawn.users = model.usersVersion;
    }
    renderClosedIfChanged();
    renderGraph();
    // What the last drawing cost, for scripts/measure-live.
    section.dataset.renderMs = (performance.now() - started).toFixed(2);
  }

  // ---- controls

  function showSort(): void {
    section.querySelectorAll<HTMLElement>("#conn-table th[aria-sort]").forEach((th) => {
      const key = th.querySelector<HTMLButtonElement>("button.sort")?.dataset.key;
      th.setAttribute("aria-sort", key === sort.key ? sort.direction : "none");
    });
  }

  section.querySelectorAll<HTMLButtonElement>("button.sort").forEach((button) => {
    button.addEventListener("click", () => {
      const key = button.dataset.key as SortKey;
      const numeric = COLUMNS.find((c) => c.key === key)?.numeric ?? false;
      sort =
        sort.key === key
          ? { key, direction: sort.direction === "ascending" ? "descending" : "ascending" }
          : { key, direction: numeric ? "descending" : "ascending" };
      showSort();
      if (!section.hidden) renderOpen(clock());
    });
  });
  showSort();

  function showRange(): void {
    section.querySelectorAll<HTMLButtonElement>(".range button").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.minutes) === minutes));
    });
  }
  section.querySelectorAll<HTMLButtonElement>(".range button").forEach((button) => {
    button.addEventListener("click", () => {
      minutes = Number(button.dataset.minutes);
      showRange();
      if (!section.hidden) renderGraph();
    });
  });
  showRange();

  filterInput.addEventListener("input", () => {
    filter = filterInput.value;
    scroll.scrollTop = 0;
    if (section.hidden) return;
    renderOpen(clock());
    renderClosedIfChanged();
  });

  scroll.addEventListener("scroll", () => schedule(true), { passive: true });
  window.addEventListener(
    "resize",
    () => {
      resizeGraph = true;
      schedule(true); // the graph follows in the frame; the table shows as many rows as fit
    },
    { signal: outside.signal },
  );

  body.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button.close-one");
    const id = Number(button?.closest<HTMLTableRowElement>("tr")?.dataset.id);
    if (!button || !Number.isFinite(id)) return;
    button.disabled = true;
    ipc
      .closeSession(id)
      .then((closed) => showText(notice, closed ? "Connection closed." : "That connection had already ended."))
      .catch((e: unknown) => {
        button.disabled = false;
        showText(notice, `The connection could not be closed: ${messageOf(e)}`);
      });
  });

  closeAll.addEventListener("click", () => {
    const count = model.rows.size;
    confirmText.textContent =
      `${countOf(count, "open connection")} will end at once; their clients see the connection drop.`;
    void ask(confirmDialog, confirmYes, confirmNo).then(async (yes) => {
      if (!yes) return;
      try {
        const closed = await ipc.closeAllSessions();
        showText(notice, `Closed ${countOf(closed, "connection")}.`);
      } catch (e) {
        showText(notice, `The connections could not be closed: ${messageOf(e)}`);
      }
    });
  });

  return {
    show() {
      shown = true;
      startWatching();
      resizeGraph = true;
      schedule();
    },
    hide() {
      shown = false;
      stopWatching();
    },
    render,
    settled: () => watching,
    destroy() {
      shown = false;
      stopWatching();
      outside.abort();
      cancelFrame();
    },
  };
}
