// Drawing on the next animation frame, which the webview does not run while
// the window is hidden: however many messages, scroll or resize events come
// within a frame, the view draws once.

export interface FrameSteps {
  /** Whether the view is hidden now. */
  hidden(): boolean;
  /** Follows the boxes' widths (done first, so measuring costs no extra layout). */
  resize(): void;
  /** Draws everything (checks by itself whether the view is shown). */
  all(): void;
  /** Draws the open-sessions table alone. */
  table(): void;
}

export class NextFrame {
  private handle = 0;
  private everything = false;
  /** Follow the boxes' widths in the next frame (window resized, view shown). */
  private resizeWanted = false;

  constructor(private readonly steps: FrameSteps) {}

  /** Draws on the next frame: everything, or (scrolling) the table alone. */
  request(tableOnly = false): void {
    if (!tableOnly) this.everything = true;
    if (this.handle) return;
    const run = (): void => this.run();
    this.handle = typeof requestAnimationFrame === "function" ? requestAnimationFrame(run) : window.setTimeout(run, 16);
  }

  /** Follows the boxes' widths in the next frame that runs while the view is shown. */
  resizeNext(): void {
    this.resizeWanted = true;
  }

  cancel(): void {
    if (!this.handle) return;
    if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(this.handle);
    else window.clearTimeout(this.handle);
    this.handle = 0;
  }

  private run(): void {
    this.handle = 0;
    if (this.resizeWanted && !this.steps.hidden()) {
      this.resizeWanted = false;
      this.steps.resize();
    }
    if (this.everything) this.steps.all();
    else if (!this.steps.hidden()) this.steps.table();
    this.everything = false;
  }
}
