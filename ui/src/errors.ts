// Pure helpers for what a rejected call carries, and for placing the errors
// of save_settings next to the right field.

import { t } from "./i18n";
import type { FieldError, UserErrorKind } from "./ipc";

/** Settings key paths (as the Rust side names them) -> form element ids. */
const FIELD_IDS: Readonly<Record<string, string>> = {
  port: "port",
  shareOnLan: "share-on-lan",
  "http.enabled": "http-enabled",
  passwordRequired: "password-required",
  "gssapi.enabled": "gssapi-enabled",
  "gssapi.keytab": "gssapi-keytab",
  "gssapi.principal": "gssapi-principal",
  "gssapi.protection": "gssapi-protection",
  "gssapi.allow": "gssapi-allow",
  clientPolicy: "client-policy",
  allowedRanges: "allowed-ranges",
  denyTargets: "deny-targets",
  "remoteReach.linkLocal": "remote-reach-link-local",
  "remoteReach.multicast": "remote-reach-multicast",
  "timeouts.handshake": "timeout-handshake",
  "timeouts.connect": "timeout-connect",
  "timeouts.idle": "timeout-idle",
  "timeouts.bind": "timeout-bind",
  "timeouts.udpIdle": "timeout-udp-idle",
  "limits.maxSessions": "limit-sessions",
  "limits.maxHandshakes": "limit-handshakes",
  "limits.maxSessionsPerClient": "limit-sessions-per-client",
  "limits.maxHandshakesPerClient": "limit-handshakes-per-client",
  "limits.maxUdpPerClient": "limit-udp-per-client",
  "limits.maxBindPerClient": "limit-bind-per-client",
  "limits.udpDatagramsPerSecond": "limit-udp-datagrams",
  "limits.perClientLimitsForLoopback": "limits-for-loopback",
  "limits.rateLimit": "limit-rate",
  upstream: "upstream",
  startServerOnLaunch: "start-on-launch",
  launchAtLogin: "launch-at-login",
  notifications: "notifications",
  language: "language",
};

/** Every form field id of the settings view, in page order. */
export const SETTINGS_FIELD_IDS: readonly string[] = Object.values(FIELD_IDS);

/**
 * The id of the form field a settings key path names, or null when the
 * error belongs in the general #settings-error. Indexed paths
 * ("upstream[1]", "allowedRanges.0") go to their list's field, and
 * snake_case spellings ("timeouts.udp_idle") are accepted too.
 */
export function fieldPathToId(path: string): string | null {
  const normal = path
    .trim()
    .replace(/\[\d+\]$/, "")
    .replace(/\.\d+$/, "")
    .replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  return Object.prototype.hasOwnProperty.call(FIELD_IDS, normal) ? (FIELD_IDS[normal] ?? null) : null;
}

/** The id of the element that shows a field's message. */
export function errorIdFor(fieldId: string): string {
  return `error-${fieldId}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The field errors of a save_settings rejection, or null when it is another kind of failure. */
export function fieldErrorsOf(reason: unknown): FieldError[] | null {
  if (!isObject(reason) || !Array.isArray(reason.errors)) return null;
  const out: FieldError[] = [];
  for (const e of reason.errors) {
    if (isObject(e) && typeof e.message === "string") {
      out.push({ field: typeof e.field === "string" ? e.field : "", message: e.message });
    }
  }
  return out;
}

/** A message in words for any rejection: { message }, { errors }, a string or an Error. */
export function messageOf(reason: unknown): string {
  if (typeof reason === "string" && reason.trim() !== "") return reason;
  if (reason instanceof Error && reason.message) return reason.message;
  if (isObject(reason)) {
    if (typeof reason.message === "string" && reason.message !== "") return reason.message;
    const fields = fieldErrorsOf(reason);
    if (fields && fields.length > 0) return fields.map((f) => f.message).join(" ");
  }
  return t("errors.noReason");
}

/** True for a users-call refusal because of the system keyring (shown in the keyring banner). */
export function isKeyringRefusal(reason: unknown): boolean {
  const kind: UserErrorKind | undefined = isObject(reason) ? (reason.kind as UserErrorKind) : undefined;
  return kind === "keyring";
}

/** Groups save_settings errors by form field; those without a field come back under null. */
export function placeFieldErrors(errors: FieldError[]): Map<string | null, string[]> {
  const placed = new Map<string | null, string[]>();
  for (const e of errors) {
    const id = fieldPathToId(e.field);
    const list = placed.get(id) ?? [];
    list.push(e.message);
    placed.set(id, list);
  }
  return placed;
}
