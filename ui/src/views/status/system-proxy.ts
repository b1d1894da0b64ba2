// The system proxy section of the status view: the "Use as system proxy"
// switch, which desktop was found and what it gets (or why there is none,
// the switch disabled), why a change failed, that the user's own settings
// were put back at this start, and, while the terminals' file is written,
// the line a shell profile needs. The state comes from the app
// (system_proxy_status, then the system-proxy-changed event, which the
// tray's check item and a server stop send too); the switch waits for the
// app's answer before it shows a change.

import * as ipc from "../../ipc";
import type { SystemProxy } from "../../ipc";
import { byId, setHidden, setText, showText } from "../../dom";
import { messageOf } from "../../errors";
import { codeOf, copyButton } from "../offer";
import { t } from "../../i18n";

/** What the section says of the toggle's state: the desktop and what it gets, or why there is none. No DOM. */
export function systemProxyDescription(status: SystemProxy): string {
  const desktop = status.desktop;
  if (desktop === null) return t("status.sysUnsupported");
  const protocols = status.protocols ?? "";
  return status.on && status.address !== null
    ? t("status.sysPointed", { desktop, address: status.address, protocols })
    : t("status.sysOffers", { desktop, protocols });
}

export class SystemProxySection {
  private current: SystemProxy | null = null;
  /** A change is on its way. */
  private busy = false;
  /** Why the last change asked for was refused (the state's own error goes second). */
  private callError: string | null = null;
  /** Events received, so that an answer older than one is dropped. */
  private eventsSeen = 0;
  private shownLine = "";
  private readonly toggle: HTMLInputElement;
  private readonly description: HTMLElement;
  private readonly error: HTMLElement;
  private readonly recovered: HTMLElement;
  private readonly env: HTMLElement;
  private readonly envFile: HTMLElement;
  private readonly envLine: HTMLUListElement;

  constructor(
    section: HTMLElement,
    private readonly say: (words: string) => void,
  ) {
    this.toggle = byId<HTMLInputElement>("system-proxy-toggle", section);
    this.description = byId("system-proxy-desktop", section);
    this.error = byId("system-proxy-error", section);
    this.recovered = byId("system-proxy-recovered", section);
    this.env = byId("system-proxy-env", section);
    this.envFile = byId("system-proxy-env-path", section);
    this.envLine = byId<HTMLUListElement>("system-proxy-env-line", section);
    this.toggle.addEventListener("change", () => this.change(this.toggle.checked));
  }

  /** Reads the state and follows its changes; resolves once the first state is asked for. */
  async start(): Promise<void> {
    try {
      await ipc.onSystemProxyChanged((status) => {
        this.eventsSeen += 1;
        this.take(status);
      });
    } catch (reason) {
      console.warn("system proxy events unavailable:", messageOf(reason));
    }
    const seenBefore = this.eventsSeen;
    try {
      const status = await ipc.systemProxyStatus();
      if (this.eventsSeen === seenBefore && status) this.take(status);
    } catch (reason) {
      this.callError = t("status.sysFailed", { reason: messageOf(reason) });
      this.draw();
    }
  }

  /** Shows a state (from a call or the event). */
  take(status: SystemProxy): void {
    this.current = status;
    this.draw();
  }

  private change(on: boolean): void {
    if (this.busy || this.current?.desktop == null) {
      this.draw();
      return;
    }
    this.busy = true;
    this.callError = null;
    this.draw();
    ipc
      .setSystemProxy(on)
      .then(
        (status) => this.take(status),
        (reason: unknown) => {
          this.callError = messageOf(reason);
        },
      )
      .finally(() => {
        this.busy = false;
        this.draw();
      });
  }

  private draw(): void {
    const status = this.current;
    const { toggle } = this;
    // Until the app answers, the switch shows what is, not what was asked.
    const on = status?.on ?? false;
    if (toggle.checked !== on) toggle.checked = on;
    const disabled = this.busy || status === null || status.desktop === null;
    if (toggle.disabled !== disabled) toggle.disabled = disabled;
    if (this.busy) toggle.setAttribute("aria-busy", "true");
    else if (toggle.hasAttribute("aria-busy")) toggle.removeAttribute("aria-busy");
    setText(this.description, status ? systemProxyDescription(status) : "");
    showText(this.error, this.callError ?? status?.error ?? null);
    setHidden(this.recovered, !(status?.recovered ?? false));
    const written = status?.envWritten ?? false;
    setHidden(this.env, !written);
    if (status && written) {
      setText(this.envFile, status.envFile);
      this.drawLine(status.envLine);
    }
  }

  private drawLine(line: string): void {
    if (this.shownLine === line) return;
    this.shownLine = line;
    const item = document.createElement("li");
    item.append(codeOf(line, "env-line"), " ", copyButton(line, this.say, "the line"));
    this.envLine.replaceChildren(item);
  }
}
