// The card of a guest pass just made, inside the guest pass dialog: when it
// ends, the user name and password, the proxy's addresses for SOCKS5 and
// HTTP, each with a Copy button, the setup page's QR code when other
// devices can reach it, what to look out for, and Copy all. Cleared when
// the dialog closes, so the password stays on screen no longer.

import * as ipc from "../../ipc";
import type { NewGuestPass } from "../../ipc";
import { byId, flashLabel, setText, showText } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import { codeOf, copyButton, qrFigure } from "../offer";
import { QrCodes } from "../status/qr";
import { cardLines, cardWarnings, copyAllText, endsText, setupUrl } from "./guest";

export class GuestCard {
  private readonly qr = new QrCodes();
  private readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly ends: HTMLElement;
  private readonly lines: HTMLElement;
  private readonly code: HTMLElement;
  private readonly warnings: HTMLElement;
  private readonly notice: HTMLElement;
  private readonly copyAll: HTMLButtonElement;
  private made: NewGuestPass | null = null;

  constructor(section: HTMLElement) {
    this.root = byId("guest-card", section);
    this.title = byId("guest-card-title", section);
    this.ends = byId("guest-card-ends", section);
    this.lines = byId("guest-credentials", section);
    this.code = byId("guest-qr", section);
    this.warnings = byId("guest-warnings", section);
    this.notice = byId("guest-notice", section);
    this.copyAll = byId<HTMLButtonElement>("guest-copy-all", section);
    this.copyAll.addEventListener("click", () => this.copyEverything());
  }

  /** Shows the card of a pass just made. */
  show(made: NewGuestPass): void {
    this.made = made;
    setText(this.title, t("guest.cardTitle", { name: made.pass.name }));
    setText(this.ends, endsText(made));
    const say = (text: string): void => showText(this.notice, text);
    this.lines.replaceChildren(
      ...cardLines(made).flatMap((line) => {
        const term = document.createElement("dt");
        term.textContent = line.label;
        const value = document.createElement("dd");
        value.append(codeOf(line.value, line.cls), " ", copyButton(line.value, say, line.copy));
        return [term, value];
      }),
    );
    const setup = setupUrl(made);
    this.code.replaceChildren(...(setup === null ? [] : [qrFigure(this.qr, setup, t("guest.scan", { name: made.pass.name }))]));
    const warnings = cardWarnings(made);
    this.warnings.replaceChildren(
      ...warnings.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
    this.warnings.hidden = warnings.length === 0;
    showText(this.notice, null);
    this.root.hidden = false;
  }

  /** Forgets the pass shown (its password leaves the page). */
  clear(): void {
    this.made = null;
    this.root.hidden = true;
    this.lines.replaceChildren();
    this.code.replaceChildren();
    showText(this.notice, null);
  }

  private copyEverything(): void {
    if (this.made === null) return;
    ipc.copyText(copyAllText(this.made)).then(
      () => {
        flashLabel(this.copyAll, t("common.copied"));
        showText(this.notice, t("guest.copiedAll"));
      },
      (reason: unknown) => showText(this.notice, t("guest.copyAllFailed", { reason: messageOf(reason) })),
    );
  }
}
