// A policy's form, for a user (the Users view) and for a device (the
// Devices view): the fields' text, each field checked as proxy-core reads
// it (access.ts), the policy to send, where the Rust side's field errors
// go, and a policy in a few words for a table. No DOM.

import { checkExpiry, checkHours, checkQuota, checkRate, checkTargetPattern, expiryText } from "../../access";
import { countOf, formatDateTimeShort } from "../../format";
import { t, type TextKey } from "../../i18n";
import type { Policy, PolicyCommand } from "../../ipc";
import { LIMIT_MAX, splitLines, type Check } from "../../validate";

/** The commands a policy can allow, in the form's order. */
export const COMMANDS: readonly PolicyCommand[] = ["connect", "bind", "udp"];

const COMMAND_KEYS: Record<PolicyCommand, TextKey> = {
  connect: "policy.command.connect",
  bind: "policy.command.bind",
  udp: "policy.command.udp",
};

/** A command's box label. */
export function commandText(command: PolicyCommand): string {
  return t(COMMAND_KEYS[command]);
}

/** What a policy that allows no command is told (NO_COMMAND in src-tauri/src/settings/policy.rs). */
export function noCommand(): string {
  return t("policy.noCommand");
}

/** The fields of a policy, by the Rust side's names for them (after "policy."). */
export const POLICY_KEYS = [
  "rateLimit",
  "quota",
  "hours",
  "commands",
  "allowTargets",
  "denyTargets",
  "maxSessions",
  "expires",
] as const;

export type PolicyKey = (typeof POLICY_KEYS)[number];

