// The settings view's model: the form's values as text, checked field by
// field, and turned into the Settings to save. No DOM.

import { checkRate } from "../../access";
import { GSSAPI_DEFAULTS, gssapiFrom, gssapiValuesOf, type GssapiValues } from "./gssapi";
import type { Settings } from "../../ipc";
import { t } from "../../i18n";
import {
  LIMIT_KEYS,
  LIMIT_TOTALS,
  TIMEOUT_KEYS,
  validateAllowedRanges,
  validateDenyTargets,
  validateLimit,
  validatePort,
  validateTarget,
  validateTimeout,
  validateUpstream,
  type Check,
  type ClientPolicy,
  type LimitKey,
  type TimeoutKey,
} from "../../validate";

/** The form field of each time limit. */
export const TIMEOUT_IDS: Record<TimeoutKey, string> = {
  handshake: "timeout-handshake",
  connect: "timeout-connect",
  idle: "timeout-idle",
  bind: "timeout-bind",
  udpIdle: "timeout-udp-idle",
};

/** The form field of each limit. */
export const LIMIT_IDS: Record<LimitKey, string> = {
  maxSessions: "limit-sessions",
  maxHandshakes: "limit-handshakes",
  maxSessionsPerClient: "limit-sessions-per-client",
  maxHandshakesPerClient: "limit-handshakes-per-client",
  maxUdpPerClient: "limit-udp-per-client",
  maxBindPerClient: "limit-bind-per-client",
  udpDatagramsPerSecond: "limit-udp-datagrams",
};

/** The limit a field id names, if it names one. */
export function limitKeyOf(id: string): LimitKey | undefined {
  return LIMIT_KEYS.find((k) => LIMIT_IDS[k] === id);
}

/** The fields to check again when this one changes: a total's per-device limit. */
export function dependentsOf(id: string): string[] {
  const key = limitKeyOf(id);
  return key === undefined ? [] : LIMIT_KEYS.filter((k) => LIMIT_TOTALS[k] === key).map((k) => LIMIT_IDS[k]);
}

/** What the view keeps between events. */
export interface SettingsState {
  /** The settings last loaded or saved: keys the form does not show go back unchanged. */
  loaded: Settings | null;
  /** The form has edits not saved yet (a reload would lose them). */
  dirty: boolean;
  saving: boolean;
  /** The question about sharing without a password, while it is open. */
  shareCheck: Promise<void> | null;
}

/** What the form shows, as its fields hold it. */
export interface FormValues {
  port: string;
  shareOnLan: boolean;
  httpEnabled: boolean;
  passwordRequired: boolean;
  clientPolicy: string;
  allowedRanges: string;
  timeouts: Record<TimeoutKey, string>;
  limits: Record<LimitKey, string>;
  perClientLimitsForLoopback: boolean;
  /** The server-wide bandwidth limit ("50 MB/s"); empty: none. */
  rateLimit: string;
  denyTargets: string;
  remoteReachLinkLocal: boolean;
  remoteReachMulticast: boolean;
  upstream: string;
  startServerOnLaunch: boolean;
  launchAtLogin: boolean;
  notifications: boolean;
  /** "system" or a language's tag. */
  language: string;
  /** Also write the system proxy's file for terminals. */
  systemProxyEnvFile: boolean;
  /** The GSS-API section; null when it is not on the page (the settings loaded keep theirs). */
  gssapi: GssapiValues | null;
}

/** A field's message (null when it is fine) and, for the port and the upstream chain, the hint to show. */
export interface FieldCheck {
  error: string | null;
  hint?: string | null;
}

/** The policy a select value names; anything else is the safest one. */
export function policyOf(value: string): ClientPolicy {
  return value === "lan" || value === "custom" ? value : "loopback";
}

function errorOf<T>(check: Check<T>): FieldCheck {
  return { error: check.ok ? null : check.error };
}

function withHint<T>(check: Check<T>): FieldCheck {
  return check.ok ? { error: null, hint: check.hint ?? null } : { error: check.error, hint: null };
}

/**
 * Checks the text of the field with this element id: the ranges under the
 * chosen policy, a per-device limit against the text of its total's field
 * in `limits`.
 */
export function checkFieldText(
  id: string,
  text: string,
  policy: ClientPolicy,
  limits: Partial<Record<LimitKey, string>> = {},
): FieldCheck {
  switch (id) {
    case "port":
      return withHint(validatePort(text));
    case "allowed-ranges":
      return errorOf(validateAllowedRanges(text, policy));
    case "upstream":
      return withHint(validateUpstream(text));
    case "client-policy":
      return { error: ["loopback", "lan", "custom"].includes(text) ? null : t("settings.clientPolicyChoose") };
    case "test-target":
      return errorOf(validateTarget(text));
    case "deny-targets":
      return errorOf(validateDenyTargets(text));
    case "limit-rate":
      return { error: text.trim() === "" ? null : errorOf(checkRate(text.trim())).error };
    default: {
      const limit = limitKeyOf(id);
      if (limit !== undefined) {
        const total = LIMIT_TOTALS[limit];
        return errorOf(validateLimit(text, total === undefined ? undefined : (limits[total] ?? "")));
      }
      const key = TIMEOUT_KEYS.find((k) => TIMEOUT_IDS[k] === id);
      return key ? errorOf(validateTimeout(text, key)) : { error: null };
    }
  }
}

