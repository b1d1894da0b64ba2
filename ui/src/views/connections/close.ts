// Ending sessions from the view: one from its row's Close button, or every
// one with Close all, after asking. The notice line says how it went.

import * as ipc from "../../ipc";
import { ask, byId } from "../../dom";
import { messageOf } from "../../errors";
import { countOf } from "../../format";
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
    question.text.textContent = `${countOf(count, "open connection")} will end at once; their clients see the connection drop.`;
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
    .then((closed) => say(closed ? "Connection closed." : "That connection had already ended."))
    .catch((e: unknown) => {
      button.disabled = false;
      say(`The connection could not be closed: ${messageOf(e)}`);
    });
}

async function closeAll(say: Say): Promise<void> {
  try {
    const closed = await ipc.closeAllSessions();
    say(`Closed ${countOf(closed, "connection")}.`);
  } catch (e) {
    say(`The connections could not be closed: ${messageOf(e)}`);
  }
}
