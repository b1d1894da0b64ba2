import { describe, expect, it } from "vitest";
import {
  countOf,
  agoChangesIn,
  formatAgo,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatMillis,
  formatRate,
  formatTimeOfDay,
} from "../src/format";

describe("formatting", () => {
  it("says how long ago, in the largest whole unit", () => {
    expect(formatAgo(0)).toBe("just now");
    expect(formatAgo(59_999)).toBe("just now");
    expect(formatAgo(-60_000)).toBe("just now"); // a clock that went back
    expect(formatAgo(Number.NaN)).toBe("just now");
    expect(formatAgo(60_000)).toBe("1 min ago");
    expect(formatAgo(3_599_999)).toBe("59 min ago");
    expect(formatAgo(3_600_000)).toBe("1 h ago");
    expect(formatAgo(86_399_999)).toBe("23 h ago");
    expect(formatAgo(3 * 86_400_000 + 5)).toBe("3 d ago");
  });

  it("says when those words change next", () => {
    expect(agoChangesIn(0)).toBe(60_000);
    expect(agoChangesIn(45_000)).toBe(15_000);
    expect(agoChangesIn(-30_000)).toBe(90_000);
    expect(agoChangesIn(150_000)).toBe(30_000); // 2 min -> 3 min
    expect(agoChangesIn(3_600_000 + 600_000)).toBe(3_000_000); // 1 h -> 2 h
    expect(agoChangesIn(86_400_000)).toBe(86_400_000);
    expect(agoChangesIn(59_999.5)).toBe(1000);
    for (const elapsed of [0, 59_000, 61_000, 3_599_000, 7_200_000, 90_000_000]) {
      const next = elapsed + agoChangesIn(elapsed);
      expect(formatAgo(next), `${elapsed}`).not.toBe(formatAgo(elapsed));
      expect(formatAgo(next - 1), `${elapsed}`).toBe(formatAgo(elapsed));
    }
  });

  it("writes bytes and rates in decimal units, as the tray does", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1000)).toBe("1.0 kB");
    expect(formatBytes(1260)).toBe("1.3 kB");
    expect(formatBytes(34_000_000)).toBe("34 MB");
    expect(formatBytes(999_999)).toBe("1.0 MB");
    expect(formatRate(1_200_000)).toBe("1.2 MB/s");
    expect(formatBytes(-5)).toBe("0 B");
  });

  it("keeps one decimal below ten units and climbs to the next unit at 999.5", () => {
    expect(formatBytes(9_949)).toBe("9.9 kB");
    expect(formatBytes(9_950)).toBe("10 kB");
    expect(formatBytes(999_499)).toBe("999 kB");
    expect(formatBytes(1_500_000_000)).toBe("1.5 GB");
    expect(formatBytes(2e12)).toBe("2.0 TB");
    expect(formatBytes(1e15)).toBe("1.0 PB");
    // Petabytes are the last unit.
    expect(formatBytes(5e18)).toBe("5000 PB");
    expect(formatBytes(Number.NaN)).toBe("0 B");
  });

  it("writes rates as bytes per second", () => {
    expect(formatRate(0)).toBe("0 B/s");
    expect(formatRate(100)).toBe("100 B/s");
    expect(formatRate(250_000)).toBe("250 kB/s");
  });

  it("writes durations", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(45_900)).toBe("45 s");
    expect(formatDuration(185_000)).toBe("3 min 05 s");
    expect(formatDuration(2 * 3600_000 + 7 * 60_000)).toBe("2 h 07 min");
    expect(formatDuration(76 * 3600_000)).toBe("3 d 04 h");
    expect(formatDuration(-10)).toBe("0 s");
  });

  it("writes durations at each unit's boundary", () => {
    expect(formatDuration(59_999)).toBe("59 s");
    expect(formatDuration(60_000)).toBe("1 min 00 s");
    expect(formatDuration(3_600_000)).toBe("1 h 00 min");
    expect(formatDuration(86_400_000)).toBe("1 d 00 h");
  });

  it("writes short timings in whole milliseconds, and nothing without one", () => {
    expect(formatMillis(12.4)).toBe("12 ms");
    expect(formatMillis(12.5)).toBe("13 ms");
    expect(formatMillis(0.4)).toBe("under 1 ms");
    expect(formatMillis(0)).toBe("under 1 ms");
    expect(formatMillis(null)).toBe("");
    expect(formatMillis(Number.NaN)).toBe("");
  });

  it("writes the local time of day to the second, and the local date and time", () => {
    const moment = new Date(2026, 0, 2, 3, 4, 5).getTime();
    expect(formatTimeOfDay(moment)).toMatch(/03\D04\D05/);
    expect(formatTimeOfDay(moment)).toBe(
      new Date(moment).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
    );
    expect(formatDateTime(moment)).toBe(new Date(moment).toLocaleString());
    expect(formatDateTime(moment)).toContain("2026");
  });

  it("counts nouns", () => {
    expect(countOf(0, "minute")).toBe("0 minutes");
    expect(countOf(1, "minute")).toBe("1 minute");
    expect(countOf(15, "minute")).toBe("15 minutes");
    expect(countOf(2, "open connection")).toBe("2 open connections");
  });
});