/** The form's values for these settings. */
export function valuesOf(settings: Settings): FormValues {
  const timeouts = {} as Record<TimeoutKey, string>;
  for (const key of TIMEOUT_KEYS) timeouts[key] = String(settings.timeouts?.[key] ?? "");
  const limits = {} as Record<LimitKey, string>;
  for (const key of LIMIT_KEYS) limits[key] = String(settings.limits?.[key] ?? "");
  return {
    port: String(settings.port),
    shareOnLan: settings.shareOnLan,
    httpEnabled: settings.http?.enabled ?? true,
    passwordRequired: settings.passwordRequired,
    clientPolicy: settings.clientPolicy,
    allowedRanges: (settings.allowedRanges ?? []).join("\n"),
    timeouts,
    limits,
    perClientLimitsForLoopback: settings.limits?.perClientLimitsForLoopback ?? false,
    rateLimit: settings.limits?.rateLimit ?? "",
    denyTargets: (settings.denyTargets ?? []).join("\n"),
    remoteReachLinkLocal: settings.remoteReach?.linkLocal ?? false,
    remoteReachMulticast: settings.remoteReach?.multicast ?? false,
    upstream: (settings.upstream ?? []).join("\n"),
    startServerOnLaunch: settings.startServerOnLaunch,
    launchAtLogin: settings.launchAtLogin,
    notifications: settings.notifications,
    language: settings.language ?? "system",
    systemProxyEnvFile: settings.systemProxyEnvFile ?? false,
    gssapi: gssapiValuesOf(settings.gssapi),
  };
}

/** The settings these values describe, on top of loaded; null when a value is wrong. */
export function settingsFrom(values: FormValues, loaded: Settings | null): Settings | null {
  const policy = policyOf(values.clientPolicy);
  const port = validatePort(values.port);
  const ranges = validateAllowedRanges(values.allowedRanges, policy);
  const upstream = validateUpstream(values.upstream);
  const deny = validateDenyTargets(values.denyTargets);
  const rate = values.rateLimit.trim();
  if (!port.ok || !ranges.ok || !upstream.ok || !deny.ok || (rate !== "" && !checkRate(rate).ok)) return null;
  const timeouts = { ...(loaded?.timeouts ?? {}) } as Settings["timeouts"];
  for (const key of TIMEOUT_KEYS) {
    const r = validateTimeout(values.timeouts[key], key);
    if (!r.ok) return null;
    timeouts[key] = r.value;
  }
  const gssapi = values.gssapi ? gssapiFrom(values.gssapi) : (loaded?.gssapi ?? GSSAPI_DEFAULTS);
  if (!gssapi) return null;
  const limits = {} as Record<LimitKey, number>;
  for (const key of LIMIT_KEYS) {
    const total = LIMIT_TOTALS[key];
    const r = validateLimit(values.limits[key], total === undefined ? undefined : values.limits[total]);
    if (!r.ok) return null;
    limits[key] = r.value;
  }
  // Keys this form does not show (if the app adds any) go back unchanged.
  return {
    ...(loaded ?? {}),
    port: port.value,
    shareOnLan: values.shareOnLan,
    http: { ...(loaded?.http ?? {}), enabled: values.httpEnabled },
    passwordRequired: values.passwordRequired,
    gssapi,
    clientPolicy: policy,
    allowedRanges: ranges.value,
    timeouts,
    limits: {
      ...(loaded?.limits ?? {}),
      ...limits,
      perClientLimitsForLoopback: values.perClientLimitsForLoopback,
      rateLimit: rate,
    },
    denyTargets: deny.value,
    remoteReach: {
      ...(loaded?.remoteReach ?? {}),
      linkLocal: values.remoteReachLinkLocal,
      multicast: values.remoteReachMulticast,
    },
    upstream: upstream.value,
    // Edited in their own sections; the app keeps the ones in force.
    users: loaded?.users ?? [],
    mappings: loaded?.mappings ?? [],
    devices: loaded?.devices ?? [],
    startServerOnLaunch: values.startServerOnLaunch,
    launchAtLogin: values.launchAtLogin,
    notifications: values.notifications,
    language: values.language,
    systemProxyEnvFile: values.systemProxyEnvFile,
  };
}
