// Watching the sampler: the live channel is open only while the view is
// shown and the page is visible. A start answered after the view was hidden
// again is stopped at once (and started over when the view is back), so at
// most one watch is ever open.

import * as ipc from "../../ipc";
import type { LiveMessage } from "../../ipc";
import { messageOf } from "../../errors";
import { t } from "../../i18n";

export class LiveWatch {
  private shown = false;
  /** A watch request is on its way. */
  private pending = false;
  /** Bumped by every start and stop: an answer for an older one is stale. */
  private generation = 0;
  private unwatch: (() => Promise<void>) | null = null;
  private watching: Promise<void> = Promise.resolve();

  /** onMessage gets the sampler's messages; say shows (or, with null, clears) a notice. */
  constructor(
    private readonly onMessage: (message: LiveMessage) => void,
    private readonly say: (text: string | null) => void,
    signal: AbortSignal,
  ) {
    document.addEventListener(
      "visibilitychange",
      () => {
        if (document.hidden) this.stop();
        else this.start();
      },
      { signal },
    );
  }

  /** The view is shown: watch (when the page is visible). */
  show(): void {
    this.shown = true;
    this.start();
  }

  /** The view is hidden: stop watching. */
  hide(): void {
    this.shown = false;
    this.stop();
  }

  /** Resolves when the current watch request has been answered. */
  settled(): Promise<void> {
    return this.watching;
  }

  private start(): void {
    if (!this.shown || document.hidden || this.unwatch || this.pending) return;
    this.pending = true;
    const mine = ++this.generation;
    this.watching = ipc
      .watchLive(this.onMessage)
      .then((stop) => {
        this.pending = false;
        // Hidden again while the answer was on its way: stop this one and
        // start over if the view is back.
        if (mine !== this.generation) {
          void stop()
            .catch(() => undefined)
            .then(() => this.start());
          return;
        }
        this.unwatch = stop;
        this.say(null);
      })
      .catch((e: unknown) => {
        this.pending = false;
        this.say(t("conn.liveUnavailable", { reason: messageOf(e) }));
      });
  }

  private stop(): void {
    this.generation++;
    const stop = this.unwatch;
    this.unwatch = null;
    if (stop) this.watching = stop().catch(() => undefined);
  }
}
