// Keeping a table current while it is on screen, for what no event tells:
// a mapping's last error when a connection to its target fails (its state
// changes when the proxy starts or stops, which the status event says),
// each user's use of its quota. So while the view is shown and the page
// visible, the figures are asked for again every few seconds (REFRESH_EVERY
// ms, unless told), and the caller redraws only when the answer differs.
// Hidden, nothing is asked.

/** How often the figures are asked for while the view is shown, unless told. */
export const REFRESH_EVERY = 2000;

export class Follow {
  private shown = false;
  private timer: number | null = null;
  /** A refresh is on its way: no second one is started beside it. */
  private running = false;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly every: number = REFRESH_EVERY,
  ) {
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.stopTimer();
      else void this.tick();
    });
  }

  /** The view is shown: refresh now, then every `every` ms. */
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
      }, this.every);
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }
}
