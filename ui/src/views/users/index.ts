// The users view: the proxy's users (names here, passwords in the system
// keyring), each with its state and its limits, with add, rename, set
// password, limits, enable/disable and delete.
//
// The parts: model.ts (the list and the checks, no DOM), page.ts (what the
// parts share), table.ts, add-form.ts, edit-dialog.ts, policy-dialog.ts,
// row-actions.ts; the policy's fields are ../policy.

import * as ipc from "../../ipc";
import { byId, showText } from "../../dom";
import { AddForm } from "./add-form";
import { EditDialog } from "./edit-dialog";
import { MARKUP } from "./markup";
import { UserList, nextExpiry } from "./model";
import { createPage } from "./page";
import { PolicyDialog } from "./policy-dialog";
import { removeUser, setEnabled } from "./row-actions";
import { UsersTable } from "./table";

export interface UsersViewHandle {
  /** Called when the view is opened: reloads the list. */
  show(): void;
  /** Another view is shown. */
  hide(): void;
  ready: Promise<void>;
}

/** How long after an expiry the list is read again (the server's clock and ours may differ a little). */
const AFTER_EXPIRY = 1000;
/** The longest timeout a browser keeps (2^31 - 1 ms, some 24 days). */
const LONGEST_TIMEOUT = 2 ** 31 - 1;

export function mountUsers(section: HTMLElement): UsersViewHandle {
  section.innerHTML = MARKUP;
  const list = new UserList();
  const banner = byId("keyring-error", section);
  const error = byId("users-error", section);
  const home = byId<HTMLInputElement>("new-user-name", section);
  let shown = false;
  let expiryTimer: number | null = null;
  const page = createPage({ list, banner, error, home }, (result) => {
    showText(banner, result.keyringError);
    if (list.take(result)) table.draw(list.users);
    followExpiry();
  });
  // The rows' buttons open the dialogs, which put focus back on a row's button.
  const table: UsersTable = new UsersTable(section, home, {
    setEnabled: (name, box) => void setEnabled(page, name, box),
    edit: (kind, name) => editor.open(kind, name),
    limits: (user) => limits.open(user),
    remove: (name) => void removeUser(section, page, name),
  });
  const editor = new EditDialog(section, page, table);
  const limits = new PolicyDialog(section, page, table);
  new AddForm(section, page);

  async function refresh(): Promise<void> {
    try {
      await page.apply(ipc.listUsers());
    } catch (reason) {
      page.refuse(reason, error);
    }
  }

  /** While shown, reads the list again when the next user expires, so its row says so. */
  function followExpiry(): void {
    if (expiryTimer !== null) window.clearTimeout(expiryTimer);
    expiryTimer = null;
    const next = shown ? nextExpiry(list.users, Date.now()) : null;
    if (next === null) return;
    const wait = Math.min(next - Date.now() + AFTER_EXPIRY, LONGEST_TIMEOUT);
    expiryTimer = window.setTimeout(() => {
      expiryTimer = null;
      void refresh();
    }, wait);
  }

  const ready = refresh();
  return {
    show() {
      shown = true;
      void refresh();
    },
    hide() {
      shown = false;
      followExpiry();
    },
    ready,
  };
}
