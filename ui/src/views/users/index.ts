// The users view: the proxy's users (names here, passwords in the system
// keyring), each with its state, its limits and its use, with add, rename,
// set password, limits, enable/disable and delete; and guest passes, made
// in their dialog and revoked one by one or all at once.
//
// The parts: model.ts (the list and the checks, no DOM), page.ts (what the
// parts share), table.ts, add-form.ts, edit-dialog.ts, policy-dialog.ts,
// row-actions.ts, guest.ts (a guest pass's checks and words, no DOM),
// guest-passes.ts, guest-dialog.ts and guest-card.ts; the policy's fields
// are ../policy, the use's words ../../usage.ts.

import * as ipc from "../../ipc";
import type { User } from "../../ipc";
import { byId, showText } from "../../dom";
import { messageOf } from "../../errors";
import { Follow } from "../follow";
import { AddForm } from "./add-form";
import { EditDialog } from "./edit-dialog";
import { GuestPasses } from "./guest-passes";
import { markup } from "./markup";
import { UserList, nextExpiry } from "./model";
import { createPage } from "./page";
import { PolicyDialog } from "./policy-dialog";
import { removeUser, revokeGuest, setEnabled } from "./row-actions";
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
/** How often each user's use is read while the view is shown (the sampler reads it once a second). */
export const USE_EVERY = 1000;

export function mountUsers(section: HTMLElement): UsersViewHandle {
  section.innerHTML = markup();
  const list = new UserList();
  const banner = byId("keyring-error", section);
  const error = byId("users-error", section);
  const home = byId<HTMLInputElement>("new-user-name", section);
  const page = createPage({ list, banner, error, home }, (result) => {
    showText(banner, result.keyringError);
    if (list.take(result)) {
      table.draw(list.users);
      guests.update(list.users);
    }
    expiry.follow(list.users);
  });
  // The rows' buttons open the dialogs, which put focus back on a row's button.
  const table: UsersTable = new UsersTable(section, home, {
    setEnabled: (name, box) => void setEnabled(page, name, box),
    edit: (kind, name) => editor.open(kind, name),
    limits: (user) => limits.open(user),
    remove: (name) => void removeUser(section, page, name),
    revoke: (name) => void revokeGuest(section, page, name),
  });
  const editor = new EditDialog(section, page, table);
  const limits = new PolicyDialog(section, page, table);
  const guests = new GuestPasses(section, page);
  new AddForm(section, page);
  const use = new Follow(() => showUse(table), USE_EVERY);
  const refresh = async (): Promise<void> => {
    try {
      await page.apply(ipc.listUsers());
    } catch (reason) {
      page.refuse(reason, error);
    }
  };
  const expiry = new ExpiryFollow(refresh);
  followChanges(refresh);

  const ready = refresh();
  return {
    show() {
      expiry.shown = true;
      void refresh();
      use.show();
    },
    hide() {
      expiry.shown = false;
      expiry.follow(list.users);
      use.hide();
    },
    ready,
  };
}

/** While the view is shown, reads the list again when the next user expires, so its row says so. */
class ExpiryFollow {
  shown = false;
  private timer: number | null = null;

  constructor(private readonly refresh: () => Promise<void>) {}

  /** Sets the timer for the next expiry among these users (none while hidden). */
  follow(users: readonly User[]): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    const next = this.shown ? nextExpiry(users, Date.now()) : null;
    if (next === null) return;
    const wait = Math.min(next - Date.now() + AFTER_EXPIRY, LONGEST_TIMEOUT);
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, wait);
  }
}

/** Reads the list again whenever the users change elsewhere (a guest pass revoked from the tray). */
function followChanges(refresh: () => Promise<void>): void {
  Promise.resolve(ipc.onUsersChanged(() => void refresh())).catch((reason: unknown) => {
    // Outside the app (a plain browser) there are no events.
    console.warn("users events unavailable:", messageOf(reason));
  });
}

/** Reads each user's use and shows it in the table; a failed read shows none. */
async function showUse(table: UsersTable): Promise<void> {
  try {
    const use = await ipc.listUsage();
    table.showUse(Array.isArray(use?.owners) ? use.owners : [], use?.running === true);
  } catch (reason) {
    console.warn("the use cannot be read:", messageOf(reason));
    table.showUse([], false);
  }
}
