// A guest pass on the page: the dialog's fields read as the app reads them
// (src-tauri/src/guest.rs; both are tested with the cases in
// tests/fixtures/guest-pass-inputs.json), and the card of a pass just made
// in words: when it ends, its credentials, where devices reach the proxy,
// what to look out for, and all of it as one text to copy. No DOM.

import { checkQuota } from "../../access";
import { t, type TextKey } from "../../i18n";
import type { NewGuestPass, User } from "../../ipc";
import { localExpiry } from "../policy/model";
import { shareLinks } from "../status/share";
import { formatAmount } from "../../usage";
import { userNameProblem } from "./model";

/** The dialog's fields, by the Rust side's names for them (after "guest."). */
export const GUEST_KEYS = ["hours", "gigabytes", "name"] as const;
export type GuestKey = (typeof GUEST_KEYS)[number];

/** What the fields hold. */
export type GuestValues = Record<GuestKey, string>;

/** The id of a field: "guest-hours". */
export function guestFieldId(key: GuestKey): string {
  return `guest-${key}`;
}

/** The field a Rust field name ("guest.hours") names, or null. */
export function guestKeyOf(field: string): GuestKey | null {
  const key = field.replace(/^guest\./, "");
  return key !== field && (GUEST_KEYS as readonly string[]).includes(key) ? (key as GuestKey) : null;
}

/** The longest a pass may run, in hours (MAX_HOURS in src-tauri/src/guest.rs): 90 days. */
export const MAX_HOURS = 2160;
/** The largest budget, in GB (MAX_GIGABYTES). */
export const MAX_GIGABYTES = 1000;

/** What a pass without an end is told (NO_END). */
export function noEnd(): string {
  return t("guest.noEnd");
}

/** The hours' shortcuts: [hours, label]. */
export const HOURS_SHORTCUTS: readonly [number, TextKey][] = [
  [1, "guest.in1Hour"],
  [24, "guest.in1Day"],
  [24 * 7, "guest.in1Week"],
];

interface NumberField {
  max: number;
  /** Times the value, its smallest meaningful unit (seconds, bytes). */
  scale: number;
  /** What a text that is no number is told, and a number out of range. */
  notNumber: TextKey;
  outOfRange: TextKey;
}

const HOURS: NumberField = { max: MAX_HOURS, scale: 3600, notNumber: "guest.hoursNotNumber", outOfRange: "guest.hoursRange" };
const GIGABYTES: NumberField = {
  max: MAX_GIGABYTES,
  scale: 1e9,
  notNumber: "guest.gigabytesNotNumber",
  outOfRange: "guest.gigabytesRange",
};

/** A number as typed: null when blank, else its value, or what is wrong (as a string). */
function readNumber(raw: string, field: NumberField): { value: number | null } | { error: string } {
  const text = raw.trim();
  if (text === "") return { value: null };
  const digits = text.startsWith("-") ? text.slice(1) : text;
  if (!/^(\d+\.?\d*|\.\d+)$/.test(digits)) return { error: t(field.notNumber, { value: text, max: field.max }) };
  const value = Number(text);
  if (value <= 0 || value > field.max || value * field.scale < 1) {
    return { error: t(field.outOfRange, { value: text, max: field.max }) };
  }
  return { value };
}

/** What is wrong with each field (only those with a problem), users being the users listed. */
export function guestProblems(values: GuestValues, users: readonly User[]): Partial<Record<GuestKey, string>> {
  const problems: Partial<Record<GuestKey, string>> = {};
  const hours = readNumber(values.hours, HOURS);
  const gigabytes = readNumber(values.gigabytes, GIGABYTES);
  if ("error" in hours) problems.hours = hours.error;
  if ("error" in gigabytes) problems.gigabytes = gigabytes.error;
  if ("value" in hours && hours.value === null && "value" in gigabytes && gigabytes.value === null) problems.hours = noEnd();
  const name = values.name.trim();
  const nameProblem = name === "" ? null : userNameProblem(name, users);
  if (nameProblem !== null) problems.name = nameProblem;
  return problems;
}

/** When a pass ends, in words: "Ends on 2 Dec 2026, 18:00, or after 2 GB, whichever comes first." */
export function endsText(made: NewGuestPass): string {
  const { policy } = made.pass;
  const until = localExpiry(policy.expires);
  const quota = policy.quota === "" ? null : checkQuota(policy.quota);
  const budget = quota?.ok ? formatAmount(quota.value.bytes) : null;
  if (until !== null && budget !== null) return t("guest.endsOnOrAfter", { until, budget });
  if (until !== null) return t("guest.endsOn", { until });
  if (budget !== null) return t("guest.endsAfter", { budget });
  return t("guest.neverEnds");
}

/** One value of a pass's card: what it is, the value, the class(es) its code has, and what its Copy button copies (for its label). */
export interface CardLine {
  label: string;
  value: string;
  cls: string;
  copy: string;
}

/** The credentials and proxy addresses of a pass, in order; SOCKS5 and HTTP share each address:port. */
export function cardLines(made: NewGuestPass): CardLine[] {
  const lines: CardLine[] = [
    { label: t("guest.userName"), value: made.pass.name, cls: "guest-user", copy: t("guest.copyUserName") },
    { label: t("guest.password"), value: made.pass.password, cls: "guest-password", copy: t("guest.copyPassword") },
  ];
  const label = t(made.servesHttp ? "guest.proxySocksHttp" : "guest.proxySocks");
  const cls = made.servesHttp ? "guest-socks guest-http" : "guest-socks";
  for (const address of made.addresses) {
    lines.push({ label, value: address, cls, copy: t("guest.copyAddress", { address }) });
  }
  return lines;
}

/** The setup page a device opens from the pass's QR code, when other devices can reach it (sharing, with HTTP). */
export function setupUrl(made: NewGuestPass): string | null {
  const first = made.addresses[0];
  return made.sharing && made.servesHttp && first !== undefined ? shareLinks(first).setup : null;
}

/** What the one who hands the pass over should know: no passwords required, not shared. */
export function cardWarnings(made: NewGuestPass): string[] {
  const warnings: string[] = [];
  if (!made.passwordRequired) {
    warnings.push(t("guest.warnNoPasswords"));
  }
  if (!made.sharing) {
    warnings.push(t("guest.warnNotShared"));
  }
  return warnings;
}

/** The whole card as one text, to paste into a message to the guest. */
export function copyAllText(made: NewGuestPass): string {
  const lines = [t("guest.copyAllTitle", { name: made.pass.name }), endsText(made)];
  for (const line of cardLines(made)) lines.push(t("guest.copyAllLine", { label: line.label, value: line.value }));
  const setup = setupUrl(made);
  if (setup !== null) lines.push(t("guest.copyAllSetup", { url: setup }));
  return lines.join("\n");
}
