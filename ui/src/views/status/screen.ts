// Draws the status view from its model: the state, the Start/Stop button,
// the reason of a failure, the open-proxy warning, the address lists and
// the devices that opened the setup page.
// Each write happens only when what it writes differs.

import { byId, setHidden, setText, showText } from "../../dom";
import { t } from "../../i18n";
import type { Status } from "../../ipc";
import { codeOf, copyButton } from "../offer";
import { AddressLists } from "./addresses";
import type { Attention } from "./attention";
import { stateLabel, type ServerStatus } from "./model";
import { VisitList } from "./visits";

export class StatusScreen {
  readonly toggle: HTMLButtonElement;
  readonly visits: VisitList;
  private readonly stateText: HTMLElement;
  private readonly errorText: HTMLElement;
  private readonly warningBlock: HTMLElement;
  private readonly addresses: AddressLists;
  private readonly lanState: HTMLElement;
  private readonly firewallBlock: HTMLElement;
  private readonly firewallList: HTMLElement;
  readonly firewallAgain: HTMLButtonElement;
  private firewallShown = "";

  constructor(
    section: HTMLElement,
    private readonly model: ServerStatus,
  ) {
    this.stateText = byId("server-state", section);
    this.toggle = byId<HTMLButtonElement>("server-toggle", section);
    this.errorText = byId("server-error", section);
    this.warningBlock = byId("open-warning-block", section);
    this.addresses = new AddressLists(section);
    this.visits = new VisitList(section);
    this.lanState = byId("lan-state", section);
    this.firewallBlock = byId("firewall-block", section);
    this.firewallList = byId("firewall-warnings", section);
    this.firewallAgain = byId<HTMLButtonElement>("firewall-again", section);
    this.say = (words) => {
      byId("status-notice", section).textContent = words;
    };
  }

  private readonly say: (words: string) => void;

  /** The firewall's warnings (none hides them); busy while a check is on its way. */
  drawFirewall(items: Attention[], busy: boolean): void {
    this.firewallAgain.disabled = busy;
    if (busy) this.firewallAgain.setAttribute("aria-busy", "true");
    else this.firewallAgain.removeAttribute("aria-busy");
    const key = JSON.stringify(items);
    if (key === this.firewallShown) return;
    this.firewallShown = key;
    setHidden(this.firewallBlock, items.length === 0);
    this.firewallList.replaceChildren(
      ...items.map((item) => {
        const li = document.createElement("li");
        li.dataset.kind = item.kind;
        li.append(item.text);
        if (item.command) {
          const line = document.createElement("p");
          line.className = "command";
          line.append(t("status.firewallFix"), " ", codeOf(item.command, "fix"), " ", copyButton(item.command, this.say));
          li.append(line);
        }
        return li;
      }),
    );
  }

  draw(status: Status): void {
    setText(this.stateText, stateLabel(status.state));
    if (this.stateText.dataset.state !== status.state) this.stateText.dataset.state = status.state;
    this.drawToggle();
    this.drawError();
    const running = status.state === "running" ? status : null;
    setHidden(this.warningBlock, !running?.openWarning);
    const shared = running?.shareAddresses ?? [];
    const http = running?.servesHttp ?? false;
    this.addresses.draw(running?.listening ?? [], shared, http);
    this.visits.setApplies(shared.length > 0 && http);
    const sharing = shared.length > 0;
    this.lanState.dataset.sharing = String(sharing);
    setText(this.lanState, t(running ? (sharing ? "status.lanOn" : "status.lanOff") : "status.lanStopped"));
  }

  drawToggle(): void {
    const { toggle, model } = this;
    setText(toggle, t(model.running() ? "status.stop" : "status.start"));
    toggle.dataset.running = String(model.running());
    const disabled = !model.canToggle();
    if (toggle.disabled !== disabled) toggle.disabled = disabled;
    if (model.busy) toggle.setAttribute("aria-busy", "true");
    else if (toggle.hasAttribute("aria-busy")) toggle.removeAttribute("aria-busy");
  }

  drawError(): void {
    showText(this.errorText, this.model.errorText());
  }
}
