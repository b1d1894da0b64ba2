// Ending sessions from the view: one from its row's Close button, or every
// one with Close all, after asking. The notice line says how it went.

import * as ipc from "../../ipc";
import { ask, byId } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import type { LiveModel } from "../../live";

type Say = (text: string | null) => void;

/** Wires the rows' Close buttons and Close all. */
export function wireClosing(section: HTMLElement, model: LiveModel, say: Say): void {
  byId("conn-body", section).addEventListener("click", (event) => closeOne(event, say));
  const question = {
    dialog: byId<HTMLDialogElement>("confirm-close-all", section),
    text: byId("confirm-close-all-text", section),
    yes: byId<HTMLButtonElement>("confirm-close-all-yes", section),
    no: byId<HTMLButtonElement>("confirm-close-all-no", section),
  };
  byId("close-all", section).addEventListener("click", () => {
    const count = model.rows.size;
    question.text.textContent = t("conn.closeAllQuestion", { count });
    void ask(question.dialog, question.yes, question.no).then(async (yes) => {
      if (yes) await closeAll(say);
    });
  });
}

/** A click in the table: ends the session of the row whose Close button it was on. */
function closeOne(event: Event, say: Say): void {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button.close-one");
  const id = Number(button?.closest<HTMLTableRowElement>("tr")?.dataset.id);
  if (!button || !Number.isFinite(id)) return;
  button.disabled = true;
  ipc
    .closeSession(id)
    .then((closed) => say(t(closed ? "conn.closedOne" : "conn.alreadyEnded")))
    .catch((e: unknown) => {
      button.disabled = false;
      say(t("conn.closeFailed", { reason: messageOf(e) }));
    });
}

async function closeAll(say: Say): Promise<void> {
  try {
    const closed = await ipc.closeAllSessions();
    say(t("conn.closedMany", { count: closed }));
  } catch (e) {
    say(t("conn.closeAllFailed", { reason: messageOf(e) }));
  }
}
