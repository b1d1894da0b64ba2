// The text of a policy (proxy-core's access module) read as proxy-core
// reads it, so that the page refuses what the app would, in the same words:
// rates ("2 MB/s"), quotas ("5 GB/day"), access hours ("Mon-Fri
// 16:00-20:00"), destination patterns (".example.org", "*:443") and expiry
// instants (RFC 3339). Each message is proxy-core's with a full stop, as
// src-tauri/src/settings/policy.rs gives it (in English; in the page's
// language from the catalogue, access.*). No DOM, no IPC.

import { t } from "./i18n";
import { isAddressOrRange, isIPv6, type Check } from "./validate";

function pass<T>(value: T): Check<T> {
  return { ok: true, value };
}

/** A refusal: the message is whole (with its full stop). */
function fail<T>(error: string): Check<T> {
  return { ok: false, error };
}

/** A text as Rust's `{:?}` writes it: quoted, with quotes, backslashes and control characters escaped. */
export function quoted(text: string): string {
  let out = '"';
  for (const c of text) {
    const n = c.codePointAt(0) ?? 0;
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (n < 0x20 || (n >= 0x7f && n <= 0x9f)) out += `\\u{${n.toString(16)}}`;
    else out += c;
  }
  return `${out}"`;
}

// ------------------------------------------------------------ amounts

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  "": 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  kbit: 1e3 / 8,
  Kbit: 1e3 / 8,
  Mbit: 1e6 / 8,
  Gbit: 1e9 / 8,
};

/** u64::MAX as proxy-core compares with it: as a double, 2^64. */
const U64_MAX = 2 ** 64;

/** A byte count with its unit (B, KB, MB, ..., KiB, ..., kbit, Mbit, Gbit). */
function parseAmount(raw: string): Check<number> {
  const text = raw.trim();
  const numberText = /^[0-9.]*/.exec(text)?.[0] ?? "";
  if (!/^(\d+\.?\d*|\.\d+)$/.test(numberText)) return fail(t("access.notNumber", { value: quoted(text) }));
  const unit = text.slice(numberText.length).trim();
  const factor = Object.prototype.hasOwnProperty.call(UNITS, unit) ? UNITS[unit] : undefined;
  if (factor === undefined) {
    return fail(t("access.notUnit", { value: quoted(unit) }));
  }
  const bytes = Number(numberText) * factor;
  if (!Number.isFinite(bytes) || bytes < 1 || bytes > U64_MAX) return fail(t("access.notPositive", { value: quoted(text) }));
  return pass(Math.round(bytes));
}

/** Bytes a second, each way: "2 MB/s", "512 KiB/s", "10 Mbit/s". */
export function checkRate(text: string): Check<number> {
  const trimmed = text.trim();
  if (!trimmed.endsWith("/s")) return fail(t("access.notRate", { value: quoted(text) }));
  return parseAmount(trimmed.slice(0, -2));
}

export type Period = "day" | "week" | "month" | "total";

/** Bytes per calendar period, or in all: "5 GB/day", "1 TB/week", "100 GiB/month", "2 GB/total" (a budget that never starts again). */
export function checkQuota(text: string): Check<{ bytes: number; period: Period }> {
  const slash = text.lastIndexOf("/");
  if (slash < 0) return fail(t("access.notQuota", { value: quoted(text) }));
  const period = text.slice(slash + 1).trim();
  if (period !== "day" && period !== "week" && period !== "month" && period !== "total") {
    return fail(t("access.notPeriod", { value: quoted(period) }));
  }
  const amount = parseAmount(text.slice(0, slash));
  return amount.ok ? pass({ bytes: amount.value, period }) : amount;
}

// -------------------------------------------------------------- hours

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
const DAY_MINUTES = 24 * 60;

function parseDay(text: string): Check<number> {
  const wanted = text.trim().toLowerCase();
  const day = DAYS.findIndex((d) => d.toLowerCase() === wanted);
  return day >= 0 ? pass(day) : fail(t("access.notDay", { value: quoted(text) }));
}

function parseDays(text: string): Check<boolean[]> {
  const days = Array<boolean>(7).fill(false);
  for (const part of text.split(",")) {
    const dash = part.indexOf("-");
    if (dash < 0) {
      const day = parseDay(part);
      if (!day.ok) return day;
      days[day.value] = true;
      continue;
    }
    const first = parseDay(part.slice(0, dash));
    if (!first.ok) return first;
    const last = parseDay(part.slice(dash + 1));
    if (!last.ok) return last;
    for (let day = first.value; ; day = (day + 1) % 7) {
      days[day] = true;
      if (day === last.value) break;
    }
  }
  return pass(days);
}

