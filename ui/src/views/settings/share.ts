// Sharing on the network with no password and no enabled user makes an
// open proxy: the view asks first, and unticks the box on No.

import * as ipc from "../../ipc";
import { ask, byId } from "../../dom";
import type { SettingsForm } from "./form";

export async function confirmOpenSharing(section: HTMLElement, form: SettingsForm): Promise<void> {
  const { shareOnLan, passwordRequired } = form;
  if (passwordRequired.checked) return;
  let enabledUsers: number;
  try {
    const view = await ipc.listUsers();
    enabledUsers = view.users.filter((u) => u.enabled).length;
  } catch {
    enabledUsers = 0; // cannot tell: ask
  }
  if (enabledUsers > 0 || !shareOnLan.checked || passwordRequired.checked) return;
  const keep = await ask(
    byId<HTMLDialogElement>("confirm-share", section),
    byId<HTMLButtonElement>("confirm-share-yes", section),
    byId<HTMLButtonElement>("confirm-share-no", section),
  );
  if (!keep) shareOnLan.checked = false;
}
