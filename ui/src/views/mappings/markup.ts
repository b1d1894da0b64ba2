// The mappings view's markup: the table of mappings, the add / edit dialog
// and the remove question. The parts and the app's WebDriver tests find
// these ids and classes: keep them.

import { errorIdFor } from "../../errors";
import { PROTOCOL_TEXT, ROUTE_CHOICES } from "./model";

/** One field of the dialog: label, control, hint and error slot. */
function fieldRow(id: string, label: string, control: string, hint: string): string {
  return `
      <div class="field">
        <label for="${id}">${label}</label>
        ${control}
        <p id="hint-${id}" class="hint">${hint}</p>
        <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
      </div>`;
}

function textInput(id: string, placeholder: string): string {
  return `<input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="hint-${id} ${errorIdFor(id)}">`;
}

function select(id: string, options: Record<string, string>): string {
  const items = Object.entries(options).map(([value, text]) => `<option value="${value}">${text}</option>`);
  return `<select id="${id}" aria-describedby="hint-${id} ${errorIdFor(id)}">${items.join("")}</select>`;
}

const FIELDS = [
  fieldRow(
    "mapping-name",
    "Name (optional)",
    textInput("mapping-name", "ssh"),
    "Shown in Connections and the log. Without one, the mapping goes by its address and protocol.",
  ),
  fieldRow(
    "mapping-listen",
    "Listen on",
    textInput("mapping-listen", "127.0.0.1:2222"),
    "127.0.0.1 for programs on this computer; 0.0.0.0 for other devices too, when Settings lets them connect.",
  ),
  fieldRow(
    "mapping-target",
    "Destination",
    textInput("mapping-target", "build.corp.example:22"),
    "A host and a port; a name is looked up for each connection.",
  ),
  fieldRow("mapping-protocol", "Protocol", select("mapping-protocol", PROTOCOL_TEXT), "Both listen on the same port."),
  fieldRow(
    "mapping-route",
    "Route",
    select("mapping-route", ROUTE_CHOICES),
    "Through the upstream chain reaches a service behind it, such as a company gateway.",
  ),
].join("");

export const MARKUP = `
  <h2>Port mappings</h2>
  <p class="muted">A mapping is a port of this computer that always leads to one destination, for
    programs and devices that cannot use a proxy: a game server for a console, a service behind a
    company gateway. Mappings listen while the proxy runs.</p>
  <p id="mappings-error" class="message error" role="alert" hidden></p>
  <table id="mappings-table">
    <caption>Mappings</caption>
    <thead>
      <tr><th scope="col">Name</th><th scope="col">Listens on</th><th scope="col">Destination</th>
        <th scope="col">Protocol</th><th scope="col">Route</th><th scope="col">State</th><th scope="col">Actions</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="mappings-empty" class="muted" hidden>There are no mappings yet.</p>
  <div class="actions">
    <button type="button" id="add-mapping" class="primary">Add a mapping</button>
  </div>

  <dialog id="mapping-dialog" aria-labelledby="mapping-dialog-title">
    <form id="mapping-form" novalidate>
      <h2 id="mapping-dialog-title">Add a mapping</h2>
      ${FIELDS}
      <p id="mapping-dialog-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="mapping-save" class="primary">Add mapping</button>
        <button type="button" id="mapping-cancel">Cancel</button>
      </div>
    </form>
  </dialog>

  <dialog id="confirm-remove-mapping" aria-labelledby="confirm-remove-mapping-title" aria-describedby="confirm-remove-mapping-text">
    <h2 id="confirm-remove-mapping-title">Remove mapping?</h2>
    <p id="confirm-remove-mapping-text"></p>
    <div class="actions">
      <button type="button" id="confirm-remove-mapping-no" class="primary">Cancel</button>
      <button type="button" id="confirm-remove-mapping-yes" class="danger">Remove</button>
    </div>
  </dialog>
`;
