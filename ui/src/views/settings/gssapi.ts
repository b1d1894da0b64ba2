// The GSS-API (Kerberos, RFC 1961) section of the settings view: its values
// as the form holds them, its checks (as proxy-core checks them, so the
// page names a bad entry before the app is asked) and the GssapiSettings
// to save. No DOM; the section is on the page only when the app says this
// build has GSS-API (gssapi_available).

import type { Settings } from "../../ipc";
import { t } from "../../i18n";

export type GssapiSettings = Settings["gssapi"];
export type ProtectionLevel = GssapiSettings["protection"][number];

/** Every level, weakest first, as proxy-core names them. */
export const PROTECTION_LEVELS: readonly ProtectionLevel[] = ["none", "integrity", "confidentiality", "selective"];

/** The checkbox of each level. */
export const PROTECTION_IDS: Record<ProtectionLevel, string> = {
  none: "gssapi-protection-none",
  integrity: "gssapi-protection-integrity",
  confidentiality: "gssapi-protection-confidentiality",
  selective: "gssapi-protection-selective",
};

/** The section's fields as the form holds them. */
export interface GssapiValues {
  enabled: boolean;
  keytab: string;
  principal: string;
  protection: Record<ProtectionLevel, boolean>;
  /** One entry a line. */
  allow: string;
}

/** The defaults (the app's): off, the system's keytab, every level. */
export const GSSAPI_DEFAULTS: GssapiSettings = {
  enabled: false,
  keytab: "",
  principal: "",
  protection: [...PROTECTION_LEVELS],
  allow: [],
};

/** The form's values for these settings (a file from before the section: the defaults). */
export function gssapiValuesOf(settings: GssapiSettings | undefined): GssapiValues {
  const g = settings ?? GSSAPI_DEFAULTS;
  const protection = {} as Record<ProtectionLevel, boolean>;
  for (const level of PROTECTION_LEVELS) protection[level] = g.protection.includes(level);
  return {
    enabled: g.enabled,
    keytab: g.keytab,
    principal: g.principal,
    protection,
    allow: g.allow.join("\n"),
  };
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** What is wrong with the allowed principals and realms, one a line (null: nothing). */
export function checkAllow(text: string): string | null {
  for (const entry of lines(text)) {
    const bad =
      /[\s\p{Cc}]/u.test(entry) || (entry !== "*" && !entry.includes("@")) || entry.endsWith("@");
    if (bad) {
      return `"${entry}" must be a principal ("alice@EXAMPLE.ORG"), a realm ("@EXAMPLE.ORG") or "*".`;
    }
  }
  return null;
}

/** What is wrong with the service principal (null: nothing; empty is the keytab's any). */
export function checkPrincipal(text: string): string | null {
  return /\p{Cc}/u.test(text) ? t("settings.gssapiPrincipalControl") : null;
}

/** What is wrong with the levels chosen (null: nothing). */
export function checkProtection(protection: Record<ProtectionLevel, boolean>): string | null {
  return PROTECTION_LEVELS.some((l) => protection[l]) ? null : t("settings.gssapiProtectionNone");
}

/**
 * The error of one of the section's fields (by id), or null; undefined when
 * the id is not the section's. While the section is off nothing is wrong:
 * its values are kept, not used.
 */
export function checkGssapiField(id: string, values: GssapiValues): string | null | undefined {
  const on = values.enabled;
  switch (id) {
    case "gssapi-enabled":
    case "gssapi-keytab":
      return null;
    case "gssapi-principal":
      return on ? checkPrincipal(values.principal) : null;
    case "gssapi-protection":
      return on ? checkProtection(values.protection) : null;
    case "gssapi-allow":
      return on ? checkAllow(values.allow) : null;
    default:
      return undefined;
  }
}

/** The settings these values describe; null when a value is wrong. */
export function gssapiFrom(values: GssapiValues): GssapiSettings | null {
  for (const id of ["gssapi-principal", "gssapi-protection", "gssapi-allow"]) {
    if (checkGssapiField(id, values)) return null;
  }
  return {
    enabled: values.enabled,
    keytab: values.keytab.trim(),
    principal: values.principal.trim(),
    protection: PROTECTION_LEVELS.filter((l) => values.protection[l]),
    allow: lines(values.allow),
  };
}
