// The devices view's markup: the table of devices, the add / edit dialog
// (a name, an address, a policy) and the remove question. The parts and the
// app's WebDriver tests find these ids and classes: keep them.

import { errorIdFor } from "../../errors";
import { tHtml, type TextKey } from "../../i18n";
import { policyMarkup } from "../policy/fields";
import { POLICY_PREFIX } from "./model";

function field(id: string, label: TextKey, placeholder: string, hint: TextKey): string {
  return `
      <div class="field">
        <label for="${id}">${tHtml(label)}</label>
        <input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="hint-${id} ${errorIdFor(id)}">
        <p id="hint-${id}" class="hint">${tHtml(hint)}</p>
        <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
      </div>`;
}

/** The view's markup, in the page's language. */
export function markup(): string {
  return `
  <h2>${tHtml("devices.title")}</h2>
  <p class="muted">${tHtml("devices.intro")}</p>
  <p id="devices-error" class="message error" role="alert" hidden></p>
  <table id="devices-table">
    <caption>${tHtml("devices.title")}</caption>
    <thead>
      <tr><th scope="col">${tHtml("devices.col.name")}</th><th scope="col">${tHtml("devices.col.address")}</th><th scope="col">${tHtml("devices.col.limits")}</th><th scope="col">${tHtml("devices.col.actions")}</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="devices-empty" class="muted" hidden>${tHtml("devices.empty")}</p>
  <div class="actions">
    <button type="button" id="add-device" class="primary">${tHtml("devices.addTitle")}</button>
  </div>

  <dialog id="device-dialog" class="policy-dialog" aria-labelledby="device-dialog-title">
    <form id="device-form" novalidate>
      <h2 id="device-dialog-title">${tHtml("devices.addTitle")}</h2>
      <div class="grid">
        ${field("device-name", "devices.nameLabel", "tv", "devices.nameHint")}
        ${field("device-address", "devices.addressLabel", "192.168.1.23", "devices.addressHint")}
      </div>
      ${policyMarkup(POLICY_PREFIX)}
      <p id="device-dialog-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="device-save" class="primary">${tHtml("devices.add")}</button>
        <button type="button" id="device-cancel">${tHtml("common.cancel")}</button>
      </div>
    </form>
  </dialog>

  <dialog id="confirm-remove-device" aria-labelledby="confirm-remove-device-title" aria-describedby="confirm-remove-device-text">
    <h2 id="confirm-remove-device-title">${tHtml("devices.removeTitle")}</h2>
    <p id="confirm-remove-device-text"></p>
    <div class="actions">
      <button type="button" id="confirm-remove-device-no" class="primary">${tHtml("common.cancel")}</button>
      <button type="button" id="confirm-remove-device-yes" class="danger">${tHtml("common.remove")}</button>
    </div>
  </dialog>
`;
}
