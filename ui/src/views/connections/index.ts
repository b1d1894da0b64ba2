// The connections view: the bandwidth graph and totals, per-user totals, the
// open sessions (sortable, filterable, each closable) and the recently
// closed ones. It watches the sampler only while it is shown and the page
// is visible; it draws on the next animation frame, which the webview does
// not run while the window is hidden. The open-sessions table draws only the
// rows in sight, so thousands of sessions cost what a screenful costs.
//
// The parts: watch.ts (the live channel), table.ts and close.ts (the open
// sessions), graph-panel.ts (rates, graph, totals), user-totals.ts,
// owner-use.ts (each user's and device's use against its limits),
// closed.ts, frame.ts (drawing on the next frame); the model is
// ../../live.ts.

import { byId, showText } from "../../dom";
import type { LiveMessage } from "../../ipc";
import { LiveModel } from "../../live";
import { wireClosing } from "./close";
import { ClosedTable } from "./closed";
import { NextFrame } from "./frame";
import { GraphPanel } from "./graph-panel";
import { markup } from "./markup";
import { OwnerUse } from "./owner-use";
import { OpenTable } from "./table";
import { UserTotals } from "./user-totals";
import { LiveWatch } from "./watch";

export { ROW_HEIGHT } from "./table";

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

export function mountConnections(section: HTMLElement): ConnectionsView {
  section.innerHTML = markup();
  const model = new LiveModel();
  /** The time the figures are for: the last message's, or now before any. */
  const clock = (): number => model.at || Date.now();
  const notice = byId("conn-notice", section);
  const say = (text: string | null): void => showText(notice, text);
  const open = new OpenTable(section, model, clock);
  const panel = new GraphPanel(section, model);
  const users = new UserTotals(section, model);
  const owners = new OwnerUse(section, model);
  const closed = new ClosedTable(section, model);
  wireClosing(section, model, say);

  function render(): void {
    if (section.hidden) return;
    const started = performance.now();
    panel.drawTotals();
    open.draw(clock());
    users.update();
    owners.update();
    closed.update(open.filter);
    panel.drawGraph();
    // What the last drawing cost, for scripts/measure-live.
    section.dataset.renderMs = (performance.now() - started).toFixed(2);
  }

  const frames = new NextFrame({
    hidden: () => section.hidden,
    resize: () => panel.resize(),
    all: render,
    table: () => open.draw(clock()),
  });

  let messages = 0;
  function receive(message: LiveMessage): void {
    model.apply(message);
    messages++;
    section.dataset.messages = String(messages);
    frames.request();
  }

  // The listeners outside the section, removed by destroy().
  const outside = new AbortController();
  const watch = new LiveWatch(receive, say, outside.signal);

  const filterInput = byId<HTMLInputElement>("conn-filter", section);
  filterInput.addEventListener("input", () => {
    open.setFilter(filterInput.value);
    if (section.hidden) return;
    open.draw(clock());
    closed.update(open.filter);
  });
  open.onScroll(() => frames.request(true));
  window.addEventListener(
    "resize",
    () => {
      frames.resizeNext();
      frames.request(true); // the graph follows in the frame; the table shows as many rows as fit
    },
    { signal: outside.signal },
  );

  return {
    show() {
      watch.show();
      frames.resizeNext();
      frames.request();
    },
    hide: () => watch.hide(),
    render,
    settled: () => watch.settled(),
    destroy() {
      watch.hide();
      outside.abort();
      frames.cancel();
    },
  };
}
