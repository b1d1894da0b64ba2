// What a row's Enabled box and Delete button do (its other buttons open the
// edit dialog).

import * as ipc from "../../ipc";
import { ask, byId, showText } from "../../dom";
import type { UsersPage } from "./page";

/** Sends the box's new state; puts the tick back when refused. */
export async function setEnabled(page: UsersPage, name: string, box: HTMLInputElement): Promise<void> {
  const wanted = box.checked;
  box.disabled = true;
  try {
    await page.apply(ipc.setUserEnabled(name, wanted));
    showText(page.error, null);
  } catch (reason) {
    box.checked = !wanted;
    page.refuse(reason, page.error);
  } finally {
    box.disabled = false;
  }
}

/** Deletes a user after asking. */
export async function removeUser(section: HTMLElement, page: UsersPage, name: string): Promise<void> {
  byId("confirm-delete-text", section).textContent =
    `Delete the user “${name}”? Clients signed in as ${name} can no longer connect, and the password is removed from the keyring.`;
  const yes = await ask(
    byId<HTMLDialogElement>("confirm-delete", section),
    byId<HTMLButtonElement>("confirm-delete-yes", section),
    byId<HTMLButtonElement>("confirm-delete-no", section),
  );
  if (!yes) return;
  try {
    await page.apply(ipc.deleteUser(name));
    showText(page.error, null);
    if (!document.activeElement || document.activeElement === document.body) page.home.focus();
  } catch (reason) {
    page.refuse(reason, page.error);
  }
}
