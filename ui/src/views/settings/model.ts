// The settings view's model: the form's values as text, checked field by
// field, and turned into the Settings to save. No DOM.

import type { Settings } from "../../ipc";
import {
  TIMEOUT_KEYS,
  validateAllowedRanges,
  validatePort,
  validateTarget,
  validateTimeout,
  validateUpstream,
  type Check,
  type ClientPolicy,
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
  passwordRequired: boolean;
  clientPolicy: string;
  allowedRanges: string;
  timeouts: Record<TimeoutKey, string>;
  upstream: string;
  startServerOnLaunch: boolean;
  launchAtLogin: boolean;
  notifications: boolean;
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

/** Checks the text of the field with this element id (the ranges under the chosen policy). */
export function checkFieldText(id: string, text: string, policy: ClientPolicy): FieldCheck {
  switch (id) {
    case "port":
      return withHint(validatePort(text));
    case "allowed-ranges":
      return errorOf(validateAllowedRanges(text, policy));
    case "upstream":
      return withHint(validateUpstream(text));
    case "client-policy":
      return { error: ["loopback", "lan", "custom"].includes(text) ? null : "Choose who may connect." };
    case "test-target":
      return errorOf(validateTarget(text));
    default: {
      const key = TIMEOUT_KEYS.find((k) => TIMEOUT_IDS[k] === id);
      return key ? errorOf(validateTimeout(text, key)) : { error: null };
    }
  }
}

/** The form's values for these settings. */
export function valuesOf(settings: Settings): FormValues {
  const timeouts = {} as Record<TimeoutKey, string>;
  for (const key of TIMEOUT_KEYS) timeouts[key] = String(settings.timeouts?.[key] ?? "");
  return {
    port: String(settings.port),
    shareOnLan: settings.shareOnLan,
    passwordRequired: settings.passwordRequired,
    clientPolicy: settings.clientPolicy,
    allowedRanges: (settings.allowedRanges ?? []).join("\n"),
    timeouts,
    upstream: (settings.upstream ?? []).join("\n"),
    startServerOnLaunch: settings.startServerOnLaunch,
    launchAtLogin: settings.launchAtLogin,
    notifications: settings.notifications,
  };
}

/** The settings these values describe, on top of loaded; null when a value is wrong. */
export function settingsFrom(values: FormValues, loaded: Settings | null): Settings | null {
  const policy = policyOf(values.clientPolicy);
  const port = validatePort(values.port);
  const ranges = validateAllowedRanges(values.allowedRanges, policy);
  const upstream = validateUpstream(values.upstream);
  if (!port.ok || !ranges.ok || !upstream.ok) return null;
  const timeouts = { ...(loaded?.timeouts ?? {}) } as Settings["timeouts"];
  for (const key of TIMEOUT_KEYS) {
    const r = validateTimeout(values.timeouts[key], key);
    if (!r.ok) return null;
    timeouts[key] = r.value;
  }
  // Keys this form does not show (if the app adds any) go back unchanged.
  return {
    ...(loaded ?? {}),
    port: port.value,
    shareOnLan: values.shareOnLan,
    passwordRequired: values.passwordRequired,
    clientPolicy: policy,
    allowedRanges: ranges.value,
    timeouts,
    upstream: upstream.value,
    users: loaded?.users ?? [],
    startServerOnLaunch: values.startServerOnLaunch,
    launchAtLogin: values.launchAtLogin,
    notifications: values.notifications,
  };
}
