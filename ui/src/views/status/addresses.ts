// The address lists: where the server listens, and, while sharing, what
// other devices use at each address: with HTTP served, the setup page URL
// with its QR code (a phone's camera opens the page, which gives the steps)
// and the PAC URL; always the proxy address. Each has a Copy button; a list
// is rebuilt only when what it shows changes.

import { byId, setHidden, setText } from "../../dom";
import { codeOf, copyButton, qrFigure } from "../offer";
import { t } from "../../i18n";
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
    setText(this.intro, t(http ? "status.shareIntroHttp" : "status.shareIntroSocks"));
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
    item.append(codeOf(address, "address"), " ", this.copyButton(address));
    return item;
  }

  private shareItem(address: string, http: boolean): HTMLLIElement {
    const item = document.createElement("li");
    item.dataset.address = address;
    const links = document.createElement("dl");
    links.className = "share-links";
    if (http) {
      const { setup, pac } = shareLinks(address);
      item.append(qrFigure(this.qr, setup));
      this.linkRow(links, t("status.setupUrl"), setup, "setup-url");
      this.linkRow(links, t("status.pacUrl"), pac, "pac-url");
    }
    this.linkRow(links, t(http ? "status.proxyAddressBoth" : "status.socksAddress"), address, "address");
    item.append(links);
    return item;
  }

  private linkRow(list: HTMLDListElement, label: string, text: string, className: string): void {
    const term = document.createElement("dt");
    term.textContent = label;
    const value = document.createElement("dd");
    value.append(codeOf(text, className), " ", this.copyButton(text));
    list.append(term, value);
  }

  private copyButton(text: string): HTMLButtonElement {
    return copyButton(text, (words) => {
      this.notice.textContent = words;
    });
  }
}
