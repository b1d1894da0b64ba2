// The dashboard's "use it" card: the address to give a program, with its
// Copy button, and the how-tos (one details element per program), rebuilt
// only when the address or whether passwords are required changes.

import { byId, setHidden, setText } from "../../dom";
import { t } from "../../i18n";
import { codeOf, copyButton } from "../offer";
import { howTos } from "./howto";

export class UseCard {
  private readonly stopped: HTMLElement;
  private readonly running: HTMLElement;
  private readonly address: HTMLElement;
  private readonly copySlot: HTMLElement;
  private readonly passwordsNote: HTMLElement;
  private readonly list: HTMLElement;
  private shown = "";

  constructor(
    section: HTMLElement,
    private readonly say: (words: string) => void,
  ) {
    this.stopped = byId("use-stopped", section);
    this.running = byId("use-running", section);
    this.address = byId("proxy-address", section);
    this.copySlot = byId("proxy-address-copy", section);
    this.passwordsNote = byId("use-passwords", section);
    this.list = byId("howtos", section);
  }

  /** Shows the address (null while the server does not run) and the steps for it. */
  draw(address: string | null, passwords: boolean): void {
    setHidden(this.stopped, address !== null);
    setHidden(this.running, address === null);
    if (address === null) return;
    const key = `${address} ${passwords}`;
    if (key === this.shown) return;
    this.shown = key;
    setText(this.address, address);
    const copy = copyButton(address, this.say);
    copy.id = "proxy-address-copy-button";
    this.copySlot.replaceChildren(copy);
    setHidden(this.passwordsNote, !passwords);
    // Which how-tos are open survives a rebuild.
    const open = new Set(Array.from(this.list.querySelectorAll<HTMLDetailsElement>("details[open]")).map((d) => d.dataset.program));
    this.list.replaceChildren(
      ...howTos(address, passwords).map((howto) => {
        const details = document.createElement("details");
        details.className = "howto";
        details.dataset.program = howto.program;
        details.open = open.has(howto.program);
        const summary = document.createElement("summary");
        summary.textContent = t("status.howtoFor", { program: howto.title });
        details.append(summary);
        for (const step of howto.steps) {
          const p = document.createElement("p");
          p.textContent = step;
          details.append(p);
        }
        for (const command of howto.commands) {
          const p = document.createElement("p");
          p.className = "command";
          p.append(codeOf(command, "command"), " ", copyButton(command, this.say));
          details.append(p);
        }
        return details;
      }),
    );
  }
}
