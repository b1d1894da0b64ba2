// When to ask the firewall whether the network reaches the shared port:
// while sharing and running, at most once a minute on its own (each check
// runs the firewall's commands), and at once on "Check again". No DOM.

import type { FirewallCheck, Status } from "../../ipc";

/** The least time between two checks the page starts by itself. */
export const FIREWALL_INTERVAL_MS = 60_000;

export class FirewallChecks {
  /** The last answer, or null (none yet, or not sharing). */
  last: FirewallCheck | null = null;
  private askedAt = -Infinity;
  private pending = false;
  private key = "";

  constructor(
    private readonly check: () => Promise<FirewallCheck>,
    private readonly changed: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The status changed: checks when sharing and running, unless one was asked less than a minute ago for the same addresses. */
  follow(status: Status | null): void {
    const sharing = status?.state === "running" && status.shareAddresses.length > 0;
    if (!sharing) {
      this.key = "";
      if (this.last) {
        this.last = null;
        this.changed();
      }
      return;
    }
    const key = status.listening.join(" ");
    const fresh = key !== this.key;
    this.key = key;
    if (fresh || this.now() - this.askedAt >= FIREWALL_INTERVAL_MS) this.run();
  }

  /** "Check again": asks now (unless a check is on its way). */
  again(): void {
    if (this.key !== "") this.run();
  }

  /** Whether a check is on its way. */
  busy(): boolean {
    return this.pending;
  }

  private run(): void {
    if (this.pending) return;
    this.pending = true;
    this.askedAt = this.now();
    this.changed();
    Promise.resolve()
      .then(() => this.check())
      .then(
        (answer) => {
          if (this.key !== "") this.last = answer;
        },
        () => {
          this.last = null;
        },
      )
      .finally(() => {
        this.pending = false;
        this.changed();
      });
  }
}
