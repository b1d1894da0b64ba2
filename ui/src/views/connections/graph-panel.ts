// The bandwidth panel: the current rates, the graph over the chosen range
// (1, 5 or 15 minutes) and the totals since the proxy began counting.

import { byId, setText } from "../../dom";
import { formatBytes, formatDateTime, formatRate } from "../../format";
import { createGraph, type Graph } from "../../graph";
import { t } from "../../i18n";
import { pointsWithin, type LiveModel } from "../../live";

export class GraphPanel {
  private minutes = 5;
  /** Made on the first drawing; stays null where there is no canvas. */
  private graph: Graph | null = null;
  /** totals.since as last written out (formatting a date is not free). */
  private sinceShown: number | null = null;
  private readonly box: HTMLElement;
  private readonly el: Record<"rateDown" | "rateUp" | "totalDown" | "totalUp" | "sessions" | "open" | "since", HTMLElement>;

  constructor(
    private readonly section: HTMLElement,
    private readonly model: LiveModel,
  ) {
    this.box = byId("graph", section);
    this.el = {
      rateDown: byId("rate-down", section),
      rateUp: byId("rate-up", section),
      totalDown: byId("total-down", section),
      totalUp: byId("total-up", section),
      sessions: byId("total-sessions", section),
      open: byId("total-open", section),
      since: byId("totals-since", section),
    };
    section.querySelectorAll<HTMLButtonElement>(".range button").forEach((button) => {
      button.addEventListener("click", () => this.setRange(Number(button.dataset.minutes)));
    });
    this.showRange();
  }

  /** The current rates and the totals. */
  drawTotals(): void {
    const rate = this.model.rate();
    setText(this.el.rateDown, formatRate(rate.down));
    setText(this.el.rateUp, formatRate(rate.up));
    const totals = this.model.totals;
    if (!totals) return;
    this.el.totalDown.dataset.bytes = String(totals.bytesDown);
    this.el.totalUp.dataset.bytes = String(totals.bytesUp);
    setText(this.el.totalDown, formatBytes(totals.bytesDown));
    setText(this.el.totalUp, formatBytes(totals.bytesUp));
    setText(this.el.sessions, String(totals.sessions));
    setText(this.el.open, String(totals.activeSessions));
    if (totals.since !== this.sinceShown) {
      this.sinceShown = totals.since;
      setText(this.el.since, t("conn.countedSince", { since: formatDateTime(totals.since) }));
    }
  }

  /** The graph over the chosen range, and its description for assistive technology. */
  drawGraph(): void {
    if (!this.graph) {
      try {
        this.graph = createGraph(this.box);
      } catch {
        // No canvas (tests without one): the figures still show.
        return;
      }
    }
    const { model, minutes } = this;
    this.graph.draw(pointsWithin(model.history, minutes, model.at), minutes, model.at);
    this.box.setAttribute(
      "aria-label",
      t("conn.graphNow", { count: minutes, down: formatRate(model.rate().down), up: formatRate(model.rate().up) }),
    );
  }

  /** Follows the graph's box width. */
  resize(): void {
    this.graph?.resize();
  }

  private setRange(minutes: number): void {
    this.minutes = minutes;
    this.showRange();
    if (!this.section.hidden) this.drawGraph();
  }

  private showRange(): void {
    this.section.querySelectorAll<HTMLButtonElement>(".range button").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.dataset.minutes) === this.minutes));
    });
  }
}
