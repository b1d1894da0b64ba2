// How the front end writes figures: bytes and rates in decimal units (as the
// tray writes them), durations, short timings, times of day and dates, how
// long ago, and counted nouns. Every view formats through here. No DOM.

const UNITS = ["kB", "MB", "GB", "TB", "PB"];

/** Bytes in decimal units (1 kB = 1000 B): "0 B", "950 B", "1.2 kB", "34 MB" (as the tray writes them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.5 && unit + 1 < UNITS.length) {
    value /= 1000;
    unit++;
  }
  return `${value < 9.95 ? value.toFixed(1) : value.toFixed(0)} ${UNITS[unit]}`;
}

/** Bytes per second: "0 B/s", "250 kB/s", "1.2 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** A duration as "45 s", "3 min 05 s", "2 h 07 min", "3 d 04 h". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${pad(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${pad(hours % 24)} h`;
}

/** A short timing (a test step): "12 ms", "under 1 ms", or "" when there is none. */
export function formatMillis(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "";
  return ms < 1 ? "under 1 ms" : `${Math.round(ms)} ms`;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** The local time of day of a moment (ms since the epoch), to the second: "14:03:09". */
export function formatTimeOfDay(ms: number): string {
  return timeOfDay.format(ms);
}

/** The local date and time of a moment (ms since the epoch), as the system writes them. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toLocaleString();
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
  if (elapsed < MINUTE_MS) return "just now";
  if (elapsed < HOUR_MS) return `${Math.floor(elapsed / MINUTE_MS)} min ago`;
  if (elapsed < DAY_MS) return `${Math.floor(elapsed / HOUR_MS)} h ago`;
  return `${Math.floor(elapsed / DAY_MS)} d ago`;
}

/** In how many ms formatAgo's words for this elapsed time change (at least 1 s). */
export function agoChangesIn(elapsedMs: number): number {
  const elapsed = Number.isFinite(elapsedMs) ? elapsedMs : 0;
  const unit = elapsed < HOUR_MS ? MINUTE_MS : elapsed < DAY_MS ? HOUR_MS : DAY_MS;
  const left = elapsed < MINUTE_MS ? MINUTE_MS - elapsed : unit - (elapsed % unit);
  return Math.max(1000, left);
}

/** A count and its noun, plural unless the count is one: "1 connection", "2 connections". */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
