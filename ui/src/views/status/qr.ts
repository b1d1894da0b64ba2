// QR codes of the share addresses' socks5:// URLs, made by the Rust side as
// SVG, cleaned of anything active before they go into the page, and kept so
// that a redraw does not ask again.

import { t } from "../../i18n";
import * as ipc from "../../ipc";
import { messageOf } from "../../errors";

/** Removes anything active from SVG markup before it goes into the page. */
function insertSvg(container: HTMLElement, markup: string, label: string): void {
  container.innerHTML = markup;
  container.querySelectorAll("script, foreignObject, iframe, object, embed").forEach((n) => n.remove());
  container.querySelectorAll("*").forEach((node) => {
    for (const attr of Array.from(node.attributes)) {
      if (/^on/i.test(attr.name) || /^\s*javascript:/i.test(attr.value)) node.removeAttribute(attr.name);
    }
  });
  const svg = container.querySelector("svg");
  if (svg) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("focusable", "false");
  }
}

export class QrCodes {
  private readonly cache = new Map<string, string>();

  /** Shows the QR code of url in box: at once when made before, else once the app answers. */
  show(box: HTMLElement, url: string): void {
    const label = t("status.qrLabel", { url });
    const cached = this.cache.get(url);
    if (cached !== undefined) {
      insertSvg(box, cached, label);
      return;
    }
    box.textContent = t("status.qrMaking");
    ipc.qrCode(url).then(
      (svg) => {
        if (typeof svg !== "string") throw new Error("The QR code came back empty.");
        this.cache.set(url, svg);
        insertSvg(box, svg, label);
      },
      (reason: unknown) => {
        box.textContent = t("status.qrFailed", { reason: messageOf(reason) });
      },
    );
  }
}