/** Minutes after midnight; 24:00 only as an end. */
function parseTime(text: string, end: boolean): Check<number> {
  const bad = fail<number>(t("access.notTime", { value: quoted(text) }));
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  if (colon < 0) return bad;
  const hoursText = trimmed.slice(0, colon);
  const minutesText = trimmed.slice(colon + 1);
  // One or two digits for the hour, two for the minutes, as proxy-core reads them.
  if (!/^\d{1,2}$/.test(hoursText) || !/^\d{2}$/.test(minutesText)) return bad;
  const hours = Number(hoursText);
  const minutes = Number(minutesText);
  const total = hours * 60 + minutes;
  if (minutes >= 60 || total > DAY_MINUTES || (total === DAY_MINUTES && !end)) return bad;
  return pass(total);
}


/** One window of access hours: "Mon-Fri 16:00-20:00", "Sat,Sun 09:00-21:00", "Fri 22:00-02:00". */
export function checkHours(text: string): Check<string> {
  const trimmed = text.trim();
  const space = trimmed.indexOf(" ");
  if (space < 0) return fail(t("access.notHours", { value: quoted(text) }));
  const days = trimmed.slice(0, space);
  const times = trimmed.slice(space + 1);
  const dash = times.indexOf("-");
  if (dash < 0) return fail(t("access.notTimes", { value: quoted(times) }));
  const pieces = [times.slice(0, dash), times.slice(dash + 1)] as const;
  const start = parseTime(pieces[0], false);
  if (!start.ok) return start;
  const end = parseTime(pieces[1], true);
  if (!end.ok) return end;
  if (start.value === end.value) return fail(t("access.emptyWindow", { value: quoted(times) }));
  const dayCheck = parseDays(days);
  return dayCheck.ok ? pass(trimmed) : dayCheck;
}

// ------------------------------------------------------- destinations

function parsePorts(text: string): Check<[number, number]> {
  const bad = fail<[number, number]>(t("access.notPorts", { value: quoted(text) }));
  const port = (p: string): number | null => (/^\d+$/.test(p) && Number(p) <= 65535 ? Number(p) : null);
  const dash = text.indexOf("-");
  const first = port(dash < 0 ? text : text.slice(0, dash));
  const last = port(dash < 0 ? text : text.slice(dash + 1));
  if (first === null || last === null || first > last) return bad;
  return pass([first, last]);
}

/** What proxy-core's ip_literal takes that the name rule below does not: an IPv6 address, with a zone. */
function isIPv6Literal(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  const bare = name.startsWith("[") && name.endsWith("]") ? name.slice(1, -1) : name;
  const percent = bare.indexOf("%");
  return isIPv6(percent < 0 ? bare : bare.slice(0, percent));
}

function hostProblem(text: string): string | null {
  if (text === "*" || (text.includes("/") && isAddressOrRange(text)) || isIPv6Literal(text)) return null;
  const name = (text.startsWith(".") ? text.slice(1) : text).replace(/\.$/, "");
  const valid =
    name !== "" &&
    new TextEncoder().encode(name).length <= 253 &&
    /^[A-Za-z0-9._-]+$/.test(name) &&
    !name.includes("..");
  return valid ? null : t("access.notHost", { value: quoted(text) });
}

/**
 * One destination pattern: "example.org", ".example.org" (and every name
 * under it), "10.1.0.0/16", "192.168.1.1", "*:443", "[fd00::/8]:22",
 * "*:8000-8999".
 */
export function checkTargetPattern(raw: string): Check<string> {
  const text = raw.trim();
  let host: string;
  let ports: string | null = null;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return fail(t("access.noClosingBracket", { value: quoted(text) }));
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return fail(t("access.portAfterBracket", { value: quoted(text) }));
      ports = after.slice(1);
    }
  } else if ((text.match(/:/g) ?? []).length > 1) {
    host = text; // IPv6 without brackets: no port
  } else {
    const colon = text.indexOf(":");
    host = colon < 0 ? text : text.slice(0, colon);
    ports = colon < 0 ? null : text.slice(colon + 1);
  }
  if (ports !== null) {
    const check = parsePorts(ports);
    if (!check.ok) return check;
  }
  const problem = hostProblem(host);
  return problem === null ? pass(text) : fail(problem);
}

// -------------------------------------------------------------- expiry

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)(?:\[[^\]]*\])?$/;

/** An instant in RFC 3339 ("2026-12-24T18:00:00Z", "2026-12-24T19:00:00+01:00"); answers it in milliseconds. */
export function checkExpiry(text: string): Check<number> {
  const bad = fail<number>(t("access.notInstant", { value: quoted(text) }));
  const m = RFC3339.exec(text.trim());
  if (!m) return bad;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return bad;
  const instant = Date.parse(text.trim().replace(/\[[^\]]*\]$/, "").replace(" ", "T"));
  return Number.isNaN(instant) ? bad : pass(instant);
}

/** An instant as the app saves an expiry: UTC, to the second ("2026-12-24T18:00:00Z"). */
export function expiryText(millis: number): string {
  return new Date(Math.floor(millis / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
