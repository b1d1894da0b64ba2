import { afterEach, describe, expect, it } from "vitest";
import {
  countOf,
  agoChangesIn,
  formatAgo,
  formatBytes,
  formatCount,
  formatDateTime,
  formatDateTimeShort,
  formatDuration,
  formatAxisTime,
  formatMillis,
  formatRate,
  formatSize,
  formatTimeOfDay,
} from "../src/format";
import { setLanguage } from "../src/i18n";

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

describe("formatting in each language", () => {
  afterEach(() => {
    setLanguage("system");
  });

  it("writes sizes and rates with the language's decimal sign and unit words", () => {
    setLanguage("ru");
    expect(formatBytes(0)).toBe("0 Б");
    expect(formatBytes(950)).toBe("950 Б");
    expect(formatBytes(1260)).toBe("1,3 кБ");
    expect(formatBytes(34_000_000)).toBe("34 МБ");
    expect(formatBytes(1_500_000_000)).toBe("1,5 ГБ");
    expect(formatBytes(2e12)).toBe("2,0 ТБ");
    expect(formatBytes(5e18)).toBe("5000 ПБ");
    expect(formatRate(1_200_000)).toBe("1,2 МБ/с");
    expect(formatRate(0)).toBe("0 Б/с");
    expect(formatSize(5e9)).toBe("5 ГБ");
    expect(formatSize(1.5e9)).toBe("1,5 ГБ");
    setLanguage("zh-CN");
    expect(formatBytes(1260)).toBe("1.3 kB");
    expect(formatRate(1_200_000)).toBe("1.2 MB/s");
    expect(formatSize(5e9)).toBe("5 GB");
    setLanguage("en");
    expect(formatSize(5e9)).toBe("5 GB");
    expect(formatSize(1.04e9)).toBe("1 GB");
    expect(formatSize(1.05e9)).toBe("1.1 GB");
  });

  it("writes durations and timings with the catalogue's short units", () => {
    setLanguage("ru");
    expect(formatDuration(45_900)).toBe("45 с");
    expect(formatDuration(185_000)).toBe("3 мин 05 с");
    expect(formatDuration(2 * 3600_000 + 7 * 60_000)).toBe("2 ч 07 мин");
    expect(formatDuration(76 * 3600_000)).toBe("3 дн. 04 ч");
    expect(formatMillis(12.4)).toBe("12 мс");
    expect(formatMillis(0.2)).toBe("менее 1 мс");
    setLanguage("zh-CN");
    expect(formatDuration(45_900)).toBe("45 秒");
    expect(formatDuration(185_000)).toBe("3 分 05 秒");
    expect(formatDuration(2 * 3600_000 + 7 * 60_000)).toBe("2 小时 07 分");
    expect(formatDuration(76 * 3600_000)).toBe("3 天 04 小时");
    expect(formatMillis(12.4)).toBe("12 毫秒");
  });

  it("says how long ago in each language", () => {
    setLanguage("ru");
    expect(formatAgo(0)).toBe("только что");
    expect(formatAgo(5 * 60_000)).toBe("5 мин назад");
    expect(formatAgo(2 * 3_600_000)).toBe("2 ч назад");
    expect(formatAgo(3 * 86_400_000)).toBe("3 дн. назад");
    setLanguage("zh-CN");
    expect(formatAgo(0)).toBe("刚刚");
    expect(formatAgo(5 * 60_000)).toBe("5 分钟前");
    expect(formatAgo(2 * 3_600_000)).toBe("2 小时前");
    expect(formatAgo(3 * 86_400_000)).toBe("3 天前");
  });

  it("counts nouns with each language's plural forms", () => {
    setLanguage("ru");
    expect([1, 2, 5, 21].map((n) => countOf(n, "open connection"))).toEqual([
      "1 открытое соединение",
      "2 открытых соединения",
      "5 открытых соединений",
      "21 открытое соединение",
    ]);
    expect(countOf(3, "minute")).toBe("3 минуты");
    expect(countOf(11, "session")).toBe("11 сеансов");
    setLanguage("zh-CN");
    expect(countOf(1, "connection")).toBe("1 个连接");
    expect(countOf(2, "session")).toBe("2 个会话");
  });

  it("groups counts as the locale does, and writes dates and times in its own way", () => {
    expect(formatCount(12345)).toBe("12,345");
    const moment = new Date(2026, 0, 2, 3, 4, 5).getTime();
    setLanguage("ru");
    expect(formatCount(12345)).toBe("12\u00a0345");
    expect(formatTimeOfDay(moment)).toBe("03:04:05");
    expect(formatDateTime(moment)).toBe(new Date(moment).toLocaleString("ru"));
    expect(formatDateTime(moment)).toContain("02.01.2026");
    expect(formatDateTimeShort(moment)).toContain("2026");
    setLanguage("zh-CN");
    expect(formatDateTime(moment)).toBe(new Date(moment).toLocaleString("zh-CN"));
    expect(formatDateTime(moment)).toContain("2026/1/2");
    expect(formatAxisTime(moment, false)).toBe("3:04");
    setLanguage("ru");
    expect(formatAxisTime(moment, true)).toBe("3:04:05");
    setLanguage("en");
    expect(formatAxisTime(moment, false)).toMatch(/^3:04\sAM$/);
  });
});
