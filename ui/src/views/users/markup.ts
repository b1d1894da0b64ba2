// The users view's markup: the add form, the users table, the rename /
// set-password dialog, the limits (policy) dialog and the delete question.
// The parts and the app's WebDriver tests find these ids and classes: keep
// them.

import { policyMarkup } from "../policy/fields";

/** The prefix of the policy dialog's field ids. */
export const POLICY_PREFIX = "user-policy";

export const MARKUP = `
  <h2>Users</h2>
  <p class="muted">When “Require a user name and password” is on in Settings, clients sign in
    as one of the enabled users. Passwords are kept in the system keyring. Limits gives a user a
    bandwidth, a traffic quota, access hours, commands, destinations and an expiry of its own: a
    guest pass is a user that expires.</p>
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
  <table id="users-table">
    <caption>Users</caption>
    <thead>
      <tr><th scope="col">Name</th><th scope="col">Enabled</th><th scope="col">State</th>
        <th scope="col">Limits</th><th scope="col">Actions</th></tr>
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

  <dialog id="confirm-delete" aria-labelledby="confirm-delete-title" aria-describedby="confirm-delete-text">
    <h2 id="confirm-delete-title">Delete user?</h2>
    <p id="confirm-delete-text"></p>
    <div class="actions">
      <button type="button" id="confirm-delete-no" class="primary">Cancel</button>
      <button type="button" id="confirm-delete-yes" class="danger">Delete</button>
    </div>
  </dialog>
`;
