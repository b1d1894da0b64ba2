// The dialog that renames a user or sets its password. The value is checked
// as it is typed and before the call; afterwards focus returns to the button
// that opened it (under the new name after a rename). For a password,
// Generate fills in a random one and shows it, to be copied into the client.

import * as ipc from "../../ipc";
import { byId, closeDialog, openDialog, setFieldError, showText } from "../../dom";
import { isKeyringRefusal, messageOf } from "../../errors";
import { t } from "../../i18n";
import { editProblem, generatePassword, generatedHint, passwordHint, type EditKind, type Editing } from "./model";
import type { UsersPage } from "./page";
import { editButtonClass, type UsersTable } from "./table";

const FIELD = "edit-user-input";

interface Texts {
  title: (name: string) => string;
  label: () => string;
  type: string;
  autocomplete: AutoFill;
  ok: () => string;
}

const TEXTS: Record<EditKind, Texts> = {
  rename: {
    title: (name) => t("users.renameTitle", { name }),
    label: () => t("users.newName"),
    type: "text",
    autocomplete: "off",
    ok: () => t("users.rename"),
  },
  password: {
    title: (name) => t("users.passwordTitle", { name }),
    label: () => t("users.newPassword"),
    type: "password",
    autocomplete: "new-password",
    ok: () => t("users.setPassword"),
  },
};

export class EditDialog {
  private editing: Editing | null = null;
  private readonly dialog: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly label: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly ok: HTMLButtonElement;
  private readonly generate: HTMLButtonElement;
  private readonly hint: HTMLElement;

  constructor(
    private readonly section: HTMLElement,
    private readonly page: UsersPage,
    private readonly table: UsersTable,
  ) {
    this.dialog = byId<HTMLDialogElement>("edit-user-dialog", section);
    this.title = byId("edit-user-title", section);
    this.label = byId("edit-user-label", section);
    this.input = byId<HTMLInputElement>(FIELD, section);
    this.ok = byId<HTMLButtonElement>("edit-user-ok", section);
    this.generate = byId<HTMLButtonElement>("edit-user-generate", section);
    this.hint = byId("edit-user-hint", section);
    this.generate.addEventListener("click", () => {
      if (this.editing?.kind !== "password") return;
      this.input.value = generatePassword();
      this.input.type = "text";
      showText(this.hint, generatedHint());
      setFieldError(FIELD, this.check(), section);
      this.input.focus();
      this.input.select();
    });
    this.input.addEventListener("input", () => setFieldError(FIELD, this.check(), section));
    byId<HTMLFormElement>("edit-user-form", section).addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    byId<HTMLButtonElement>("edit-user-cancel", section).addEventListener("click", () => {
      const name = this.editing?.name ?? null;
      const cls = editButtonClass(this.editing?.kind ?? "rename");
      this.input.value = "";
      this.finish(name, cls);
    });
    this.dialog.addEventListener("close", () => {
      // Escape closes the dialog natively; forget what was being edited.
      // Stale when the dialog was opened again before the event ran.
      if (this.editing && !this.dialog.open) {
        const { name, kind } = this.editing;
        this.input.value = "";
        this.finish(name, editButtonClass(kind));
      }
    });
  }

  open(kind: EditKind, name: string): void {
    this.editing = { kind, name };
    const texts = TEXTS[kind];
    this.title.textContent = texts.title(name);
    this.label.textContent = texts.label();
    this.input.type = texts.type;
    this.input.autocomplete = texts.autocomplete;
    this.input.value = kind === "rename" ? name : "";
    this.ok.textContent = texts.ok();
    this.generate.hidden = kind !== "password";
    showText(this.hint, kind === "password" ? passwordHint() : null);
    setFieldError(FIELD, null, this.section);
    openDialog(this.dialog);
    this.input.focus();
    if (kind === "rename") this.input.select();
  }

  private check(): string | null {
    return this.editing ? editProblem(this.editing, this.input.value, this.page.list.users) : null;
  }

  /** Closes the dialog; focus goes to this control of this user's row, or home. */
  private finish(focusName: string | null, focusClass: string): void {
    this.editing = null;
    closeDialog(this.dialog);
    const target = focusName !== null ? this.table.control(focusName, focusClass) : null;
    (target ?? this.page.home).focus();
  }

  private async submit(): Promise<void> {
    if (!this.editing) return;
    const { kind, name } = this.editing;
    const problem = this.check();
    setFieldError(FIELD, problem, this.section);
    if (problem) {
      this.input.focus();
      return;
    }
    const value = this.input.value;
    if (kind === "rename" && value === name) {
      this.finish(name, "rename");
      return;
    }
    this.ok.disabled = true;
    try {
      await this.page.apply(kind === "rename" ? ipc.renameUser(name, value) : ipc.setPassword(name, value));
      this.input.value = "";
      this.finish(kind === "rename" ? value : name, editButtonClass(kind));
    } catch (reason) {
      const message = messageOf(reason);
      if (isKeyringRefusal(reason)) showText(this.page.banner, message);
      setFieldError(FIELD, message, this.section);
    } finally {
      this.ok.disabled = false;
    }
  }
}
