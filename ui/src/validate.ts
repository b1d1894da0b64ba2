// Pure validation functions for the settings and users forms. No DOM, no IPC:
// every function takes the raw text a field holds and answers with either the
// parsed value or a plain-sentence message to show next to the field, in the
// page's language (the catalogue's validate.*; in English the Rust side's
// words).

import { t } from "./i18n";
import type { ClientPolicy, Limits, Timeouts } from "./ipc";

export type { ClientPolicy };

export type Check<T> =
  | { ok: true; value: T; hint?: string }
  | { ok: false; error: string };

function pass<T>(value: T, hint?: string): Check<T> {
  return hint === undefined ? { ok: true, value } : { ok: true, value, hint };
}

function fail<T>(error: string): Check<T> {
  return { ok: false, error };
}

/** A whole number written with digits only (no sign, exponent or fraction). */
function parseWhole(raw: string): number | null {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

// ---------------------------------------------------------------- port

export function portMessage(): string {
  return t("validate.port");
}

export function privilegedPortHint(): string {
  return t("validate.privilegedPort");
}

export function validatePort(raw: string): Check<number> {
  const n = parseWhole(raw);
  if (n === null || n < 1 || n > 65535) return fail(portMessage());
  return n < 1024 ? pass(n, privilegedPortHint()) : pass(n);
}

// ------------------------------------------------------------ timeouts

export type TimeoutKey = keyof Timeouts;

export const TIMEOUT_KEYS: readonly TimeoutKey[] = [
  "handshake",
  "connect",
  "idle",
  "bind",
  "udpIdle",
];

/** One day; the idle relay limit may be up to a week. */
export const TIMEOUT_MAX = 86_400;
export const IDLE_TIMEOUT_MAX = 604_800;

export function timeoutMax(key: TimeoutKey): number {
  return key === "idle" ? IDLE_TIMEOUT_MAX : TIMEOUT_MAX;
}

export function validateTimeout(raw: string, key: TimeoutKey): Check<number> {
  const max = timeoutMax(key);
  const n = parseWhole(raw);
  if (n === null || n < 1 || n > max) {
    return fail(t("validate.timeout", { max }));
  }
  return pass(n);
}

// -------------------------------------------------------------- limits

/** The numbers among the limits (the loopback switch and the rate limit are the other keys). */
export type LimitKey = Exclude<keyof Limits, "perClientLimitsForLoopback" | "rateLimit">;

/** In page order. */
export const LIMIT_KEYS: readonly LimitKey[] = [
  "maxSessions",
  "maxHandshakes",
  "maxSessionsPerClient",
  "maxHandshakesPerClient",
  "maxUdpPerClient",
  "maxBindPerClient",
  "udpDatagramsPerSecond",
];

/** The largest value of any limit (LIMIT_MAX in src-tauri/src/settings.rs). */
export const LIMIT_MAX = 1_000_000;

/**
 * The limit for all devices that a per-device limit may not exceed (above
 * it, the per-device limit would never take effect).
 */
export const LIMIT_TOTALS: Readonly<Partial<Record<LimitKey, LimitKey>>> = {
  maxHandshakesPerClient: "maxHandshakes",
  maxSessionsPerClient: "maxSessions",
};

/**
 * One limit, and when it is a per-device limit, the text of its total's
 * field: it may not exceed a total that is itself good. The messages are
 * the Rust side's.
 */
export function validateLimit(raw: string, totalRaw?: string): Check<number> {
  const text = raw.trim();
  if (text === "") return fail(t("validate.limitEmpty", { max: LIMIT_MAX }));
  if (!/^\d+$/.test(text)) return fail(t("validate.limitNotWhole", { value: text, max: LIMIT_MAX }));
  const n = parseWhole(text);
  if (n === null || n < 1 || n > LIMIT_MAX) return fail(t("validate.limitRange", { value: text, max: LIMIT_MAX }));
  if (totalRaw !== undefined) {
    const total = parseWhole(totalRaw);
    if (total !== null && total >= 1 && total <= LIMIT_MAX && n > total) {
      return fail(t("validate.limitOverTotal", { value: n, total }));
    }
  }
  return pass(n);
}

// ------------------------------------------------------- IP addresses

/** Dotted-quad IPv4, without leading zeros (they would read as octal elsewhere). */
export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  return parts.every(
    (p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255,
  );
}

/** IPv6 in any of its text forms (with "::" and an optional IPv4 tail); no zone id. */
export function isIPv6(text: string): boolean {
  if (text.length === 0 || text.length > 45) return false;
  const halves = text.split("::");
  if (halves.length > 2) return false;

  const groupsOf = (part: string): string[] | null =>
    part === "" ? [] : part.split(":");
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (head === null || tail === null) return false;

  let count = 0;
  const all = [...head, ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i] ?? "";
    const last = i === all.length - 1;
    if (last && g.includes(".")) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIPAddress(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

/** A single address, or an address with a prefix length (CIDR). */
export function isAddressOrRange(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash < 0) return isIPAddress(text);
  const addr = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (isIPv4(addr)) return bits <= 32;
  if (isIPv6(addr)) return bits <= 128;
  return false;
}

// ------------------------------------------------------------- lists

/** The non-blank lines of a textarea, trimmed. */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

export function rangesEmptyMessage(): string {
  return t("validate.rangesEmpty");
}

/**
 * The allowed client ranges, one a line. They matter only for the custom
 * policy: for the others the lines are kept as they are and not checked.
 */
export function validateAllowedRanges(
  text: string,
  policy: ClientPolicy,
): Check<string[]> {
  const lines = splitLines(text);
  if (policy !== "custom") return pass(lines);
  if (lines.length === 0) return fail(rangesEmptyMessage());
  const bad: string[] = [];
  lines.forEach((line, i) => {
    if (!isAddressOrRange(line)) bad.push(t("validate.rangeLine", { line: i + 1, text: line }));
  });
  if (bad.length === 1) return fail(t("validate.rangeBad", { entry: bad[0] ?? "" }));
  if (bad.length > 1) return fail(t("validate.rangesBad", { entries: bad.join(t("common.listSeparator")) }));
  return pass(lines);
}

/** The message for a refused destination that is no address or range (the Rust side's). */
export function denyTargetMessage(entry: string): string {
  return t("validate.denyTarget", { entry });
}

/** The refused destinations, one address or range a line (empty: none refused). */
export function validateDenyTargets(text: string): Check<string[]> {
  const lines = splitLines(text);
  const bad = lines.filter((line) => !isAddressOrRange(line));
  return bad.length > 0 ? fail(bad.map(denyTargetMessage).join(" ")) : pass(lines);
}

// ---------------------------------------------------------- host names

/**
 * A DNS name: labels of letters, digits, inner hyphens (and underscores,
 * which some private networks use), 253 characters at most.
 */
export function isHostName(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  if (!labels.every((l) => /^[a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?$/.test(l))) {
    return false;
  }
  // A name whose last label is all digits would be read as an IPv4 address.
  return !/^\d+$/.test(labels[labels.length - 1] ?? "");
}

/** host: a name, an IPv4 address, or an IPv6 address in brackets. */
export function isHost(text: string): boolean {
  if (text.startsWith("[") && text.endsWith("]")) return isIPv6(text.slice(1, -1));
  return isIPv4(text) || isHostName(text);
}

function isPort(text: string): boolean {
  const n = parseWhole(text);
  return n !== null && n >= 1 && n <= 65535 && text === text.trim();
}

// ------------------------------------------------------------ upstream

/** The hops proxy-core speaks to (outbound/hop.rs): SOCKS, and HTTP proxies through CONNECT. */
export const UPSTREAM_SCHEMES = ["socks5", "socks5h", "socks4", "socks4a", "http"] as const;

const UPSTREAM_EXAMPLE = "socks5://user@host:1080";

/**
 * One upstream hop URL: scheme://[user[:password]@]host:port[/].
 * Answers null when it is good, or what is wrong with it.
 */
export function upstreamUrlProblem(url: string): string | null {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(url);
  const example = UPSTREAM_EXAMPLE;
  if (!m) return t("validate.url.notUrl", { example });
  const scheme = (m[1] ?? "").toLowerCase();
  if (!(UPSTREAM_SCHEMES as readonly string[]).includes(scheme)) return t("validate.url.scheme");
  let rest = m[2] ?? "";
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  if (/\s/.test(rest)) return t("validate.url.spaces");
  if (/[/?#]/.test(rest)) return t("validate.url.afterPort", { example });

  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const user = userinfo.split(":")[0] ?? "";
    if (user.length === 0) return t("validate.url.emptyUser");
    if (userinfo.includes("@")) return t("validate.url.at");
  }

  let host: string;
  let port: string | null;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) return t("validate.url.bracket");
    host = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after === "") port = null;
    else if (after.startsWith(":")) port = after.slice(1);
    else return t("validate.url.notUrl", { example });
  } else {
    const colon = rest.lastIndexOf(":");
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    port = colon >= 0 ? rest.slice(colon + 1) : null;
  }
  if (host.length === 0) return t("validate.url.noHost");
  if (!isHost(host)) return t("validate.url.badHost", { host });
  if (port === null || port === "") return t("validate.url.noPort", { example });
  if (!isPort(port)) return t("validate.url.badPort");
  return null;
}

/** True when a URL carries a password (user:password@). */
export function urlHasPassword(url: string): boolean {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)@/.exec(url);
  return m !== null && (m[1] ?? "").includes(":");
}

