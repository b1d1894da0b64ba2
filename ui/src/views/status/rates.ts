// The dashboard's traffic: the current download and upload rates, a small
// graph of the last minutes and the number of open connections, from the
// same live channel as the Connections view (watched only while the Status
// view is shown and the page visible; one view watches at a time).

import { byId, setText, showText } from "../../dom";
import { formatRate } from "../../format";
import { createGraph, type Graph } from "../../graph";
import { t } from "../../i18n";
import type { LiveMessage } from "../../ipc";
import { LiveModel, pointsWithin } from "../../live";
import { LiveWatch } from "../connections/watch";

/** The minutes the small graph spans. */
export const RATES_MINUTES = 5;
const GRAPH_HEIGHT = 90;

export class RatesCard {
  private readonly model = new LiveModel();
  private readonly watch: LiveWatch;
  private graph: Graph | null = null;
  private frame = 0;
  private shown = false;
  private readonly down: HTMLElement;
  private readonly up: HTMLElement;
  private readonly open: HTMLElement;
  private readonly box: HTMLElement;

  constructor(section: HTMLElement) {
    this.down = byId("dash-rate-down", section);
    this.up = byId("dash-rate-up", section);
    this.open = byId("dash-connections", section);
    this.box = byId("dash-graph", section);
    const notice = byId("dash-rates-notice", section);
    this.watch = new LiveWatch(
      (message) => this.receive(message),
      (text) => showText(notice, text),
      new AbortController().signal,
    );
  }

  show(): void {
    this.shown = true;
    this.watch.show();
    this.draw();
  }

  hide(): void {
    this.shown = false;
    this.watch.hide();
  }

  private receive(message: LiveMessage): void {
    this.model.apply(message);
    if (this.frame || !this.shown) return;
    const draw = (): void => {
      this.frame = 0;
      this.draw();
    };
    this.frame = requestAnimationFrame(draw);
  }

  private draw(): void {
    const { model } = this;
    const rate = model.rate();
    setText(this.down, formatRate(rate.down));
    setText(this.up, formatRate(rate.up));
    const open = model.totals?.activeSessions ?? 0;
    this.open.dataset.count = String(open);
    setText(this.open, t("format.openConnections", { count: open }));
    if (!this.graph) {
      try {
        this.graph = createGraph(this.box, GRAPH_HEIGHT);
      } catch {
        return; // no canvas (tests): the figures still show
      }
    }
    this.graph.resize();
    const now = model.at || Date.now();
    this.graph.draw(pointsWithin(model.history, RATES_MINUTES, now), RATES_MINUTES, now);
    this.box.setAttribute("aria-label", t("conn.graphNow", { count: RATES_MINUTES, down: formatRate(rate.down), up: formatRate(rate.up) }));
  }
}
