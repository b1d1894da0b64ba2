// The firewall's part of the dashboard's warning line (beside a failed
// start's reason and the open-proxy warning): a firewall that blocks the
// shared port, with the command that opens it, or one the check could not
// read, with what to look at. No DOM.

import type { FirewallCheck, Status } from "../../ipc";
import { t } from "../../i18n";

/** One thing to look at: words, and the command that fixes it when there is one. */
export interface Attention {
  /** Names it in the page (data-kind). */
  kind: "blocks" | "unknown";
  text: string;
  /** A line for a terminal, with a Copy button. */
  command: string | null;
}

/** What the last firewall check (null before one) asks attention for while this status holds. */
export function firewallAttention(status: Status | null, firewall: FirewallCheck | null): Attention[] {
  const out: Attention[] = [];
  const sharing = status?.state === "running" && status.shareAddresses.length > 0;
  if (!sharing || !firewall) return out;
  for (const report of firewall.reports) {
    if (report.state === "blocks") {
      out.push({
        kind: "blocks",
        text: t("status.firewallBlocks", { firewall: report.firewall, port: report.port, why: report.why ?? "" }),
        command: report.fix,
      });
    } else if (report.state === "unknown") {
      out.push({
        kind: "unknown",
        text: t("status.firewallUnknown", { port: report.port, check: report.whatToCheck ?? "" }),
        command: null,
      });
    }
  }
  return out;
}
