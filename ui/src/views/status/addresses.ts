// The address lists: where the server listens, and, while sharing, the
// addresses for other devices with their QR codes. Each address has a Copy
// button; a list is rebuilt only when its addresses change.

import * as ipc from "../../ipc";
import { byId, flashLabel, setHidden } from "../../dom";
import { messageOf } from "../../errors";
import { QrCodes } from "./qr";

export class AddressLists {
  private readonly qr = new QrCodes();
  private readonly listening: HTMLUListElement;
  private readonly listeningBlock: HTMLElement;
  private readonly share: HTMLUListElement;
  private readonly shareBlock: HTMLElement;
  private readonly notice: HTMLElement;

  constructor(section: HTMLElement) {
    this.listening = byId<HTMLUListElement>("listening", section);
    this.listeningBlock = byId("listening-block", section);
    this.share = byId<HTMLUListElement>("share-addresses", section);
    this.shareBlock = byId("share-block", section);
    this.notice = byId("status-notice", section);
  }

  /** Shows these lists; an empty list's block is hidden. */
  draw(listening: string[], shared: string[]): void {
    this.drawList(this.listening, listening, (a) => this.addressItem(a));
    setHidden(this.listeningBlock, listening.length === 0);
    this.drawList(this.share, shared, (a) => this.shareItem(a));
    setHidden(this.shareBlock, shared.length === 0);
  }

  private drawList(list: HTMLUListElement, addresses: string[], make: (a: string) => HTMLLIElement): void {
    const shown = Array.from(list.children).map((li) => (li as HTMLElement).dataset.address ?? "");
    if (shown.length === addresses.length && shown.every((a, i) => a === addresses[i])) return;
    list.replaceChildren(...addresses.map(make));
  }

  private addressItem(address: string): HTMLLIElement {
    const item = document.createElement("li");
    item.dataset.address = address;
    const code = document.createElement("code");
    code.className = "address";
    code.textContent = address;
    item.append(code, " ", this.copyButton(address));
    return item;
  }

  private shareItem(address: string): HTMLLIElement {
    const item = this.addressItem(address);
    const url = `socks5://${address}`;
    const figure = document.createElement("figure");
    figure.className = "qr-figure";
    const box = document.createElement("div");
    box.className = "qr";
    box.dataset.url = url;
    const caption = document.createElement("figcaption");
    caption.textContent = url;
    figure.append(box, caption);
    item.append(figure);
    this.qr.show(box, url);
    return item;
  }

  private copyButton(address: string): HTMLButtonElement {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", `Copy ${address}`);
    button.addEventListener("click", () => {
      ipc.copyText(address).then(
        () => {
          flashLabel(button, "Copied");
          this.notice.textContent = `Copied ${address}.`;
        },
        (reason: unknown) => {
          this.notice.textContent = `Could not copy ${address}: ${messageOf(reason)}`;
        },
      );
    });
    return button;
  }
}
