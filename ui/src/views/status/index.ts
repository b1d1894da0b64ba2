// The status view: the server's state, a start/stop button, the addresses it
// listens on, the "Use as system proxy" switch and, while sharing, the LAN
// sharing section: per address the setup page (with its QR code), the PAC
// URL and the proxy address, and the devices that opened the setup page
// recently. It redraws only when the Status it is given differs from the
// last; the devices come from recent_visits and then the visits-changed
// event, the system proxy's state from system_proxy_status and then the
// system-proxy-changed event.
//
// The parts: model.ts (the Status on screen and the button's state, no DOM),
// share.ts (URLs and device names, no DOM), screen.ts (drawing), addresses.ts
// and qr.ts (the lists), visits.ts (the devices), system-proxy.ts (the
// switch), markup.ts (the markup and the words).

import * as ipc from "../../ipc";
import type { Status } from "../../ipc";
import { byId } from "../../dom";
import { messageOf } from "../../errors";
import { t } from "../../i18n";
import { firewallAttention } from "./attention";
import { FirewallChecks } from "./firewall";
import { localAddress } from "./howto";
import { mountIntro } from "./intro";
import { markup } from "./markup";
import { ServerStatus } from "./model";
import { RatesCard } from "./rates";
import { StatusScreen } from "./screen";
import { SystemProxySection } from "./system-proxy";
import { UseCard } from "./use";
import { followVisits } from "./visits";

export interface StatusView {
  /** Shows a Status (from a call or the status-changed event); does nothing when unchanged. */
  apply(status: Status): void;
  /** The Status on screen, or null before the first one. */
  current(): Status | null;
  /** Resolves once the first status (and list of devices) has been asked for and the events subscribed. */
  ready: Promise<void>;
  /** The view is shown: the devices' times are kept up to date. */
  show(): void;
  /** Another view is shown. */
  hide(): void;
}

export function mountStatus(section: HTMLElement): StatusView {
  section.innerHTML = markup();
  mountIntro(section);
  const model = new ServerStatus();
  const screen = new StatusScreen(section, model);
  const notice = byId("status-notice", section);
  const say = (words: string): void => {
    notice.textContent = words;
  };
  const systemProxy = new SystemProxySection(section, say);
  const use = new UseCard(section, say);
  const rates = new RatesCard(section);
  /** Whether the proxy asks for a user and password (from the settings; read again at each status). */
  let passwords = false;
  const firewall = new FirewallChecks(
    () => ipc.firewallCheck(),
    () => screen.drawFirewall(firewallAttention(model.current, firewall.last), firewall.busy()),
  );
  screen.firewallAgain.addEventListener("click", () => firewall.again());
  // The window opens on this view: its rates follow from the start.
  if (!section.hidden && section.isConnected) rates.show();

  function drawUse(): void {
    const status = model.current;
    use.draw(status?.state === "running" ? localAddress(status.listening) : null, passwords);
  }

  function readPasswords(): void {
    Promise.resolve()
      .then(() => ipc.getSettings())
      .then(
        (loaded) => {
          passwords = loaded?.settings.passwordRequired ?? false;
          drawUse();
        },
        () => undefined, // the settings cannot be read: the steps leave the password out
      );
  }

  function apply(status: Status): void {
    if (model.take(status)) {
      screen.draw(status);
      drawUse();
      readPasswords();
      firewall.follow(status);
    } else screen.drawError();
  }

  function failed(message: string): void {
    model.callError = message;
    screen.drawError();
  }

  screen.toggle.addEventListener("click", () => {
    if (!model.canToggle()) return;
    const call = model.running() ? ipc.stopServer : ipc.startServer;
    model.busy = true;
    screen.drawToggle();
    call()
      .then(apply, (reason: unknown) => failed(messageOf(reason)))
      .finally(() => {
        model.busy = false;
        screen.drawToggle();
      });
  });

  async function start(): Promise<void> {
    await Promise.all([readStatus(), followVisits(screen.visits), systemProxy.start()]);
  }

  async function readStatus(): Promise<void> {
    try {
      await ipc.onStatusChanged((status) => {
        model.eventsSeen += 1;
        apply(status);
      });
    } catch (reason) {
      // Outside the app (a plain browser) there are no events; the calls say why.
      console.warn("status events unavailable:", messageOf(reason));
    }
    const seenBefore = model.eventsSeen;
    try {
      const status = await ipc.serverStatus();
      // An event that arrived meanwhile is newer than this answer.
      if (model.eventsSeen === seenBefore && status) apply(status);
    } catch (reason) {
      failed(t("status.readFailed", { reason: messageOf(reason) }));
    }
    model.loaded = true;
    screen.drawToggle();
  }

  return {
    apply,
    current: () => model.current,
    ready: start(),
    show: () => {
      screen.visits.setViewShown(true);
      rates.show();
    },
    hide: () => {
      screen.visits.setViewShown(false);
      rates.hide();
    },
  };
}
