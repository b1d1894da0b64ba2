// Draws the status view from its model: the state, the Start/Stop button,
// the reason of a failure, the open-proxy warning, the address lists and
// the devices that opened the setup page.
// Each write happens only when what it writes differs.

import { byId, setHidden, setText, showText } from "../../dom";
import type { Status } from "../../ipc";
import { AddressLists } from "./addresses";
import { stateLabel, type ServerStatus } from "./model";
import { VisitList } from "./visits";

export class StatusScreen {
  readonly toggle: HTMLButtonElement;
  readonly visits: VisitList;
  private readonly stateText: HTMLElement;
  private readonly errorText: HTMLElement;
  private readonly warningBlock: HTMLElement;
  private readonly addresses: AddressLists;

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
  }

  drawToggle(): void {
    const { toggle, model } = this;
    setText(toggle, model.running() ? "Stop" : "Start");
    const disabled = !model.canToggle();
    if (toggle.disabled !== disabled) toggle.disabled = disabled;
    if (model.busy) toggle.setAttribute("aria-busy", "true");
    else if (toggle.hasAttribute("aria-busy")) toggle.removeAttribute("aria-busy");
  }

  drawError(): void {
    showText(this.errorText, this.model.errorText());
  }
}