export function upstreamPasswordHint(): string {
  return t("validate.upstreamPassword");
}

export function validateUpstream(text: string): Check<string[]> {
  const lines = splitLines(text);
  const problems: string[] = [];
  lines.forEach((line, i) => {
    const problem = upstreamUrlProblem(line);
    if (problem !== null) problems.push(t("validate.url.line", { line: i + 1, problem }));
  });
  if (problems.length > 0) return fail(problems.join(" "));
  return lines.some(urlHasPassword) ? pass(lines, upstreamPasswordHint()) : pass(lines);
}

// --------------------------------------------------------- test target

export function targetMessage(): string {
  return t("validate.target");
}

export function validateTarget(raw: string): Check<string> {
  const text = raw.trim();
  let host: string;
  let port: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return fail(targetMessage());
    host = text.slice(0, close + 1);
    port = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return fail(targetMessage());
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
  }
  if (!isHost(host) || !isPort(port)) return fail(targetMessage());
  return pass(text);
}

// -------------------------------------------------------------- users

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function validateUserName(name: string): Check<string> {
  const n = byteLength(name);
  if (n === 0) return fail(t("validate.userNameEmpty"));
  if (n > 255) return fail(t("validate.userNameLong"));
  return pass(name);
}

/** The fewest characters a user's password may have (src-tauri/src/users.rs says the same). */
export const PASSWORD_MIN_CHARS = 8;

