// What a row's Enabled box and Delete (or Revoke) button do, and Revoke all
// guest passes (the row's other buttons open the dialogs). Deleting and
// revoking ask first, in the same question dialog.

import * as ipc from "../../ipc";
import { ask, byId, showText } from "../../dom";
import { t } from "../../i18n";
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

/** Asks the question dialog this (its title, text and yes button's label); resolves true for yes. */
function confirm(section: HTMLElement, title: string, text: string, yes: string): Promise<boolean> {
  byId("confirm-delete-title", section).textContent = title;
  byId("confirm-delete-text", section).textContent = text;
  const yesButton = byId<HTMLButtonElement>("confirm-delete-yes", section);
  yesButton.textContent = yes;
  return ask(byId<HTMLDialogElement>("confirm-delete", section), yesButton, byId<HTMLButtonElement>("confirm-delete-no", section));
}

/** Makes a change after asking; its refusal goes in the page's message slot. */
async function afterAsking(page: UsersPage, asked: Promise<boolean>, change: () => Promise<ipc.UsersView>): Promise<void> {
  if (!(await asked)) return;
  try {
    await page.apply(change());
    showText(page.error, null);
    if (!document.activeElement || document.activeElement === document.body) page.home.focus();
  } catch (reason) {
    page.refuse(reason, page.error);
  }
}

/** Deletes a user after asking. */
export async function removeUser(section: HTMLElement, page: UsersPage, name: string): Promise<void> {
  const asked = confirm(section, t("users.deleteTitle"), t("users.deleteQuestion", { name }), t("users.delete"));
  await afterAsking(page, asked, () => ipc.deleteUser(name));
}

/** Revokes a guest pass after asking. */
export async function revokeGuest(section: HTMLElement, page: UsersPage, name: string): Promise<void> {
  const asked = confirm(section, t("guest.revokeTitle"), t("guest.revokeQuestion", { name }), t("guest.revoke"));
  await afterAsking(page, asked, () => ipc.revokeGuest(name));
}

/** Revokes every guest pass after asking. */
export async function revokeAllGuests(section: HTMLElement, page: UsersPage, names: readonly string[]): Promise<void> {
  const text = t("guest.revokeAllQuestion", { names: names.join(t("common.listSeparator")) });
  const asked = confirm(section, t("guest.revokeAllTitle"), text, t("guest.revokeAllShort"));
  await afterAsking(page, asked, () => ipc.revokeAllGuests());
}
