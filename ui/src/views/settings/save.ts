// Saving: after the sharing question (if open) and a check of every field,
// save_settings; its field errors land next to the same fields.

import * as ipc from "../../ipc";
import type { FieldError, Status } from "../../ipc";
import { showText } from "../../dom";
import { fieldErrorsOf, messageOf, placeFieldErrors } from "../../errors";
import { t } from "../../i18n";
import type { SettingsForm } from "./form";
import type { SettingsState } from "./model";

export interface SaveParts {
  form: SettingsForm;
  state: SettingsState;
  button: HTMLButtonElement;
  /** "Settings saved." */
  saved: HTMLElement;
  /** The message for what belongs to no field. */
  generalError: HTMLElement;
  onStatus?: (status: Status) => void;
  /** The language setting changed to this. */
  onLanguage?: (choice: string) => void;
}

export async function save(parts: SaveParts): Promise<void> {
  const { form, state, button, saved, generalError } = parts;
  if (state.saving) return;
  if (state.shareCheck) await state.shareCheck;
  saved.textContent = "";
  showText(generalError, null);
  const settings = form.collect();
  if (!settings) return;
  state.saving = true;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const before = state.loaded?.language ?? "system";
    const result = await ipc.saveSettings(settings);
    form.fill(result.settings);
    saved.textContent = t("settings.saved");
    if ((result.settings.language ?? "system") !== before) parts.onLanguage?.(result.settings.language);
    if (result.status) parts.onStatus?.(result.status);
  } catch (reason) {
    const errors = fieldErrorsOf(reason);
    if (errors === null) showText(generalError, t("settings.notSaved", { reason: messageOf(reason) }));
    else showFieldErrors(parts, errors);
  } finally {
    state.saving = false;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Puts each error next to its field (focus on the first), the rest in the general message. */
function showFieldErrors({ form, generalError }: SaveParts, errors: FieldError[]): void {
  const general: string[] = [];
  let first: string | null = null;
  for (const [id, messages] of placeFieldErrors(errors)) {
    if (id === null) general.push(...messages);
    else {
      form.showError(id, messages.join(" "));
      first ??= id;
    }
  }
  showText(generalError, general.length > 0 ? general.join(" ") : null);
  if (first) form.focus(first);
}
