// How the front end writes figures, in the language in force (i18n): bytes
// and rates in decimal units (as the tray writes them), durations, short
// timings, times of day and dates, how long ago, and counted nouns. Every
// view formats through here. No DOM.
//
// Numbers go through Intl.NumberFormat, dates and times through
// Intl.DateTimeFormat, of the page's locale; unit words come from the
// catalogue ("kB" in English and Chinese, "кБ" in Russian). Durations and
// "how long ago" are written with the catalogue's short units rather than
// Intl.DurationFormat and Intl.RelativeTimeFormat: the first is new (2023
// to 2025 across the engines; older webviews and Node 20, which runs the
// tests, lack it), neither writes the zero-padded "3 min 05 s" a table
// column keeps steady, CLDR's short forms ("3 min. ago") differ from the
// words the app and its tray have always used, and the catalogue's words
// read the same in every engine and ICU version (and on the Rust side,
// which has no Intl).

import { locale, t } from "./i18n";

const UNITS = ["format.kB", "format.MB", "format.GB", "format.TB", "format.PB"] as const;

/** Intl.NumberFormat objects by locale and fraction digits (making one is not free). */
const numberFormats = new Map<string, Intl.NumberFormat>();

/** A number in the page's locale with exactly `digits` decimals (none grouped: sizes stay under 1000). */
function number(value: number, digits: number, grouping = false): string {
  const key = `${locale()} ${digits} ${grouping}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale(), {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: grouping,
    });
    numberFormats.set(key, format);
  }
  return format.format(value);
}

/** A size as a number and its unit: below 10 units with one decimal, else whole. */
function sizeParts(bytes: number): { value: number; digits: number; unit: (typeof UNITS)[number] | "format.B" } {
  if (!Number.isFinite(bytes) || bytes < 1000) return { value: Math.max(0, Math.round(bytes || 0)), digits: 0, unit: "format.B" };
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.5 && unit + 1 < UNITS.length) {
    value /= 1000;
    unit++;
  }
  return { value, digits: value < 9.95 ? 1 : 0, unit: UNITS[unit] ?? "format.PB" };
}

/** Bytes in decimal units (1 kB = 1000 B): "0 B", "950 B", "1.2 kB", "34 MB" (as the tray writes them); "1,2 МБ" in Russian. */
export function formatBytes(bytes: number): string {
  const { value, digits, unit } = sizeParts(bytes);
  return t("format.size", { value: number(value, digits), unit: t(unit) });
}

/** A size without a needless ".0": "5 GB", "1.5 GB" (a quota, a budget; format_amount in src-tauri/src/format.rs). */
export function formatSize(bytes: number): string {
  const { value, digits, unit } = sizeParts(bytes);
  const written = number(value, digits);
  // A tenth written as 0 is left out, with its decimal sign: "5.0" -> "5" ("5,0" -> "5").
  const whole = digits === 1 && written.endsWith(number(0, 1).slice(1));
  return t("format.size", { value: whole ? number(value, 0) : written, unit: t(unit) });
}

/** A size per second: "2 MB" -> "2 MB/s" ("2 МБ/с"). */
export function perSecond(size: string): string {
  return t("format.rate", { size });
}

/** Bytes per second: "0 B/s", "250 kB/s", "1.2 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return perSecond(formatBytes(bytesPerSecond));
}

/** A count in the page's digits, grouped as the locale groups them: "12,345" ("12 345" in Russian). */
export function formatCount(count: number): string {
  return number(count, 0, true);
}

/** A duration as "45 s", "3 min 05 s", "2 h 07 min", "3 d 04 h" (the catalogue's short units). */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => number(n, 0).padStart(2, number(0, 0));
  if (seconds < 60) return t("format.seconds", { s: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t("format.minutesSeconds", { m: minutes, s: pad(seconds % 60) });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t("format.hoursMinutes", { h: hours, m: pad(minutes % 60) });
  return t("format.daysHours", { d: Math.floor(hours / 24), h: pad(hours % 24) });
}

/** A short timing (a test step): "12 ms", "under 1 ms", or "" when there is none. */
export function formatMillis(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "";
  return ms < 1 ? t("format.underMillisecond") : t("format.milliseconds", { ms: Math.round(ms) });
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(name: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale()} ${name}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale(), options);
    dateFormats.set(key, format);
  }
  return format;
}

/** The local time of day of a moment (ms since the epoch), to the second: "14:03:09". */
export function formatTimeOfDay(ms: number): string {
  return dateFormat("time", { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(ms);
}

/** A graph axis's time of day, to the minute or the second: "14:03", "2:03:30 PM". */
export function formatAxisTime(ms: number, seconds: boolean): string {
  const options: Intl.DateTimeFormatOptions = { hour: "numeric", minute: "2-digit" };
  return dateFormat(seconds ? "axis seconds" : "axis", seconds ? { ...options, second: "2-digit" } : options).format(ms);
}

/** The local date and time of a moment (ms since the epoch), as the locale writes them. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toLocaleString(locale());
}

/** A moment's local date and time, shortly: "Dec 24, 2026, 6:00 PM" ("24 дек. 2026 г., 18:00"). */
export function formatDateTimeShort(ms: number): string {
  return dateFormat("medium", { dateStyle: "medium", timeStyle: "short" }).format(ms);
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * How long ago something happened, given the time since (ms), in its
 * largest whole unit: "just now" under a minute (and for a clock that went
 * back), then "3 min ago", "2 h ago", "4 d ago".
 */
export function formatAgo(elapsedMs: number): string {
  const elapsed = Number.isFinite(elapsedMs) ? elapsedMs : 0;
  if (elapsed < MINUTE_MS) return t("format.justNow");
  if (elapsed < HOUR_MS) return t("format.minutesAgo", { count: Math.floor(elapsed / MINUTE_MS) });
  if (elapsed < DAY_MS) return t("format.hoursAgo", { count: Math.floor(elapsed / HOUR_MS) });
  return t("format.daysAgo", { count: Math.floor(elapsed / DAY_MS) });
}

/** In how many ms formatAgo's words for this elapsed time change (at least 1 s). */
export function agoChangesIn(elapsedMs: number): number {
  const elapsed = Number.isFinite(elapsedMs) ? elapsedMs : 0;
  const unit = elapsed < HOUR_MS ? MINUTE_MS : elapsed < DAY_MS ? HOUR_MS : DAY_MS;
  const left = elapsed < MINUTE_MS ? MINUTE_MS - elapsed : unit - (elapsed % unit);
  return Math.max(1000, left);
}

/** The counted nouns countOf knows, by their English singular. */
const NOUNS = {
  connection: "format.connections",
  "open connection": "format.openConnections",
  minute: "format.minutes",
  session: "format.sessions",
} as const;

export type Noun = keyof typeof NOUNS;

/** A count and its noun in the right plural form: "1 connection", "2 connections" ("2 соединения", "5 соединений"). */
export function countOf(count: number, noun: Noun): string {
  return t(NOUNS[noun], { count });
}
