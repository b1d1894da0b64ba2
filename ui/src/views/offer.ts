// What a view offers to copy into a client or a device: a value as code
// with its Copy button, and a QR code in a figure. The LAN sharing section
// (status/addresses.ts) and a guest pass's card (users/guest-card.ts) offer
// them alike.

import * as ipc from "../ipc";
import { flashLabel } from "../dom";
import { messageOf } from "../errors";
import { t } from "../i18n";
import type { QrCodes } from "./status/qr";

/** Where a Copy button says what it did: "Copied …", or why it could not. */
export type Say = (text: string) => void;

/** text as code, with its class (the tests find values by it). */
export function codeOf(text: string, className: string): HTMLElement {
  const code = document.createElement("code");
  code.className = className;
  code.textContent = text;
  return code;
}

/**
 * A button that copies text to the clipboard (its label says "Copied" for a
 * moment); say hears how it went. `what` names what it copies, for its
 * label ("Copy the password") and the notice: the text itself unless told.
 */
export function copyButton(text: string, say: Say, what = text): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = t("common.copy");
  button.setAttribute("aria-label", t("offer.copyLabel", { what }));
  button.addEventListener("click", () => {
    ipc.copyText(text).then(
      () => {
        flashLabel(button, t("common.copied"));
        say(t("offer.copied", { what }));
      },
      (reason: unknown) => say(t("offer.copyFailed", { what, reason: messageOf(reason) })),
    );
  });
  return button;
}

/** The QR code of url (made by qr), captioned. */
export function qrFigure(qr: QrCodes, url: string, caption = t("offer.scanSetup")): HTMLElement {
  const figure = document.createElement("figure");
  figure.className = "qr-figure";
  const box = document.createElement("div");
  box.className = "qr";
  box.dataset.url = url;
  const words = document.createElement("figcaption");
  words.textContent = caption;
  figure.append(box, words);
  qr.show(box, url);
  return figure;
}
