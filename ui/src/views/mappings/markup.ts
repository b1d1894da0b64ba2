// The mappings view's markup: the table of mappings, the add / edit dialog
// and the remove question. The parts and the app's WebDriver tests find
// these ids and classes: keep them.

import { errorIdFor } from "../../errors";
import { tHtml, type TextKey } from "../../i18n";
import type { MappingProtocol, MappingRoute } from "../../ipc";
import { protocolText, routeChoice } from "./model";
import { escapeHtml } from "../../dom";

/** One field of the dialog: label, control, hint and error slot. */
function fieldRow(id: string, label: TextKey, control: string, hint: TextKey): string {
  return `
      <div class="field">
        <label for="${id}">${tHtml(label)}</label>
        ${control}
        <p id="hint-${id}" class="hint">${tHtml(hint)}</p>
        <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
      </div>`;
}

function textInput(id: string, placeholder: string): string {
  return `<input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="hint-${id} ${errorIdFor(id)}">`;
}

function select<T extends string>(id: string, values: readonly T[], text: (value: T) => string): string {
  const items = values.map((value) => `<option value="${value}">${escapeHtml(text(value))}</option>`);
  return `<select id="${id}" aria-describedby="hint-${id} ${errorIdFor(id)}">${items.join("")}</select>`;
}

const PROTOCOLS: readonly MappingProtocol[] = ["tcp", "udp", "both"];
const ROUTES: readonly MappingRoute[] = ["rules", "chain", "direct"];

function fields(): string {
  return [
    fieldRow("mapping-name", "mappings.nameLabel", textInput("mapping-name", "ssh"), "mappings.nameHint"),
    fieldRow("mapping-listen", "mappings.listenLabel", textInput("mapping-listen", "127.0.0.1:2222"), "mappings.listenHint"),
    fieldRow("mapping-target", "mappings.targetLabel", textInput("mapping-target", "build.corp.example:22"), "mappings.targetHint"),
    fieldRow("mapping-protocol", "mappings.protocolLabel", select("mapping-protocol", PROTOCOLS, protocolText), "mappings.protocolHint"),
    fieldRow("mapping-route", "mappings.routeLabel", select("mapping-route", ROUTES, routeChoice), "mappings.routeHint"),
  ].join("");
}

/** The view's markup, in the page's language. */
export function markup(): string {
  return `
  <h2>${tHtml("mappings.title")}</h2>
  <p class="muted">${tHtml("mappings.intro")}</p>
  <p id="mappings-error" class="message error" role="alert" hidden></p>
  <table id="mappings-table">
    <caption>${tHtml("mappings.caption")}</caption>
    <thead>
      <tr><th scope="col">${tHtml("mappings.col.name")}</th><th scope="col">${tHtml("mappings.col.listen")}</th><th scope="col">${tHtml("mappings.col.target")}</th>
        <th scope="col">${tHtml("mappings.col.protocol")}</th><th scope="col">${tHtml("mappings.col.route")}</th><th scope="col">${tHtml("mappings.col.state")}</th><th scope="col">${tHtml("mappings.col.actions")}</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="mappings-empty" class="muted" hidden>${tHtml("mappings.empty")}</p>
  <div class="actions">
    <button type="button" id="add-mapping" class="primary">${tHtml("mappings.addTitle")}</button>
  </div>

  <dialog id="mapping-dialog" aria-labelledby="mapping-dialog-title">
    <form id="mapping-form" novalidate>
      <h2 id="mapping-dialog-title">${tHtml("mappings.addTitle")}</h2>
      ${fields()}
      <p id="mapping-dialog-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="mapping-save" class="primary">${tHtml("mappings.add")}</button>
        <button type="button" id="mapping-cancel">${tHtml("common.cancel")}</button>
      </div>
    </form>
  </dialog>

  <dialog id="confirm-remove-mapping" aria-labelledby="confirm-remove-mapping-title" aria-describedby="confirm-remove-mapping-text">
    <h2 id="confirm-remove-mapping-title">${tHtml("mappings.removeTitle")}</h2>
    <p id="confirm-remove-mapping-text"></p>
    <div class="actions">
      <button type="button" id="confirm-remove-mapping-no" class="primary">${tHtml("common.cancel")}</button>
      <button type="button" id="confirm-remove-mapping-yes" class="danger">${tHtml("common.remove")}</button>
    </div>
  </dialog>
`;
}
