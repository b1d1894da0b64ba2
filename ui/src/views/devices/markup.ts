// The devices view's markup: the table of devices, the add / edit dialog
// (a name, an address, a policy) and the remove question. The parts and the
// app's WebDriver tests find these ids and classes: keep them.

import { errorIdFor } from "../../errors";
import { policyMarkup } from "../policy/fields";
import { POLICY_PREFIX } from "./model";

function field(id: string, label: string, placeholder: string, hint: string): string {
  return `
      <div class="field">
        <label for="${id}">${label}</label>
        <input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="hint-${id} ${errorIdFor(id)}">
        <p id="hint-${id}" class="hint">${hint}</p>
        <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
      </div>`;
}

export const MARKUP = `
  <h2>Devices</h2>
  <p class="muted">Limits for a device, or every device of a range, whoever uses it: for a
    network without passwords, or a child's tablet that keeps to its hours whatever user it signs
    in as. When a user's limits apply too, each must allow a connection. The first device listed
    whose address covers a client is the one that applies.</p>
  <p id="devices-error" class="message error" role="alert" hidden></p>
  <table id="devices-table">
    <caption>Devices</caption>
    <thead>
      <tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Limits</th><th scope="col">Actions</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="devices-empty" class="muted" hidden>There are no devices yet.</p>
  <div class="actions">
    <button type="button" id="add-device" class="primary">Add a device</button>
  </div>

  <dialog id="device-dialog" class="policy-dialog" aria-labelledby="device-dialog-title">
    <form id="device-form" novalidate>
      <h2 id="device-dialog-title">Add a device</h2>
      <div class="grid">
        ${field("device-name", "Name (optional)", "tv", "Shown here and in the log. Without one, the device goes by its address.")}
        ${field("device-address", "Address or range", "192.168.1.23", "One address, a range such as 192.168.1.0/24, or lan for the whole local network.")}
      </div>
      ${policyMarkup(POLICY_PREFIX)}
      <p id="device-dialog-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="device-save" class="primary">Add device</button>
        <button type="button" id="device-cancel">Cancel</button>
      </div>
    </form>
  </dialog>

  <dialog id="confirm-remove-device" aria-labelledby="confirm-remove-device-title" aria-describedby="confirm-remove-device-text">
    <h2 id="confirm-remove-device-title">Remove device?</h2>
    <p id="confirm-remove-device-text"></p>
    <div class="actions">
      <button type="button" id="confirm-remove-device-no" class="primary">Cancel</button>
      <button type="button" id="confirm-remove-device-yes" class="danger">Remove</button>
    </div>
  </dialog>
`;
