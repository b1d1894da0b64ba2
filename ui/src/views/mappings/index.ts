// The mappings view: the port mappings with their state, and add, edit,
// remove, start and stop for each; every change applies to the running
// proxy at once and is saved.
//
// The parts: model.ts (the list, words and checks, no DOM), page.ts (what
// the parts share), table.ts, dialog.ts, row-actions.ts, markup.ts; and
// ../follow.ts (keeping the table current while shown).

import * as ipc from "../../ipc";
import { byId, showText } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import { MappingDialog } from "./dialog";
import { Follow } from "../follow";
import { markup } from "./markup";
import { MappingList } from "./model";
import { createPage } from "./page";
import { removeMapping, setEnabled } from "./row-actions";
import { MappingsTable } from "./table";

export interface MappingsViewHandle {
  /** The view is shown: the list is read, and kept current while shown. */
  show(): void;
  /** Another view is shown. */
  hide(): void;
  /** Resolves once the first list has been read. */
  ready: Promise<void>;
}

export function mountMappings(section: HTMLElement): MappingsViewHandle {
  section.innerHTML = markup();
  const list = new MappingList();
  const error = byId("mappings-error", section);
  const home = byId<HTMLButtonElement>("add-mapping", section);
  const page = createPage({ list, error, home }, (rows) => table.draw(rows));
  // The rows' Edit buttons open the dialog, which puts focus back on a row's button.
  const table: MappingsTable = new MappingsTable(section, home, {
    setEnabled: (row, enabled, button) => void setEnabled(page, row, enabled, button),
    edit: (row) => dialog.open(row),
    remove: (row) => void removeMapping(section, page, row),
  });
  const dialog = new MappingDialog(section, page, table);
  home.addEventListener("click", () => dialog.open(null));

  async function refresh(): Promise<void> {
    if (!page.idle()) return; // a change's answer is on its way, and newer
    try {
      await page.apply(ipc.listMappings());
    } catch (reason) {
      showText(error, t("mappings.unreadable", { reason: messageOf(reason) }));
    }
  }

  const follow = new Follow(refresh);
  void ipc.onStatusChanged(() => follow.poke())?.catch(() => undefined);
  const ready = refresh();
  return {
    show: () => follow.show(),
    hide: () => follow.hide(),
    ready,
  };
}
