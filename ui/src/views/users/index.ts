// The users view: the proxy's users (names here, passwords in the system
// keyring), with add, rename, set password, enable/disable and delete.
//
// The parts: model.ts (the list and the checks, no DOM), page.ts (what the
// parts share), table.ts, add-form.ts, edit-dialog.ts, row-actions.ts.

import * as ipc from "../../ipc";
import { byId, showText } from "../../dom";
import { AddForm } from "./add-form";
import { EditDialog } from "./edit-dialog";
import { MARKUP } from "./markup";
import { UserList } from "./model";
import { createPage } from "./page";
import { removeUser, setEnabled } from "./row-actions";
import { UsersTable } from "./table";

export interface UsersViewHandle {
  /** Called when the view is opened: reloads the list. */
  show(): void;
  ready: Promise<void>;
}

export function mountUsers(section: HTMLElement): UsersViewHandle {
  section.innerHTML = MARKUP;
  const list = new UserList();
  const banner = byId("keyring-error", section);
  const error = byId("users-error", section);
  const home = byId<HTMLInputElement>("new-user-name", section);
  const page = createPage({ list, banner, error, home }, (result) => {
    showText(banner, result.keyringError);
    if (list.take(result)) table.draw(list.users);
  });
  // The rows' buttons open the dialog, which puts focus back on a row's button.
  const table: UsersTable = new UsersTable(section, home, {
    setEnabled: (name, box) => void setEnabled(page, name, box),
    edit: (kind, name) => editor.open(kind, name),
    remove: (name) => void removeUser(section, page, name),
  });
  const editor = new EditDialog(section, page, table);
  new AddForm(section, page);

  async function refresh(): Promise<void> {
    try {
      await page.apply(ipc.listUsers());
    } catch (reason) {
      page.refuse(reason, error);
    }
  }

  const ready = refresh();
  return {
    show() {
      void refresh();
    },
    ready,
  };
}
