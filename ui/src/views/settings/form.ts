// The settings form on the page: writes Settings into the fields, reads them
// back, and checks a field as the user types, its message next to it.

import { byId, setFieldError, showText } from "../../dom";
import { SETTINGS_FIELD_IDS } from "../../errors";
import { t } from "../../i18n";
import type { Settings } from "../../ipc";
import { LIMIT_KEYS, TIMEOUT_KEYS, type ClientPolicy, type LimitKey, type TimeoutKey } from "../../validate";
import { PROTECTION_IDS, PROTECTION_LEVELS, checkGssapiField, type GssapiValues, type ProtectionLevel } from "./gssapi";
import {
  LIMIT_IDS,
  TIMEOUT_IDS,
  checkFieldText,
  dependentsOf,
  policyOf,
  settingsFrom,
  valuesOf,
  type FormValues,
  type SettingsState,
} from "./model";

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export class SettingsForm {
  readonly element: HTMLFormElement;
  readonly shareOnLan: HTMLInputElement;
  readonly passwordRequired: HTMLInputElement;
  readonly policy: HTMLSelectElement;
  readonly upstream: HTMLTextAreaElement;
  readonly target: HTMLInputElement;
  private readonly ranges: HTMLTextAreaElement;
  private readonly denyTargets: HTMLTextAreaElement;
  private readonly gssapiSection: HTMLElement;
  readonly gssapiEnabled: HTMLInputElement;

  constructor(
    private readonly section: HTMLElement,
    private readonly state: SettingsState,
  ) {
    this.element = byId<HTMLFormElement>("settings-form", section);
    this.shareOnLan = this.input("share-on-lan");
    this.passwordRequired = this.input("password-required");
    this.policy = byId<HTMLSelectElement>("client-policy", section);
    this.ranges = byId<HTMLTextAreaElement>("allowed-ranges", section);
    this.denyTargets = byId<HTMLTextAreaElement>("deny-targets", section);
    this.upstream = byId<HTMLTextAreaElement>("upstream", section);
    this.target = this.input("test-target");
    this.gssapiSection = byId("gssapi-section", section);
    this.gssapiEnabled = this.input("gssapi-enabled");
  }

  /** Shows where the system proxy's file for terminals goes, and the line a shell profile needs. */
  showEnvFile(file: string, line: string): void {
    const hint = byId(`hint-system-proxy-env-file`, this.section);
    const code = document.createElement("code");
    code.id = "settings-env-file";
    code.textContent = file;
    hint.replaceChildren(`${t("settings.envFileHint")} ${t("settings.envFileFile")} `, code);
    byId("settings-env-line", this.section).textContent = line;
    byId("system-proxy-env-profile", this.section).hidden = false;
  }

  /** Shows the GSS-API section (this build has GSS-API) or leaves it hidden, its values out of what is saved. */
  showGssapi(available: boolean): void {
    this.gssapiSection.hidden = !available;
  }

  /** The GSS-API section's fields are for the method switched on. */
  syncGssapiEnabled(): void {
    const off = !this.gssapiEnabled.checked;
    for (const id of ["gssapi-keytab", "gssapi-principal", "gssapi-allow", ...Object.values(PROTECTION_IDS)]) {
      this.input(id).disabled = off;
    }
  }

  /** The policy chosen. */
  currentPolicy(): ClientPolicy {
    return policyOf(this.policy.value);
  }

  /**
   * Checks one field, shows its message (and hint), and answers the
   * message; a limit for all devices checks its per-device limit again.
   */
  checkField(id: string): string | null {
    if (id.startsWith("gssapi-")) return this.checkGssapi(id);
    const error = this.checkOne(id);
    for (const dependent of dependentsOf(id)) this.checkOne(dependent);
    return error;
  }

  /** A level's box checks the levels; the switch checks the whole section. */
  private checkGssapi(id: string): string | null {
    if (id.startsWith("gssapi-protection")) return this.checkOne("gssapi-protection");
    if (id === "gssapi-enabled") {
      for (const other of ["gssapi-principal", "gssapi-protection", "gssapi-allow"]) this.checkOne(other);
    }
    return this.checkOne(id);
  }

  private checkOne(id: string): string | null {
    const gssapi = checkGssapiField(id, this.gssapiValues());
    if (gssapi !== undefined) {
      // A section not on the page holds nothing to fix.
      const error = this.gssapiSection.hidden ? null : gssapi;
      this.showError(id, error);
      return error;
    }
    const text = this.section.querySelector<Field>(`#${id}`)?.value ?? "";
    const check = checkFieldText(id, text, this.currentPolicy(), this.limitTexts());
    // The port and upstream hints depend on the value; the other hints are fixed.
    if (check.hint !== undefined) showText(byId(`hint-${id}`, this.section), check.hint);
    this.showError(id, check.error);
    return check.error;
  }

  private limitTexts(): Record<LimitKey, string> {
    const texts = {} as Record<LimitKey, string>;
    for (const key of LIMIT_KEYS) texts[key] = this.limit(key).value;
    return texts;
  }

  /** Shows a field's message next to it (null clears it). */
  showError(id: string, message: string | null): void {
    setFieldError(id, message, this.section);
  }

  /** The ranges are for the custom policy only. */
  syncRangesEnabled(): void {
    this.ranges.disabled = this.currentPolicy() !== "custom";
  }

  /** Shows these settings, checked, as the form's unedited state. */
  fill(settings: Settings): void {
    this.state.loaded = settings;
    this.write(valuesOf(settings));
    this.syncRangesEnabled();
    this.syncGssapiEnabled();
    for (const id of SETTINGS_FIELD_IDS) this.checkField(id);
    this.state.dirty = false;
  }

  /** The settings the form describes, or null after showing what is wrong (focus on the first). */
  collect(): Settings | null {
    const problems = SETTINGS_FIELD_IDS.filter((id) => this.checkField(id) !== null);
    const first = problems[0];
    if (first) {
      this.focus(first);
      return null;
    }
    return settingsFrom(this.read(), this.state.loaded);
  }

  focus(id: string): void {
    // The levels are a group: its first box takes the focus.
    const target = id === "gssapi-protection" ? PROTECTION_IDS.none : id;
    this.section.querySelector<HTMLElement>(`#${target}`)?.focus();
  }

  private input(id: string): HTMLInputElement {
    return byId<HTMLInputElement>(id, this.section);
  }

  private timeout(key: TimeoutKey): HTMLInputElement {
    return this.input(TIMEOUT_IDS[key]);
  }

  private limit(key: LimitKey): HTMLInputElement {
    return this.input(LIMIT_IDS[key]);
  }

  private write(values: FormValues): void {
    this.input("port").value = values.port;
    this.shareOnLan.checked = values.shareOnLan;
    this.input("http-enabled").checked = values.httpEnabled;
    this.passwordRequired.checked = values.passwordRequired;
    this.policy.value = values.clientPolicy;
    this.ranges.value = values.allowedRanges;
    for (const key of TIMEOUT_KEYS) this.timeout(key).value = values.timeouts[key];
    for (const key of LIMIT_KEYS) this.limit(key).value = values.limits[key];
    this.input("limits-for-loopback").checked = values.perClientLimitsForLoopback;
    this.input("limit-rate").value = values.rateLimit;
    this.denyTargets.value = values.denyTargets;
    this.input("remote-reach-link-local").checked = values.remoteReachLinkLocal;
    this.input("remote-reach-multicast").checked = values.remoteReachMulticast;
    this.upstream.value = values.upstream;
    this.input("start-on-launch").checked = values.startServerOnLaunch;
    this.input("launch-at-login").checked = values.launchAtLogin;
    this.input("notifications").checked = values.notifications;
    byId<HTMLSelectElement>("language", this.section).value = values.language;
    this.input("system-proxy-env-file").checked = values.systemProxyEnvFile;
    if (values.gssapi) {
      this.gssapiEnabled.checked = values.gssapi.enabled;
      this.input("gssapi-keytab").value = values.gssapi.keytab;
      this.input("gssapi-principal").value = values.gssapi.principal;
      for (const level of PROTECTION_LEVELS) this.input(PROTECTION_IDS[level]).checked = values.gssapi.protection[level];
      byId<HTMLTextAreaElement>("gssapi-allow", this.section).value = values.gssapi.allow;
    }
  }

  private gssapiValues(): GssapiValues {
    const protection = {} as Record<ProtectionLevel, boolean>;
    for (const level of PROTECTION_LEVELS) protection[level] = this.input(PROTECTION_IDS[level]).checked;
    return {
      enabled: this.gssapiEnabled.checked,
      keytab: this.input("gssapi-keytab").value,
      principal: this.input("gssapi-principal").value,
      protection,
      allow: byId<HTMLTextAreaElement>("gssapi-allow", this.section).value,
    };
  }

  private read(): FormValues {
    const timeouts = {} as Record<TimeoutKey, string>;
    for (const key of TIMEOUT_KEYS) timeouts[key] = this.timeout(key).value;
    return {
      port: this.input("port").value,
      shareOnLan: this.shareOnLan.checked,
      httpEnabled: this.input("http-enabled").checked,
      passwordRequired: this.passwordRequired.checked,
      clientPolicy: this.policy.value,
      allowedRanges: this.ranges.value,
      timeouts,
      limits: this.limitTexts(),
      perClientLimitsForLoopback: this.input("limits-for-loopback").checked,
      rateLimit: this.input("limit-rate").value,
      denyTargets: this.denyTargets.value,
      remoteReachLinkLocal: this.input("remote-reach-link-local").checked,
      remoteReachMulticast: this.input("remote-reach-multicast").checked,
      upstream: this.upstream.value,
      startServerOnLaunch: this.input("start-on-launch").checked,
      launchAtLogin: this.input("launch-at-login").checked,
      notifications: this.input("notifications").checked,
      language: byId<HTMLSelectElement>("language", this.section).value,
      systemProxyEnvFile: this.input("system-proxy-env-file").checked,
      gssapi: this.gssapiSection.hidden ? null : this.gssapiValues(),
    };
  }
}
