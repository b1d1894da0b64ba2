// The settings view: one form for every setting, checked as the user types
// and again before saving; errors from save_settings land next to the same
// fields. Also the upstream chain test and the "share without a password?"
// confirmation.
//
// The parts: model.ts (values, checks and Settings, no DOM), form.ts (the
// fields), save.ts, share.ts, upstream-test.ts, markup.ts.

import * as ipc from "../../ipc";
import type { Status } from "../../ipc";
import { byId, showText } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import { SettingsForm } from "./form";
import { settingsMarkup } from "./markup";
import type { SettingsState } from "./model";
import { save } from "./save";
import { confirmOpenSharing } from "./share";
import { testChain } from "./upstream-test";

export { renderUpstreamReport } from "./upstream-test";

export interface SettingsOptions {
  /** Receives the server status that save_settings returns. */
  onStatus?: (status: Status) => void;
  /** The language setting was changed and saved. */
  onLanguage?: (choice: string) => void;
}

export interface SettingsView {
  /** Called when the view is opened: reloads the settings unless the form has unsaved edits. */
  show(): void;
  /** Resolves once the first load has finished. */
  ready: Promise<void>;
}

export function mountSettings(section: HTMLElement, options: SettingsOptions = {}): SettingsView {
  section.innerHTML = settingsMarkup();
  const state: SettingsState = { loaded: null, dirty: false, saving: false, shareCheck: null };
  const form = new SettingsForm(section, state);
  const saved = byId("settings-saved", section);
  const generalError = byId("settings-error", section);
  const warning = byId("settings-warning", section);
  const saveButton = byId<HTMLButtonElement>("save-settings", section);

  async function load(): Promise<void> {
    try {
      const result = await ipc.getSettings();
      if (state.dirty || state.saving) return; // the user started editing meanwhile
      form.fill(result.settings);
      showText(warning, result.warning);
      showText(generalError, null);
    } catch (reason) {
      showText(generalError, t("settings.cannotLoad", { reason: messageOf(reason) }));
    }
  }

  function edited(): void {
    state.dirty = true;
    saved.textContent = "";
  }

  form.element.addEventListener("input", (event) => {
    const el = event.target as HTMLElement;
    if (el.id === "test-target") {
      form.checkField("test-target");
      return;
    }
    edited();
    if (el.id) form.checkField(el.id);
  });

  form.element.addEventListener("change", (event) => {
    const el = event.target as HTMLElement;
    if (el.id === "test-target") return;
    edited();
    if (el === form.gssapiEnabled) form.syncGssapiEnabled();
    if (el === form.policy) {
      form.syncRangesEnabled();
      form.checkField("allowed-ranges");
    }
    if (el.id) form.checkField(el.id);
    if (el === form.shareOnLan && form.shareOnLan.checked) {
      state.shareCheck = confirmOpenSharing(section, form).finally(() => {
        state.shareCheck = null;
      });
    }
  });

  form.element.addEventListener("submit", (event) => {
    event.preventDefault();
    void save({
      form,
      state,
      button: saveButton,
      saved,
      generalError,
      onStatus: options.onStatus,
      onLanguage: options.onLanguage,
    });
  });

  const testButton = byId<HTMLButtonElement>("test-upstream", section);
  const report = byId("upstream-report", section);
  testButton.addEventListener("click", () => void testChain(form, state, testButton, report));

  /** The GSS-API section is on the page only when this build has GSS-API. */
  async function offerGssapi(): Promise<void> {
    let available = false;
    try {
      available = (await ipc.gssapiAvailable()) === true;
    } catch {
      // Asked of an app without the command: no section.
    }
    form.showGssapi(available);
  }

  /** Where the system proxy's file for terminals goes, beside its checkbox. */
  async function showEnvFile(): Promise<void> {
    try {
      const status = await ipc.systemProxyStatus();
      if (status) form.showEnvFile(status.envFile, status.envLine);
    } catch (reason) {
      console.warn("the system proxy's state cannot be read:", messageOf(reason));
    }
  }

  form.syncRangesEnabled();
  const ready = Promise.all([offerGssapi(), load(), showEnvFile()]).then(() => undefined);
  return {
    show() {
      if (!state.dirty && !state.saving) void load();
    },
    ready,
  };
}
