// The connections view's markup: the bandwidth graph and totals, the
// per-user totals, each user's and device's use against its limits, the
// open sessions, the recently closed ones, the notice line and the Close
// all question. The parts find their elements by these
// ids and classes, and so do the app's WebDriver tests: keep them.

import type { SortKey } from "../../live";

const RANGES = [1, 5, 15] as const;

export interface Column {
  key: SortKey;
  label: string;
  numeric?: boolean;
}

export const COLUMNS: Column[] = [
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

export const MARKUP = `
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
  <section aria-labelledby="owner-use-title">
    <h3 id="owner-use-title">Use against limits</h3>
    <table id="owner-use" class="compact">
      <thead><tr><th scope="col">User or device</th><th scope="col" class="num">Today</th>
        <th scope="col" class="num">This month</th><th scope="col">Quota</th><th scope="col">Rate</th>
        <th scope="col">State</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-owners" class="muted">Nothing counted yet: while the proxy runs, every signed-in user and every
      device in Devices is counted.</p>
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
        <thead><tr aria-rowindex="1">${headerCells}<th scope="col" class="col-slowed"><span class="visually-hidden">Held back by a rate limit</span></th><th scope="col" class="col-close"><span class="visually-hidden">Close</span></th></tr></thead>
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
