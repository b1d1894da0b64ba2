// The status view's model: the server's Status on screen and the state of
// the Start/Stop button. No DOM.

import type { ServerState, Status } from "../../ipc";
import { t } from "../../i18n";

const STATE_KEYS = {
  stopped: "status.stopped",
  running: "status.running",
  failed: "status.failed",
} as const;

/** The words for a server state. */
export function stateLabel(state: ServerState): string {
  return t(STATE_KEYS[state] ?? "status.stopped");
}

export class ServerStatus {
  /** The Status on screen, or null before the first one. */
  current: Status | null = null;
  /** A start or stop is on its way. */
  busy = false;
  /** A status has been given, or the first one asked for: the button can act. */
  loaded = false;
  /** Why the last start, stop or first read failed (a Status's own error goes first). */
  callError: string | null = null;
  /** Status events received, so that an answer older than one is dropped. */
  eventsSeen = 0;
  /** The Status on screen, as JSON, to redraw only when it changes. */
  private shown = "";

  /** Takes a status; true when it differs from the one on screen. */
  take(status: Status): boolean {
    const key = JSON.stringify(status);
    this.current = status;
    this.callError = null;
    this.loaded = true;
    if (key === this.shown) return false;
    this.shown = key;
    return true;
  }

  running(): boolean {
    return this.current?.state === "running";
  }

  /** Whether the button may start or stop now. */
  canToggle(): boolean {
    return !this.busy && this.loaded;
  }

  /** The reason to show, or null when there is none. */
  errorText(): string | null {
    const own = this.current?.state === "failed" ? this.current.error : null;
    const reason = own ?? this.callError;
    return reason && reason.trim() !== "" ? reason : null;
  }
}
