// The address lists: where the server listens, and, while sharing, what
// other devices use at each address: with HTTP served, the setup page URL
// with its QR code (a phone's camera opens the page, which gives the steps)
// and the PAC URL; always the proxy address. Each has a Copy button; a list
// is rebuilt only when what it shows changes.

import * as ipc from "../../ipc";
import { byId, flashLabel, setHidden, setText } from "../../dom";
import { messageOf } from "../../errors";
import { SHARE_INTRO_HTTP, SHARE_INTRO_SOCKS } from "./markup";
import { QrCodes } from "./qr";
import { shareLinks } from "./share";

export class AddressLists {
  private readonly qr = new QrCodes();
  private readonly listening: HTMLUListElement;
  private readonly listeningBlock: HTMLElement;
  private readonly share: HTMLUListElement;
  private readonly shareBlock: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly httpOff: HTMLElement;
  private readonly notice: HTMLElement;

  constructor(section: HTMLElement) {
    this.listening = byId<HTMLUListElement>("listening", section);
    this.listeningBlock = byId("listening-block", section);
    this.share = byId<HTMLUListElement>("share-addresses", section);
    this.shareBlock = byId("share-block", section);
    this.intro = byId("share-intro", section);
    this.httpOff = byId("http-off-note", section);
    this.notice = byId("status-notice", section);
  }

  /** Shows these lists (the share list with HTTP's URLs or without); an empty list's block is hidden. */
  draw(listening: string[], shared: string[], http: boolean): void {
    this.drawList(this.listening, listening.map((a) => [a, () => this.addressItem(a)]));
    setHidden(this.listeningBlock, listening.length === 0);
    this.drawList(this.share, shared.map((a) => [`${a} ${http ? "http" : "socks"}`, () => this.shareItem(a, http)]));
    setHidden(this.shareBlock, shared.length === 0);
    setText(this.intro, http ? SHARE_INTRO_HTTP : SHARE_INTRO_SOCKS);
    setHidden(this.httpOff, http);
  }

  /** Replaces the list's items unless it shows these keys already. */
  private drawList(list: HTMLUListElement, items: [string, () => HTMLLIElement][]): void {
    const shown = Array.from(list.children).map((li) => (li as HTMLElement).dataset.key ?? "");
    if (shown.length === items.length && shown.every((key, i) => key === items[i]?.[0])) return;
    const made = items.map(([key, make]) => {
      const item = make();
      item.dataset.key = key;
      return item;
    });
    list.replaceChildren(...made);
  }

  private addressItem(address: string): HTMLLIElement {
    const item = document.createElement("li");
    item.append(this.code(address, "address"), " ", this.copyButton(address));
    return item;
  }

  private shareItem(address: string, http: boolean): HTMLLIElement {
    const item = document.createElement("li");
    item.dataset.address = address;
    const links = document.createElement("dl");
    links.className = "share-links";
    if (http) {
      const { setup, pac } = shareLinks(address);
      item.append(this.qrFigure(setup));
      this.linkRow(links, "Setup page", setup, "setup-url");
      this.linkRow(links, "PAC URL (automatic proxy setting)", pac, "pac-url");
    }
    this.linkRow(links, http ? "Proxy address (SOCKS or HTTP)" : "SOCKS address", address, "address");
    item.append(links);
    return item;
  }

  private qrFigure(url: string): HTMLElement {
    const figure = document.createElement("figure");
    figure.className = "qr-figure";
    const box = document.createElement("div");
    box.className = "qr";
    box.dataset.url = url;
    const caption = document.createElement("figcaption");
    caption.textContent = "Scan to open the setup page";
    figure.append(box, caption);
    this.qr.show(box, url);
    return figure;
  }

  private linkRow(list: HTMLDListElement, label: string, text: string, className: string): void {
    const term = document.createElement("dt");
    term.textContent = label;
    const value = document.createElement("dd");
    value.append(this.code(text, className), " ", this.copyButton(text));
    list.append(term, value);
  }

  private code(text: string, className: string): HTMLElement {
    const code = document.createElement("code");
    code.className = className;
    code.textContent = text;
    return code;
  }

  private copyButton(text: string): HTMLButtonElement {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", `Copy ${text}`);
    button.addEventListener("click", () => {
      ipc.copyText(text).then(
        () => {
          flashLabel(button, "Copied");
          this.notice.textContent = `Copied ${text}.`;
        },
        (reason: unknown) => {
          this.notice.textContent = `Could not copy ${text}: ${messageOf(reason)}`;
        },
      );
    });
    return button;
  }
}
