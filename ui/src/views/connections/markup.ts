// The connections view's markup: the bandwidth graph and totals, the
// per-user totals, each user's and device's use against its limits, the
// open sessions, the recently closed ones, the notice line and the Close
// all question. The parts find their elements by these
// ids and classes, and so do the app's WebDriver tests: keep them.

import { formatBytes, formatRate } from "../../format";
import { tHtml, type TextKey } from "../../i18n";
import type { SortKey } from "../../live";

const RANGES = [1, 5, 15] as const;

export interface Column {
  key: SortKey;
  label: TextKey;
  numeric?: boolean;
}

export const COLUMNS: Column[] = [
  { key: "client", label: "conn.col.client" },
  { key: "user", label: "conn.col.user" },
  { key: "command", label: "conn.col.command" },
  { key: "target", label: "conn.col.target" },
  { key: "route", label: "conn.col.route" },
  { key: "duration", label: "conn.col.duration", numeric: true },
  { key: "bytesUp", label: "conn.col.sent", numeric: true },
  { key: "bytesDown", label: "conn.col.received", numeric: true },
  { key: "rateUp", label: "conn.col.up", numeric: true },
  { key: "rateDown", label: "conn.col.down", numeric: true },
];

/** The open sessions' header cells; a label a narrow column cuts is whole in its title. */
function headerCells(): string {
  return COLUMNS.map(
    (c) =>
      `<th scope="col" class="col-${c.key}${c.numeric ? " num" : ""}" aria-sort="none">` +
      `<button type="button" class="sort" data-key="${c.key}" title="${tHtml(c.label)}">${tHtml(c.label)}</button></th>`,
  ).join("");
}

/** The view's markup, in the page's language. */
export function markup(): string {
  return `
  <h2>${tHtml("conn.title")}</h2>
  <section class="bandwidth" aria-labelledby="bandwidth-title">
    <div class="section-head">
      <h3 id="bandwidth-title">${tHtml("conn.bandwidth")}</h3>
      <div class="range" role="group" aria-label="${tHtml("conn.range")}">
        ${RANGES.map((m) => `<button type="button" data-minutes="${m}" aria-pressed="false">${tHtml("conn.rangeMinutes", { m })}</button>`).join("")}
      </div>
    </div>
    <p class="rates">
      <span>${tHtml("conn.download")} <strong id="rate-down">${formatRate(0)}</strong></span>
      <span>${tHtml("conn.upload")} <strong id="rate-up">${formatRate(0)}</strong></span>
    </p>
    <div id="graph" class="graph" role="img" aria-label="${tHtml("conn.graphLabel")}"></div>
    <dl class="totals">
      <div><dt>${tHtml("conn.received")}</dt><dd id="total-down" data-bytes="0">${formatBytes(0)}</dd></div>
      <div><dt>${tHtml("conn.sent")}</dt><dd id="total-up" data-bytes="0">${formatBytes(0)}</dd></div>
      <div><dt>${tHtml("conn.sessions")}</dt><dd id="total-sessions">0</dd></div>
      <div><dt>${tHtml("conn.openNow")}</dt><dd id="total-open">0</dd></div>
    </dl>
    <p id="totals-since" class="muted"></p>
  </section>
  <section aria-labelledby="per-user-title">
    <h3 id="per-user-title">${tHtml("conn.perUser")}</h3>
    <table id="user-totals" class="compact">
      <thead><tr><th scope="col">${tHtml("conn.col.user")}</th><th scope="col" class="num">${tHtml("conn.col.open")}</th><th scope="col" class="num">${tHtml("conn.sessions")}</th>
        <th scope="col" class="num">${tHtml("conn.col.sent")}</th><th scope="col" class="num">${tHtml("conn.col.received")}</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-users" class="muted">${tHtml("conn.noUsers")}</p>
  </section>
  <section aria-labelledby="owner-use-title">
    <h3 id="owner-use-title">${tHtml("conn.ownerUse")}</h3>
    <table id="owner-use" class="compact">
      <thead><tr><th scope="col">${tHtml("conn.col.owner")}</th><th scope="col" class="num">${tHtml("conn.col.today")}</th>
        <th scope="col" class="num">${tHtml("conn.col.thisMonth")}</th><th scope="col">${tHtml("conn.col.quota")}</th><th scope="col">${tHtml("conn.col.rate")}</th>
        <th scope="col">${tHtml("conn.col.state")}</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-owners" class="muted">${tHtml("conn.noOwners")}</p>
  </section>
  <section aria-labelledby="open-title">
    <div class="section-head">
      <h3 id="open-title">${tHtml("conn.open")} <span id="open-count" class="count">0</span></h3>
      <div class="inline-controls">
        <label class="visually-hidden" for="conn-filter">${tHtml("conn.filterLabel")}</label>
        <input id="conn-filter" type="search" placeholder="${tHtml("conn.filterPlaceholder")}" autocomplete="off" spellcheck="false" />
        <button id="close-all" type="button" class="danger" disabled>${tHtml("conn.closeAll")}</button>
      </div>
    </div>
    <div id="conn-scroll" class="conn-scroll">
      <table id="conn-table" class="live">
        <thead><tr aria-rowindex="1">${headerCells()}<th scope="col" class="col-slowed"><span class="visually-hidden">${tHtml("conn.col.slowed")}</span></th><th scope="col" class="col-close"><span class="visually-hidden">${tHtml("common.close")}</span></th></tr></thead>
        <tbody id="conn-body"></tbody>
      </table>
    </div>
    <p id="conn-empty" class="muted">${tHtml("conn.noOpen")}</p>
  </section>
  <section aria-labelledby="closed-title">
    <h3 id="closed-title">${tHtml("conn.closed")}</h3>
    <table id="closed-table" class="compact">
      <thead><tr><th scope="col">${tHtml("conn.col.ended")}</th><th scope="col">${tHtml("conn.col.client")}</th><th scope="col">${tHtml("conn.col.user")}</th><th scope="col">${tHtml("conn.col.command")}</th>
        <th scope="col">${tHtml("conn.col.target")}</th><th scope="col">${tHtml("conn.col.route")}</th><th scope="col" class="num">${tHtml("conn.col.duration")}</th>
        <th scope="col" class="num">${tHtml("conn.col.sent")}</th><th scope="col" class="num">${tHtml("conn.col.received")}</th></tr></thead>
      <tbody id="closed-body"></tbody>
    </table>
    <p id="closed-empty" class="muted">${tHtml("conn.noneYet")}</p>
  </section>
  <p id="conn-notice" class="notice" role="status"></p>
  <dialog id="confirm-close-all" aria-labelledby="confirm-close-all-title">
    <h3 id="confirm-close-all-title">${tHtml("conn.closeAllTitle")}</h3>
    <p id="confirm-close-all-text"></p>
    <div class="actions">
      <button type="button" id="confirm-close-all-yes" class="danger">${tHtml("conn.closeAll")}</button>
      <button type="button" id="confirm-close-all-no">${tHtml("common.cancel")}</button>
    </div>
  </dialog>
`;
}
