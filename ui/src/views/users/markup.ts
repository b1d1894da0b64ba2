// The users view's markup: the add form, the guest passes' buttons, the
// users table, the rename / set-password dialog, the limits (policy)
// dialog, the guest pass dialog and the delete (or revoke) question. The
// parts and the app's WebDriver tests find these ids and classes: keep
// them.

import { errorIdFor } from "../../errors";
import { policyMarkup } from "../policy/fields";
import { HOURS_SHORTCUTS, MAX_GIGABYTES, MAX_HOURS, guestFieldId, type GuestKey } from "./guest";

/** The prefix of the policy dialog's field ids. */
export const POLICY_PREFIX = "user-policy";

export const MARKUP = `
  <h2>Users</h2>
  <p class="muted">When “Require a user name and password” is on in Settings, clients sign in
    as one of the enabled users. Passwords are kept in the system keyring. Limits gives a user a
    bandwidth, a traffic quota, access hours, commands, destinations and an expiry of its own.
    Each user's use shows beside its limits while the proxy runs.</p>
  <p id="keyring-error" class="message error" role="alert" hidden></p>
  <form id="add-user-form" class="add-user" novalidate>
    <h3>Add a user</h3>
    <div class="row">
      <div class="field">
        <label for="new-user-name">Name</label>
        <input type="text" id="new-user-name" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="users-error">
      </div>
      <div class="field">
        <label for="new-user-password">Password</label>
        <div class="with-button">
          <input type="password" id="new-user-password" autocomplete="new-password" aria-describedby="new-password-hint users-error">
          <button type="button" id="generate-password">Generate</button>
        </div>
      </div>
      <button type="submit" id="add-user" class="primary">Add user</button>
    </div>
    <p id="new-password-hint" class="hint">At least 8 characters.</p>
    <p id="users-error" class="field-error" role="alert" hidden></p>
  </form>
  <section id="guest-passes" class="guest-passes" aria-labelledby="guest-passes-title">
    <h3 id="guest-passes-title">Guest passes</h3>
    <p class="muted">A user for a visitor that ends by itself, after some hours, after some GB, or
      both. Its password is made up and shown once, with the proxy's address and the setup page's
      QR code. Revoke it here or from the tray's Guest passes menu.</p>
    <div class="row">
      <button type="button" id="guest-pass">Guest pass…</button>
      <button type="button" id="revoke-all-guests" class="danger" hidden>Revoke all guest passes</button>
    </div>
  </section>
  <table id="users-table">
    <caption>Users</caption>
    <thead>
      <tr><th scope="col">Name</th><th scope="col">Enabled</th><th scope="col">State</th>
        <th scope="col">Limits</th><th scope="col">Use</th><th scope="col">Actions</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="users-empty" class="muted" hidden>There are no users yet.</p>

  <dialog id="edit-user-dialog" aria-labelledby="edit-user-title">
    <form id="edit-user-form" novalidate>
      <h2 id="edit-user-title">Rename user</h2>
      <div class="field">
        <label for="edit-user-input" id="edit-user-label">New name</label>
        <div class="with-button">
          <input type="text" id="edit-user-input" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="edit-user-hint error-edit-user-input">
          <button type="button" id="edit-user-generate" hidden>Generate</button>
        </div>
        <p id="edit-user-hint" class="hint" hidden></p>
        <p id="error-edit-user-input" class="field-error" role="alert" hidden></p>
      </div>
      <div class="actions">
        <button type="submit" id="edit-user-ok" class="primary">Rename</button>
        <button type="button" id="edit-user-cancel">Cancel</button>
      </div>
    </form>
  </dialog>

  <dialog id="user-policy-dialog" class="policy-dialog" aria-labelledby="user-policy-title">
    <form id="user-policy-form" novalidate>
      <h2 id="user-policy-title">Limits</h2>
      <p class="hint">What this user may do, on top of what Settings allow everyone; a part left
        empty limits nothing. Changes hold at once, and connections they no longer allow end.</p>
      ${policyMarkup(POLICY_PREFIX)}
      <p id="user-policy-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="user-policy-save" class="primary">Save limits</button>
        <button type="button" id="user-policy-cancel">Cancel</button>
      </div>
    </form>
  </dialog>

  ${guestDialog()}

  <dialog id="confirm-delete" aria-labelledby="confirm-delete-title" aria-describedby="confirm-delete-text">
    <h2 id="confirm-delete-title">Delete user?</h2>
    <p id="confirm-delete-text"></p>
    <div class="actions">
      <button type="button" id="confirm-delete-no" class="primary">Cancel</button>
      <button type="button" id="confirm-delete-yes" class="danger">Delete</button>
    </div>
  </dialog>
`;

function guestField(key: GuestKey, label: string, placeholder: string, hint: string, numeric: boolean): string {
  const id = guestFieldId(key);
  const mode = numeric ? ' inputmode="decimal"' : ' spellcheck="false" autocapitalize="off"';
  return `
        <div class="field">
          <label for="${id}">${label}</label>
          <input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off"${mode}
            aria-describedby="hint-${id} ${errorIdFor(id)}">
          <p id="hint-${id}" class="hint">${hint}</p>
          <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
        </div>`;
}

/** The guest pass dialog: its form, then the card of the pass made. */
function guestDialog(): string {
  const shortcuts = HOURS_SHORTCUTS.map(
    ([hours, label]) => `<button type="button" class="guest-hours-in" data-hours="${hours}">${label}</button>`,
  ).join("");
  return `
  <dialog id="guest-dialog" class="guest-dialog" aria-labelledby="guest-title">
    <form id="guest-form" novalidate>
      <h2 id="guest-title">New guest pass</h2>
      <p class="hint">The pass ends by itself after the hours or the GB, whichever comes first;
        its connections end then too.</p>
      <div class="grid">
        ${guestField("hours", "Ends after (hours)", "24", `Up to ${MAX_HOURS} (90 days). Empty: no time limit.`, true)}
        ${guestField("gigabytes", "Ends after (GB)", "2", `Up and down together, up to ${MAX_GIGABYTES}. Empty: no budget.`, true)}
      </div>
      <div class="expire-shortcuts">${shortcuts}</div>
      ${guestField("name", "Name (optional)", "guest-k3m9", "The user name the guest signs in with. Empty: one is made up.", false)}
      <p id="guest-error" class="field-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="guest-create" class="primary">Make the pass</button>
        <button type="button" id="guest-cancel">Cancel</button>
      </div>
    </form>
    <div id="guest-card" class="guest-card" hidden>
      <h2 id="guest-card-title">Guest pass</h2>
      <p id="guest-card-ends"></p>
      <div class="guest-card-body">
        <div id="guest-qr"></div>
        <dl id="guest-credentials" class="share-links"></dl>
      </div>
      <ul id="guest-warnings" class="message warning" hidden></ul>
      <p class="hint">The password is shown this once; it is kept only in the system keyring.</p>
      <p id="guest-notice" class="notice" role="status"></p>
      <div class="actions">
        <button type="button" id="guest-copy-all">Copy all</button>
        <button type="button" id="guest-done" class="primary">Done</button>
      </div>
    </div>
  </dialog>`;
}