/** A user's new password: at least 8 characters (code points), at most 255 bytes (RFC 1929). */
export function validatePassword(password: string): Check<string> {
  const n = byteLength(password);
  if (n === 0) return fail(t("validate.passwordEmpty"));
  if ([...password].length < PASSWORD_MIN_CHARS) return fail(t("validate.passwordShort", { min: PASSWORD_MIN_CHARS }));
  if (n > 255) return fail(t("validate.passwordLong"));
  return pass(password);
}

// ------------------------------------------------------------ mappings
// The messages are the Rust side's (src-tauri/src/settings/mapping.rs).

/** The longest name a mapping may have, in characters (code points). */
export const MAPPING_NAME_MAX = 64;

export function mappingNameMessage(): string {
  return t("validate.mappingName", { max: MAPPING_NAME_MAX });
}

/** A control character (Unicode's Cc, as Rust's char::is_control). */
function isControl(c: string): boolean {
  const n = c.codePointAt(0) ?? 0;
  return n < 0x20 || (n >= 0x7f && n <= 0x9f);
}

/** A mapping's name: blank is none (the mapping then goes by its address and protocol). */
export function validateMappingName(raw: string): Check<string | null> {
  const name = raw.trim();
  if (name === "") return pass(null);
  const chars = [...name];
  if (chars.length > MAPPING_NAME_MAX || chars.some(isControl)) return fail(mappingNameMessage());
  return pass(name);
}

/** A listening address, read: its address (IPv6 without brackets) and port. */
export interface ListenAddress {
  ip: string;
  port: number;
  v6: boolean;
}

/** `ADDRESS:PORT`, an IPv6 address in brackets; null when it is not one (the port may be 0). */
export function parseListenAddress(raw: string): ListenAddress | null {
  const text = raw.trim();
  const m = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]*):(\d{1,5})$/.exec(text);
  const ip = m?.[1] ?? "";
  const port = Number(m?.[2] ?? "x");
  const v6 = text.startsWith("[");
  if (!m || port > 65535 || !(v6 ? isIPv6(ip) : isIPv4(ip))) return null;
  return { ip: ip.toLowerCase(), port, v6 };
}

export function validateListenAddress(raw: string): Check<ListenAddress> {
  const addr = parseListenAddress(raw);
  if (addr === null) {
    return fail(t("validate.listenAddress", { value: raw.trim() }));
  }
  if (addr.port === 0) return fail(t("validate.listenPort"));
  return pass(addr);
}

/** Where a mapping leads: `HOST:PORT`, an IPv6 address in brackets. */
export function validateMappingTarget(raw: string): Check<string> {
  const text = raw.trim();
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2] ?? "x");
  if (!m || port > 65535 || !isHost(m[1] ?? "")) {
    return fail(t("validate.mappingTarget", { value: text }));
  }
  if (port === 0) return fail(t("validate.mappingTargetPort"));
  return pass(text);
}
