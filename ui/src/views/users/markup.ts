// The users view's markup: the add form, the guest passes' buttons, the
// users table, the rename / set-password dialog, the limits (policy)
// dialog, the guest pass dialog and the delete (or revoke) question. The
// parts and the app's WebDriver tests find these ids and classes: keep
// them.

import { errorIdFor } from "../../errors";
import { tHtml, type TextKey } from "../../i18n";
import { policyMarkup } from "../policy/fields";
import { HOURS_SHORTCUTS, MAX_GIGABYTES, MAX_HOURS, guestFieldId, type GuestKey } from "./guest";

/** The prefix of the policy dialog's field ids. */
export const POLICY_PREFIX = "user-policy";

/** The view's markup, in the page's language. */
export function markup(): string {
  return `
  <h2>${tHtml("users.title")}</h2>
  <p class="muted">${tHtml("users.intro")}</p>
  <p id="keyring-error" class="message error" role="alert" hidden></p>
  <form id="add-user-form" class="add-user" novalidate>
    <h3>${tHtml("users.addTitle")}</h3>
    <div class="row">
      <div class="field">
        <label for="new-user-name">${tHtml("users.name")}</label>
        <input type="text" id="new-user-name" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="users-error">
      </div>
      <div class="field">
        <label for="new-user-password">${tHtml("users.password")}</label>
        <div class="with-button">
          <input type="password" id="new-user-password" autocomplete="new-password" aria-describedby="new-password-hint users-error">
          <button type="button" id="generate-password">${tHtml("common.generate")}</button>
        </div>
      </div>
      <button type="submit" id="add-user" class="primary">${tHtml("users.add")}</button>
    </div>
    <p id="new-password-hint" class="hint">${tHtml("users.passwordHint")}</p>
    <p id="users-error" class="field-error" role="alert" hidden></p>
  </form>
  <section id="guest-passes" class="guest-passes" aria-labelledby="guest-passes-title">
    <h3 id="guest-passes-title">${tHtml("guest.sectionTitle")}</h3>
    <p class="muted">${tHtml("guest.intro")}</p>
    <div class="row">
      <button type="button" id="guest-pass">${tHtml("guest.open")}</button>
      <button type="button" id="revoke-all-guests" class="danger" hidden>${tHtml("guest.revokeAll")}</button>
    </div>
  </section>
  <table id="users-table">
    <caption>${tHtml("users.title")}</caption>
    <thead>
      <tr><th scope="col">${tHtml("users.col.name")}</th><th scope="col">${tHtml("users.col.enabled")}</th><th scope="col">${tHtml("users.col.state")}</th>
        <th scope="col">${tHtml("users.col.limits")}</th><th scope="col">${tHtml("users.col.use")}</th><th scope="col">${tHtml("users.col.actions")}</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="users-empty" class="muted" hidden>${tHtml("users.empty")}</p>

  <dialog id="edit-user-dialog" aria-labelledby="edit-user-title">
    <form id="edit-user-form" novalidate>
      <h2 id="edit-user-title">${tHtml("users.renameUser")}</h2>
      <div class="field">
        <label for="edit-user-input" id="edit-user-label">${tHtml("users.newName")}</label>
        <div class="with-button">
          <input type="text" id="edit-user-input" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="edit-user-hint error-edit-user-input">
          <button type="button" id="edit-user-generate" hidden>${tHtml("common.generate")}</button>
        </div>
        <p id="edit-user-hint" class="hint" hidden></p>
        <p id="error-edit-user-input" class="field-error" role="alert" hidden></p>
      </div>
      <div class="actions">
        <button type="submit" id="edit-user-ok" class="primary">${tHtml("users.rename")}</button>
        <button type="button" id="edit-user-cancel">${tHtml("common.cancel")}</button>
      </div>
    </form>
  </dialog>

  <dialog id="user-policy-dialog" class="policy-dialog" aria-labelledby="user-policy-title">
    <form id="user-policy-form" novalidate>
      <h2 id="user-policy-title">${tHtml("users.limits")}</h2>
      <p class="hint">${tHtml("users.limitsHint")}</p>
      ${policyMarkup(POLICY_PREFIX)}
      <p id="user-policy-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="user-policy-save" class="primary">${tHtml("users.saveLimits")}</button>
        <button type="button" id="user-policy-cancel">${tHtml("common.cancel")}</button>
      </div>
    </form>
  </dialog>

  ${guestDialog()}

  <dialog id="confirm-delete" aria-labelledby="confirm-delete-title" aria-describedby="confirm-delete-text">
    <h2 id="confirm-delete-title">${tHtml("users.deleteTitle")}</h2>
    <p id="confirm-delete-text"></p>
    <div class="actions">
      <button type="button" id="confirm-delete-no" class="primary">${tHtml("common.cancel")}</button>
      <button type="button" id="confirm-delete-yes" class="danger">${tHtml("users.delete")}</button>
    </div>
  </dialog>
`;
}

function guestField(key: GuestKey, label: TextKey, placeholder: string, hint: string, numeric: boolean): string {
  const id = guestFieldId(key);
  const mode = numeric ? ' inputmode="decimal"' : ' spellcheck="false" autocapitalize="off"';
  return `
        <div class="field">
          <label for="${id}">${tHtml(label)}</label>
          <input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off"${mode}
            aria-describedby="hint-${id} ${errorIdFor(id)}">
          <p id="hint-${id}" class="hint">${hint}</p>
          <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
        </div>`;
}

/** The guest pass dialog: its form, then the card of the pass made. */
function guestDialog(): string {
  const shortcuts = HOURS_SHORTCUTS.map(
    ([hours, label]) => `<button type="button" class="guest-hours-in" data-hours="${hours}">${tHtml(label)}</button>`,
  ).join("");
  return `
  <dialog id="guest-dialog" class="guest-dialog" aria-labelledby="guest-title">
    <form id="guest-form" novalidate>
      <h2 id="guest-title">${tHtml("guest.newTitle")}</h2>
      <p class="hint">${tHtml("guest.newHint")}</p>
      <div class="grid">
        ${guestField("hours", "guest.hoursLabel", "24", tHtml("guest.hoursHint", { max: MAX_HOURS }), true)}
        ${guestField("gigabytes", "guest.gigabytesLabel", "2", tHtml("guest.gigabytesHint", { max: MAX_GIGABYTES }), true)}
      </div>
      <div class="expire-shortcuts">${shortcuts}</div>
      ${guestField("name", "guest.nameLabel", "guest-k3m9", tHtml("guest.nameHint"), false)}
      <p id="guest-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="guest-create" class="primary">${tHtml("guest.create")}</button>
        <button type="button" id="guest-cancel">${tHtml("common.cancel")}</button>
      </div>
    </form>
    <div id="guest-card" class="guest-card" hidden>
      <h2 id="guest-card-title">${tHtml("guest.cardHeading")}</h2>
      <p id="guest-card-ends"></p>
      <div class="guest-card-body">
        <div id="guest-qr"></div>
        <dl id="guest-credentials" class="share-links"></dl>
      </div>
      <ul id="guest-warnings" class="message warning" hidden></ul>
      <p class="hint">${tHtml("guest.shownOnce")}</p>
      <p id="guest-notice" class="notice" role="status"></p>
      <div class="actions">
        <button type="button" id="guest-copy-all">${tHtml("guest.copyAll")}</button>
        <button type="button" id="guest-done" class="primary">${tHtml("guest.done")}</button>
      </div>
    </div>
  </dialog>`;
}
