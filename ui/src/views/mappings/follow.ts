// Keeping the table current while it is on screen: a mapping's state
// changes when the proxy starts or stops (the status event says so), and
// its last error when a connection to its target fails, which no event
// tells. So while the view is shown and the page visible, the list is asked
// for again every REFRESH_EVERY ms; the table is redrawn only when the
// answer differs. Hidden, nothing is asked.

/** How often the list is asked for while the view is shown. */
export const REFRESH_EVERY = 2000;

export class Follow {
  private shown = false;
  private timer: number | null = null;
  /** A refresh is on its way: no second one is started beside it. */
  private running = false;

  constructor(private readonly refresh: () => Promise<void>) {
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.stopTimer();
      else void this.tick();
    });
  }

  /** The view is shown: refresh now, then every REFRESH_EVERY ms. */
  show(): void {
    this.shown = true;
    void this.tick();
  }

  /** Another view is shown. */
  hide(): void {
    this.shown = false;
    this.stopTimer();
  }

  /** Something changed (the proxy started or stopped): refresh now if shown. */
  poke(): void {
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (!this.shown || document.hidden || this.running) return;
    this.stopTimer();
    this.running = true;
    try {
      await this.refresh();
    } finally {
      this.running = false;
    }
    if (this.shown && !document.hidden && this.timer === null) {
      this.timer = window.setTimeout(() => {
        this.timer = null;
        void this.tick();
      }, REFRESH_EVERY);
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }
}
