// The devices that recently opened the setup page or fetched the PAC file:
// a row each (the device as its User-Agent describes it, its address, what
// it fetched, how many times, how long ago), or the empty state. The list
// comes from the app (recent_visits, then the visits-changed event); rows
// are reused and only text that changed is written. "How long ago" is
// written again when its words change (one timer, set for the next such
// moment), only while the list is on screen. Every value goes in as text:
// a User-Agent is whatever the device sent.

import { t } from "../../i18n";
import * as ipc from "../../ipc";
import type { Visit } from "../../ipc";
import { byId, setAttr, setHidden, setText } from "../../dom";
import { messageOf } from "../../errors";
import { agoChangesIn, formatAgo, formatDateTime } from "../../format";
import { describeAgent, pageLabel } from "./share";

const COLUMNS = 5;

export class VisitList {
  private visits: Visit[] = [];
  /** Sharing, with HTTP served: the list belongs on screen. */
  private applies = false;
  /** The status view is the one shown. */
  private viewShown = true;
  private timer: number | null = null;
  private readonly block: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;

  constructor(section: HTMLElement) {
    this.block = byId("visits-block", section);
    this.table = byId<HTMLTableElement>("visits", section);
    const body = this.table.tBodies[0];
    if (!body) throw new Error("#visits has no body");
    this.body = body;
    this.empty = byId("visits-empty", section);
    document.addEventListener("visibilitychange", () => this.sync());
  }

  /** Takes the latest list, the most recent first. */
  take(visits: Visit[]): void {
    this.visits = visits;
    this.draw();
  }

  /** Shows the list while sharing with HTTP served, hides it otherwise. */
  setApplies(applies: boolean): void {
    this.applies = applies;
    setHidden(this.block, !applies);
    this.sync();
  }

  /** The status view was shown (its times are written again) or hidden. */
  setViewShown(shown: boolean): void {
    this.viewShown = shown;
    this.sync();
  }

  /** Writes every row as of `now` (ms since the epoch). */
  draw(now: number = Date.now()): void {
    const { body, visits } = this;
    visits.forEach((visit, i) => drawRow(body.rows[i] ?? newRow(body), visit, now));
    while (body.rows.length > visits.length) body.lastElementChild?.remove();
    setHidden(this.table, visits.length === 0);
    setHidden(this.empty, visits.length > 0);
    this.schedule(now);
  }

  private onScreen(): boolean {
    return this.applies && this.viewShown && !document.hidden;
  }

  /** Brings the times up to date on coming back on screen; stops the timer on leaving. */
  private sync(): void {
    if (!this.onScreen()) this.stopTimer();
    else if (this.timer === null) this.draw();
  }

  /** Sets the timer for the next moment a row's "how long ago" changes. */
  private schedule(now: number): void {
    this.stopTimer();
    if (!this.onScreen() || this.visits.length === 0) return;
    const next = Math.min(...this.visits.map((v) => agoChangesIn(now - v.lastAt)));
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.draw();
    }, next);
  }

  private stopTimer(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Gives the list the devices now, then each new list the app announces. */
export async function followVisits(list: VisitList): Promise<void> {
  let announced = 0;
  try {
    await ipc.onVisitsChanged((visits) => {
      announced += 1;
      list.take(visits);
    });
    const visits = await ipc.recentVisits();
    // A list announced meanwhile is newer than this answer.
    if (announced === 0 && Array.isArray(visits)) list.take(visits);
  } catch (reason) {
    console.warn("the devices that opened the setup page cannot be read:", messageOf(reason));
  }
}

function newRow(body: HTMLTableSectionElement): HTMLTableRowElement {
  const row = body.insertRow();
  for (let i = 0; i < COLUMNS; i++) row.insertCell();
  row.cells[3]?.classList.add("num");
  return row;
}

function drawRow(row: HTMLTableRowElement, visit: Visit, now: number): void {
  const [device, address, page, count, last] = Array.from(row.cells);
  setText(device, describeAgent(visit.agent));
  if (device) setAttr(device, "title", visit.agent === "" ? t("status.noAgent") : visit.agent);
  setText(address, visit.client);
  setText(page, pageLabel(visit.page));
  setText(count, String(visit.count));
  setText(last, formatAgo(now - visit.lastAt));
  if (last) setAttr(last, "title", formatDateTime(visit.lastAt));
  if (row.dataset.client !== visit.client) row.dataset.client = visit.client;
}