/** The id of a policy field in a form whose ids start with prefix: "user-policy-rate-limit". */
export function policyFieldId(prefix: string, key: PolicyKey): string {
  return `${prefix}-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The policy key a Rust field name ("policy.quota", "users.policy.quota") names, or null. */
export function policyKeyOf(field: string): PolicyKey | null {
  const key = field.replace(/^(users\.|devices\.)?policy\./, "");
  return key !== field && (POLICY_KEYS as readonly string[]).includes(key) ? (key as PolicyKey) : null;
}

/** What the fields hold. */
export interface PolicyValues {
  rateLimit: string;
  quota: string;
  hours: string;
  commands: Record<PolicyCommand, boolean>;
  allowTargets: string;
  denyTargets: string;
  maxSessions: string;
  expires: string;
}

/** A policy that limits nothing. */
export const NO_POLICY: Policy = {
  rateLimit: "",
  quota: "",
  hours: [],
  commands: null,
  allowTargets: [],
  denyTargets: [],
  maxSessions: null,
  expires: "",
};

export function valuesOf(policy: Policy): PolicyValues {
  const allowed = policy.commands ?? COMMANDS;
  return {
    rateLimit: policy.rateLimit,
    quota: policy.quota,
    hours: policy.hours.join("\n"),
    commands: { connect: allowed.includes("connect"), bind: allowed.includes("bind"), udp: allowed.includes("udp") },
    allowTargets: policy.allowTargets.join("\n"),
    denyTargets: policy.denyTargets.join("\n"),
    maxSessions: policy.maxSessions === null ? "" : String(policy.maxSessions),
    expires: policy.expires,
  };
}

function problemOf<T>(check: Check<T>): string | null {
  return check.ok ? null : check.error;
}

/** The problems of the lines of a list field, each read with check, or null. */
function linesProblem(text: string, check: (line: string) => Check<unknown>): string | null {
  const problems = splitLines(text)
    .map((line) => problemOf(check(line)))
    .filter((p): p is string => p !== null);
  return problems.length > 0 ? problems.join(" ") : null;
}

/** Sessions at once: empty for no limit. */
function checkMaxSessions(raw: string): Check<number | null> {
  const text = raw.trim();
  if (text === "") return { ok: true, value: null };
  if (!/^\d+$/.test(text)) return { ok: false, error: t("policy.sessionsNotWhole", { value: text, max: LIMIT_MAX }) };
  const n = Number(text);
  if (n < 1 || n > LIMIT_MAX) return { ok: false, error: t("policy.sessionsRange", { value: text, max: LIMIT_MAX }) };
  return { ok: true, value: n };
}

/** What is wrong with one field, or null (blank text limits nothing). */
export function fieldProblem(key: PolicyKey, values: PolicyValues): string | null {
  const optional = (text: string, check: (t: string) => Check<unknown>): string | null =>
    text.trim() === "" ? null : problemOf(check(text.trim()));
  switch (key) {
    case "rateLimit":
      return optional(values.rateLimit, checkRate);
    case "quota":
      return optional(values.quota, checkQuota);
    case "hours":
      return linesProblem(values.hours, checkHours);
    case "commands":
      return COMMANDS.some((c) => values.commands[c]) ? null : noCommand();
    case "allowTargets":
      return linesProblem(values.allowTargets, checkTargetPattern);
    case "denyTargets":
      return linesProblem(values.denyTargets, checkTargetPattern);
    case "maxSessions":
      return problemOf(checkMaxSessions(values.maxSessions));
    case "expires":
      return optional(values.expires, checkExpiry);
  }
}

/** The policy these values describe (each text trimmed, blank lines dropped); null when a field is wrong. */
export function policyFrom(values: PolicyValues): Policy | null {
  if (POLICY_KEYS.some((key) => fieldProblem(key, values) !== null)) return null;
  const commands = COMMANDS.filter((c) => values.commands[c]);
  const sessions = checkMaxSessions(values.maxSessions);
  return {
    rateLimit: values.rateLimit.trim(),
    quota: values.quota.trim(),
    hours: splitLines(values.hours),
    commands: commands.length === COMMANDS.length ? null : commands,
    allowTargets: splitLines(values.allowTargets),
    denyTargets: splitLines(values.denyTargets),
    maxSessions: sessions.ok ? sessions.value : null,
    expires: values.expires.trim(),
  };
}

/** The expiry `hours` from `now` (milliseconds), as the field takes it. */
export function expiryIn(hours: number, now: number = Date.now()): string {
  return expiryText(now + hours * 3_600_000);
}

/** An expiry in this computer's time, or null when the text is none. */
export function localExpiry(text: string): string | null {
  const check = text.trim() === "" ? null : checkExpiry(text);
  if (!check?.ok) return null;
  return formatDateTimeShort(check.value);
}

/** When the policy expires, in milliseconds, or null. */
export function expiresAt(policy: Policy): number | null {
  const check = policy.expires === "" ? null : checkExpiry(policy.expires);
  return check?.ok ? check.value : null;
}

/** The policy in a few words, its expiry seen at now: "2 MB/s · 5 GB/day · connect only", or "No limits". */
export function policySummary(policy: Policy, now: number = Date.now()): string {
  const parts: string[] = [];
  if (policy.rateLimit) parts.push(policy.rateLimit);
  if (policy.quota) parts.push(policy.quota);
  if (policy.hours.length > 0) parts.push(policy.hours.join(", "));
  if (policy.commands !== null) parts.push(t("policy.summary.commandsOnly", { commands: policy.commands.join(", ") }));
  const allow = policy.allowTargets;
  if (allow.length === 1) parts.push(t("policy.summary.only", { what: allow[0] ?? "" }));
  else if (allow.length > 1) parts.push(t("policy.summary.onlyCount", { count: allow.length }));
  const deny = policy.denyTargets;
  if (deny.length === 1) parts.push(t("policy.summary.not", { what: deny[0] ?? "" }));
  else if (deny.length > 1) parts.push(t("policy.summary.notCount", { count: deny.length }));
  if (policy.maxSessions !== null) parts.push(countOf(policy.maxSessions, "session"));
  const until = localExpiry(policy.expires);
  const at = expiresAt(policy);
  if (until !== null && at !== null) parts.push(t(at <= now ? "policy.summary.expired" : "policy.summary.expires", { until }));
  return parts.length > 0 ? parts.join(" · ") : t("policy.summary.none");
}
