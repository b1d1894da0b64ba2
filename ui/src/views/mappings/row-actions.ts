// What a row's Start / Stop, Retry and Remove buttons do (Edit opens the
// dialog). A refusal is shown in the view's message.

import * as ipc from "../../ipc";
import type { MappingRow } from "../../ipc";
import { ask, byId, showText } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import type { MappingsPage } from "./page";

/** Starts or stops a mapping; the button waits for the answer. */
export async function setEnabled(page: MappingsPage, row: MappingRow, enabled: boolean, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    await page.apply(ipc.setMappingEnabled(row.name, enabled));
    showText(page.error, null);
  } catch (reason) {
    const key = enabled ? "mappings.startFailed" : "mappings.stopFailed";
    showText(page.error, t(key, { name: row.name, reason: messageOf(reason) }));
  } finally {
    button.disabled = false;
  }
}

/** Removes a mapping after asking. */
export async function removeMapping(section: HTMLElement, page: MappingsPage, row: MappingRow): Promise<void> {
  byId("confirm-remove-mapping-text", section).textContent = t("mappings.removeQuestion", {
    name: row.name,
    listen: row.mapping.listen,
    target: row.mapping.target,
  });
  const yes = await ask(
    byId<HTMLDialogElement>("confirm-remove-mapping", section),
    byId<HTMLButtonElement>("confirm-remove-mapping-yes", section),
    byId<HTMLButtonElement>("confirm-remove-mapping-no", section),
  );
  if (!yes) return;
  try {
    await page.apply(ipc.removeMapping(row.name));
    showText(page.error, null);
    if (!document.activeElement || document.activeElement === document.body) page.home.focus();
  } catch (reason) {
    showText(page.error, t("mappings.removeFailed", { name: row.name, reason: messageOf(reason) }));
  }
}
