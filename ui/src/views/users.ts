// The users view: the proxy's users (names here, passwords in the system
// keyring), with add, rename, set password, enable/disable and delete.

import * as ipc from "../ipc";
import type { User, UsersView as UsersResult } from "../ipc";
import { ask, byId, closeDialog, markInvalid, openDialog, setFieldError, showText } from "../dom";
import { isKeyringMessage, messageOf } from "../errors";
import { validatePassword, validateUserName } from "../validate";

const MARKUP = `
  <h2>Users</h2>
  <p class="muted">When “Require a user name and password” is on in Settings, clients sign in
    as one of the enabled users. Passwords are kept in the system keyring.</p>
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
        <input type="password" id="new-user-password" autocomplete="new-password" aria-describedby="users-error">
      </div>
      <button type="submit" id="add-user" class="primary">Add user</button>
    </div>
    <p id="users-error" class="field-error" role="alert" hidden></p>
  </form>
  <table id="users-table">
    <caption>Users</caption>
    <thead>
      <tr><th scope="col">Name</th><th scope="col">Enabled</th><th scope="col">Actions</th></tr>
    </thead>
    <tbody></tbody>
  </table>
  <p id="users-empty" class="muted" hidden>There are no users yet.</p>

  <dialog id="edit-user-dialog" aria-labelledby="edit-user-title">
    <form id="edit-user-form" novalidate>
      <h2 id="edit-user-title">Rename user</h2>
      <div class="field">
        <label for="edit-user-input" id="edit-user-label">New name</label>
        <input type="text" id="edit-user-input" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="error-edit-user-input">
        <p id="error-edit-user-input" class="field-error" role="alert" hidden></p>
      </div>
      <div class="actions">
        <button type="submit" id="edit-user-ok" class="primary">Rename</button>
        <button type="button" id="edit-user-cancel">Cancel</button>
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

export interface UsersViewHandle {
  /** Called when the view is opened: reloads the list. */
  show(): void;
  ready: Promise<void>;
}

type EditKind = "rename" | "password";

export function mountUsers(section: HTMLElement): UsersViewHandle {
  section.innerHTML = MARKUP;
  const banner = byId("keyring-error", section);
  const addForm = byId<HTMLFormElement>("add-user-form", section);
  const newName = byId<HTMLInputElement>("new-user-name", section);
  const newPassword = byId<HTMLInputElement>("new-user-password", section);
  const addButton = byId<HTMLButtonElement>("add-user", section);
  const usersError = byId("users-error", section);
  const tbody = byId<HTMLTableElement>("users-table", section).tBodies[0] as HTMLTableSectionElement;
  const empty = byId("users-empty", section);

  const editDialog = byId<HTMLDialogElement>("edit-user-dialog", section);
  const editForm = byId<HTMLFormElement>("edit-user-form", section);
  const editTitle = byId("edit-user-title", section);
  const editLabel = byId("edit-user-label", section);
  const editInput = byId<HTMLInputElement>("edit-user-input", section);
  const editOk = byId<HTMLButtonElement>("edit-user-ok", section);
  const editCancel = byId<HTMLButtonElement>("edit-user-cancel", section);

  const deleteDialog = byId<HTMLDialogElement>("confirm-delete", section);
  const deleteText = byId("confirm-delete-text", section);

  let users: User[] = [];
  let lastKey = "";
  let editing: { kind: EditKind; name: string } | null = null;

  /** Shows a refusal: keyring trouble in the banner, anything else in slot. */
  function showRefusal(reason: unknown, slot: HTMLElement): string {
    const message = messageOf(reason);
    if (isKeyringMessage(message)) {
      showText(banner, message);
      showText(slot, null);
    } else {
      showText(slot, message);
    }
    return message;
  }

  function rowControl(name: string, cls: string): HTMLElement | null {
    for (const row of Array.from(tbody.rows)) {
      if (row.dataset.user === name) return row.querySelector<HTMLElement>(`.${cls}`);
    }
    return null;
  }

  function render(list: User[]): void {
    // Put focus back on the same control of the same user after redrawing.
    const active = document.activeElement;
    const activeRow = active instanceof HTMLElement ? active.closest<HTMLTableRowElement>("tr[data-user]") : null;
    const focusName = activeRow && tbody.contains(activeRow) ? activeRow.dataset.user : undefined;
    const focusClass = active instanceof HTMLElement ? (active.classList[0] ?? "") : "";

    tbody.replaceChildren(...list.map((user, i) => userRow(user, i)));
    empty.hidden = list.length > 0;

    if (focusName !== undefined) {
      const again = focusClass ? rowControl(focusName, focusClass) : null;
      if (again) again.focus();
      else newName.focus();
    }
  }

  function userRow(user: User, index: number): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.user = user.name;

    const nameCell = document.createElement("th");
    nameCell.scope = "row";
    nameCell.className = "user-name";
    nameCell.textContent = user.name;

    const enabledCell = document.createElement("td");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "enabled";
    box.id = `user-enabled-${index}`;
    box.checked = user.enabled;
    const boxLabel = document.createElement("label");
    boxLabel.htmlFor = box.id;
    boxLabel.className = "visually-hidden";
    boxLabel.textContent = `${user.name} may sign in`;
    box.addEventListener("change", () => void setEnabled(user.name, box));
    enabledCell.append(box, boxLabel);

    const actions = document.createElement("td");
    actions.className = "actions";
    const button = (cls: string, text: string, label: string, onClick: () => void): HTMLButtonElement => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", onClick);
      return b;
    };
    actions.append(
      button("rename", "Rename", `Rename ${user.name}`, () => openEdit("rename", user.name)),
      button("set-password", "Set password", `Set the password of ${user.name}`, () => openEdit("password", user.name)),
      button("delete", "Delete", `Delete ${user.name}`, () => void remove(user.name)),
    );

    row.append(nameCell, enabledCell, actions);
    return row;
  }

  function applyResult(result: UsersResult): void {
    showText(banner, result.keyringError);
    const list = Array.isArray(result.users) ? result.users : [];
    users = list;
    const key = JSON.stringify(list);
    if (key === lastKey) return;
    lastKey = key;
    render(list);
  }

  // Answers can arrive out of order (the list asked for when the view opened
  // may come back after a change made since): only the answer to the latest
  // request is drawn, so an old list never undoes a newer change.
  let latestRequest = 0;
  async function applyLatest(call: Promise<UsersResult>): Promise<void> {
    const mine = ++latestRequest;
    const result = await call;
    if (mine === latestRequest) applyResult(result);
  }

  async function refresh(): Promise<void> {
    try {
      await applyLatest(ipc.listUsers());
    } catch (reason) {
      showRefusal(reason, usersError);
    }
  }

  // ---- add

  // Fields the user has typed in: only those are checked while typing.
  const touched = new Set<HTMLInputElement>();

  /** The add form's problems (of the touched fields, or of all when all is true). */
  function checkAddForm(all: boolean): string | null {
    const problems: string[] = [];
    if (all || touched.has(newName)) {
      const name = validateUserName(newName.value);
      let problem = name.ok ? null : name.error;
      if (!problem && users.some((u) => u.name === newName.value)) {
        problem = `There is already a user named “${newName.value}”.`;
      }
      markInvalid(newName, problem !== null);
      if (problem) problems.push(problem);
    }
    if (all || touched.has(newPassword)) {
      const password = validatePassword(newPassword.value);
      markInvalid(newPassword, !password.ok);
      if (!password.ok) problems.push(password.error);
    }
    return problems.length > 0 ? problems.join(" ") : null;
  }

  for (const field of [newName, newPassword]) {
    field.addEventListener("input", () => {
      touched.add(field);
      showText(usersError, checkAddForm(false));
    });
  }

  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void add();
  });

  async function add(): Promise<void> {
    const problem = checkAddForm(true);
    if (problem) {
      showText(usersError, problem);
      (newName.hasAttribute("aria-invalid") ? newName : newPassword).focus();
      return;
    }
    addButton.disabled = true;
    try {
      await applyLatest(ipc.addUser(newName.value, newPassword.value));
      showText(usersError, null);
      newName.value = "";
      newPassword.value = "";
      touched.clear();
      newName.focus();
    } catch (reason) {
      showRefusal(reason, usersError);
    } finally {
      addButton.disabled = false;
    }
  }

  // ---- enable / disable

  async function setEnabled(name: string, box: HTMLInputElement): Promise<void> {
    const wanted = box.checked;
    box.disabled = true;
    try {
      await applyLatest(ipc.setUserEnabled(name, wanted));
      showText(usersError, null);
    } catch (reason) {
      box.checked = !wanted;
      showRefusal(reason, usersError);
    } finally {
      box.disabled = false;
    }
  }

  // ---- rename / set password

  function openEdit(kind: EditKind, name: string): void {
    editing = { kind, name };
    if (kind === "rename") {
      editTitle.textContent = `Rename ${name}`;
      editLabel.textContent = "New name";
      editInput.type = "text";
      editInput.autocomplete = "off";
      editInput.value = name;
      editOk.textContent = "Rename";
    } else {
      editTitle.textContent = `New password for ${name}`;
      editLabel.textContent = "New password";
      editInput.type = "password";
      editInput.autocomplete = "new-password";
      editInput.value = "";
      editOk.textContent = "Set password";
    }
    setFieldError("edit-user-input", null, section);
    openDialog(editDialog);
    editInput.focus();
    if (kind === "rename") editInput.select();
  }

  function finishEdit(focusName: string | null, focusClass: string): void {
    editing = null;
    closeDialog(editDialog);
    const target = focusName !== null ? rowControl(focusName, focusClass) : null;
    (target ?? newName).focus();
  }

  function checkEdit(): string | null {
    if (!editing) return null;
    const check = editing.kind === "rename" ? validateUserName(editInput.value) : validatePassword(editInput.value);
    let problem = check.ok ? null : check.error;
    if (
      !problem &&
      editing.kind === "rename" &&
      editInput.value !== editing.name &&
      users.some((u) => u.name === editInput.value)
    ) {
      problem = `There is already a user named “${editInput.value}”.`;
    }
    return problem;
  }

  editInput.addEventListener("input", () => setFieldError("edit-user-input", checkEdit(), section));

  editForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitEdit();
  });

  async function submitEdit(): Promise<void> {
    if (!editing) return;
    const { kind, name } = editing;
    const problem = checkEdit();
    setFieldError("edit-user-input", problem, section);
    if (problem) {
      editInput.focus();
      return;
    }
    const value = editInput.value;
    if (kind === "rename" && value === name) {
      finishEdit(name, "rename");
      return;
    }
    editOk.disabled = true;
    try {
      await applyLatest(kind === "rename" ? ipc.renameUser(name, value) : ipc.setPassword(name, value));
      editInput.value = "";
      finishEdit(kind === "rename" ? value : name, kind === "rename" ? "rename" : "set-password");
    } catch (reason) {
      const message = messageOf(reason);
      if (isKeyringMessage(message)) showText(banner, message);
      setFieldError("edit-user-input", message, section);
    } finally {
      editOk.disabled = false;
    }
  }

  editCancel.addEventListener("click", () => {
    const name = editing?.name ?? null;
    const cls = editing?.kind === "password" ? "set-password" : "rename";
    editInput.value = "";
    finishEdit(name, cls);
  });

  editDialog.addEventListener("close", () => {
    // Escape closes the dialog natively; forget what was being edited.
    if (editing) {
      const { name, kind } = editing;
      editInput.value = "";
      finishEdit(name, kind === "password" ? "set-password" : "rename");
    }
  });

  // ---- delete

  async function remove(name: string): Promise<void> {
    deleteText.textContent = `Delete the user “${name}”? Clients signed in as ${name} can no longer connect, and the password is removed from the keyring.`;
    const yes = await ask(
      deleteDialog,
      byId<HTMLButtonElement>("confirm-delete-yes", section),
      byId<HTMLButtonElement>("confirm-delete-no", section),
    );
    if (!yes) return;
    try {
      await applyLatest(ipc.deleteUser(name));
      showText(usersError, null);
      if (!document.activeElement || document.activeElement === document.body) newName.focus();
    } catch (reason) {
      showRefusal(reason, usersError);
    }
  }

  const ready = refresh();
  return {
    show() {
      void refresh();
    },
    ready,
  };
}
