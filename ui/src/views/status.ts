// The status view: the server's state, a start/stop button, the addresses it
// listens on and, while sharing, the addresses (and QR codes) for other
// devices. It redraws only when the Status it is given differs from the last.

import * as ipc from "../ipc";
import type { Status } from "../ipc";
import { byId, flashLabel, showText } from "../dom";
import { messageOf } from "../errors";

export const OPEN_WARNING_TEXT = "Anyone on your network can use this proxy without a password";

const STATE_LABELS: Record<Status["state"], string> = {
  stopped: "Stopped",
  running: "Running",
  failed: "Failed",
};

const MARKUP = `
  <h2 id="status-title">Server</h2>
  <div class="state-row">
    <p class="state-line">Proxy server:
      <strong id="server-state" class="state" aria-live="polite">…</strong></p>
    <button id="server-toggle" type="button" class="primary" disabled aria-describedby="server-state">Start</button>
  </div>
  <p id="server-error" class="message error" role="alert" hidden></p>
  <div id="open-warning-block" class="message warning" hidden>
    <p id="open-warning" role="alert">${OPEN_WARNING_TEXT}</p>
    <p id="open-warning-advice">To close it, turn on “Require a password” in Settings and add a user, or stop sharing on your network.</p>
  </div>
  <section id="listening-block" aria-labelledby="listening-title" hidden>
    <h3 id="listening-title">Listening on</h3>
    <ul id="listening" class="addresses"></ul>
  </section>
  <section id="share-block" aria-labelledby="share-title" hidden>
    <h3 id="share-title">Use it from other devices</h3>
    <p class="muted">Set a device's SOCKS proxy to one of these addresses, or scan its code.</p>
    <ul id="share-addresses" class="addresses share"></ul>
  </section>
  <p id="status-notice" class="notice" role="status"></p>
`;

export interface StatusView {
  /** Shows a Status (from a call or the status-changed event); does nothing when unchanged. */
  apply(status: Status): void;
  /** The Status on screen, or null before the first one. */
  current(): Status | null;
  /** Resolves once the first status has been asked for and the event subscribed. */
  ready: Promise<void>;
}

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

export function mountStatus(section: HTMLElement): StatusView {
  section.innerHTML = MARKUP;
  const stateText = byId(`server-state`, section);
  const toggle = byId<HTMLButtonElement>("server-toggle", section);
  const errorText = byId("server-error", section);
  const warningBlock = byId("open-warning-block", section);
  const listeningBlock = byId("listening-block", section);
  const listening = byId<HTMLUListElement>("listening", section);
  const shareBlock = byId("share-block", section);
  const share = byId<HTMLUListElement>("share-addresses", section);
  const notice = byId("status-notice", section);

  let current: Status | null = null;
  let lastKey = "";
  let busy = false;
  let loaded = false;
  let callError: string | null = null;
  let eventsSeen = 0;
  const qrCache = new Map<string, string>();

  function updateToggle(): void {
    const running = current?.state === "running";
    const label = running ? "Stop" : "Start";
    if (toggle.textContent !== label) toggle.textContent = label;
    if (toggle.disabled !== (busy || !loaded)) toggle.disabled = busy || !loaded;
    if (busy) toggle.setAttribute("aria-busy", "true");
    else if (toggle.hasAttribute("aria-busy")) toggle.removeAttribute("aria-busy");
  }

  function updateError(): void {
    const reason = current?.error ?? callError;
    showText(errorText, reason && reason.trim() !== "" ? reason : null);
  }

  function copyButton(address: string): HTMLButtonElement {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", `Copy ${address}`);
    button.addEventListener("click", () => {
      ipc.copyText(address).then(
        () => {
          flashLabel(button, "Copied");
          notice.textContent = `Copied ${address}.`;
        },
        (reason: unknown) => {
          notice.textContent = `Could not copy ${address}: ${messageOf(reason)}`;
        },
      );
    });
    return button;
  }

  function addressItem(address: string): HTMLLIElement {
    const item = document.createElement("li");
    item.dataset.address = address;
    const code = document.createElement("code");
    code.className = "address";
    code.textContent = address;
    item.append(code, " ", copyButton(address));
    return item;
  }

  function showQr(box: HTMLElement, url: string): void {
    const label = `QR code for ${url}`;
    const cached = qrCache.get(url);
    if (cached !== undefined) {
      insertSvg(box, cached, label);
      return;
    }
    box.textContent = "Making the QR code…";
    ipc.qrCode(url).then(
      (svg) => {
        if (typeof svg !== "string") throw new Error("The QR code came back empty.");
        qrCache.set(url, svg);
        insertSvg(box, svg, label);
      },
      (reason: unknown) => {
        box.textContent = `No QR code: ${messageOf(reason)}`;
      },
    );
  }

  function shareItem(address: string): HTMLLIElement {
    const item = addressItem(address);
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
    showQr(box, url);
    return item;
  }

  function renderList(list: HTMLUListElement, addresses: string[], make: (a: string) => HTMLLIElement): void {
    const shown = Array.from(list.children).map((li) => (li as HTMLElement).dataset.address ?? "");
    if (shown.length === addresses.length && shown.every((a, i) => a === addresses[i])) return;
    list.replaceChildren(...addresses.map(make));
  }

  function render(status: Status): void {
    const label = STATE_LABELS[status.state] ?? "Stopped";
    if (stateText.textContent !== label) stateText.textContent = label;
    if (stateText.dataset.state !== status.state) stateText.dataset.state = status.state;
    updateToggle();
    updateError();
    if (warningBlock.hidden !== !status.openWarning) warningBlock.hidden = !status.openWarning;

    const addresses = Array.isArray(status.listening) ? status.listening : [];
    renderList(listening, addresses, addressItem);
    if (listeningBlock.hidden !== (addresses.length === 0)) listeningBlock.hidden = addresses.length === 0;

    const shared = Array.isArray(status.shareAddresses) ? status.shareAddresses : [];
    renderList(share, shared, shareItem);
    if (shareBlock.hidden !== (shared.length === 0)) shareBlock.hidden = shared.length === 0;
  }

  function apply(status: Status): void {
    const key = JSON.stringify(status);
    current = status;
    callError = null;
    loaded = true;
    if (key === lastKey) {
      updateError();
      return;
    }
    lastKey = key;
    render(status);
  }

  toggle.addEventListener("click", () => {
    if (busy || !loaded) return;
    const call = current?.state === "running" ? ipc.stopServer : ipc.startServer;
    busy = true;
    updateToggle();
    call()
      .then(apply, (reason: unknown) => {
        callError = messageOf(reason);
        updateError();
      })
      .finally(() => {
        busy = false;
        updateToggle();
      });
  });

  const ready = (async () => {
    try {
      await ipc.onStatusChanged((status) => {
        eventsSeen += 1;
        apply(status);
      });
    } catch (reason) {
      // Outside the app (a plain browser) there are no events; the calls say why.
      console.warn("status events unavailable:", messageOf(reason));
    }
    const seenBefore = eventsSeen;
    try {
      const status = await ipc.serverStatus();
      // An event that arrived meanwhile is newer than this answer.
      if (eventsSeen === seenBefore && status) apply(status);
    } catch (reason) {
      callError = `The server's state cannot be read: ${messageOf(reason)}`;
      updateError();
    }
    loaded = true;
    updateToggle();
  })();

  return { apply, current: () => current, ready };
}
