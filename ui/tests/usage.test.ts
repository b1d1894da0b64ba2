import { describe, expect, it } from "vitest";
import {
  ownerStateText,
  byOwner,
  formatAmount,
  ownerLabel,
  periodText,
  quotaShare,
  quotaText,
  rateText,
  stateTitle,
} from "../src/usage";
import { owner } from "./fixtures/usage";

const GB = 1_000_000_000;

describe("the use in words", () => {
  it("writes amounts as the tray does, without a needless tenth", () => {
    // The cases of format_amount's test in src-tauri/src/format.rs.
    expect(formatAmount(5 * GB)).toBe("5 GB");
    expect(formatAmount(1.5 * GB)).toBe("1.5 GB");
    expect(formatAmount(500_000_000)).toBe("500 MB");
    expect(formatAmount(1_000)).toBe("1 kB");
    expect(formatAmount(999)).toBe("999 B");
    expect(formatAmount(10 * GB)).toBe("10 GB");
  });

  it("writes a quota against its period", () => {
    expect(quotaText({ bytes: 5 * GB, period: "day", used: 1.2 * GB })).toBe("1.2 GB of 5 GB today");
    expect(quotaText({ bytes: 20 * GB, period: "week", used: 3 * GB })).toBe("3.0 GB of 20 GB this week");
    expect(quotaText({ bytes: 200 * GB, period: "month", used: 30 * GB })).toBe("30 GB of 200 GB this month");
    expect(quotaText({ bytes: 2 * GB, period: "total", used: 400_000_000 })).toBe("400 MB of 2 GB in all");
    expect(quotaShare({ bytes: 2 * GB, period: "total", used: 3 * GB })).toBe(1);
    expect(quotaShare({ bytes: 4, period: "day", used: 1 })).toBe(0.25);
  });

  it("gives today and this month, less the period the quota already names", () => {
    const use = { today: 1.2 * GB, thisMonth: 30 * GB };
    expect(periodText(owner(use))).toBe("today 1.2 GB · this month 30 GB");
    expect(periodText(owner({ ...use, quota: { bytes: 5 * GB, period: "day", used: 1.2 * GB } }))).toBe("this month 30 GB");
    expect(periodText(owner({ ...use, quota: { bytes: 50 * GB, period: "month", used: 30 * GB } }))).toBe("today 1.2 GB");
    expect(periodText(owner({ ...use, quota: { bytes: 2 * GB, period: "total", used: 0 } }))).toBe(
      "today 1.2 GB · this month 30 GB",
    );
  });

  it("writes the rate against its cap", () => {
    expect(rateText(owner({ rate: 1_800_000, rateLimit: 2_000_000 }))).toBe("1.8 MB/s of 2 MB/s");
    expect(rateText(owner({ rate: 250_000 }))).toBe("250 kB/s");
    expect(rateText(owner({ rate: 0, rateLimit: 512 * 1024 }))).toBe("0 B/s of 524 kB/s");
  });

  it("says a refusal's kind, with the server's reason as the title", () => {
    expect(ownerStateText("overQuota")).toBe("Over quota");
    expect(ownerStateText("outsideHours")).toBe("Outside hours");
    expect(ownerStateText("expired")).toBe("Expired");
    const hours = owner({ state: "outsideHours", refused: "outside its access hours (Mon-Fri 16:00-20:00)" });
    expect(stateTitle(hours)).toBe("The proxy refuses new connections: outside its access hours (Mon-Fri 16:00-20:00).");
    expect(stateTitle(owner())).toBe("");
  });

  it("names devices apart and finds an owner by its key", () => {
    const tv = owner({ owner: "device tv", kind: "device", name: "tv" });
    expect(ownerLabel(tv)).toBe("tv (device)");
    expect(ownerLabel(owner())).toBe("alice");
    expect(byOwner([owner(), tv]).get("device tv")).toBe(tv);
  });
});
