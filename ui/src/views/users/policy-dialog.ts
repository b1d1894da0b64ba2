// The dialog that edits a user's limits (its policy): each field checked
// as it is typed and all before set_user_policy; the Rust side's refusals
// land next to the field they name. Afterwards focus returns to the row's
// Limits button.

import * as ipc from "../../ipc";
import type { User } from "../../ipc";
import { byId, closeDialog, openDialog, showText } from "../../dom";
import { fieldErrorsOf, messageOf } from "../../errors";
import { t } from "../../i18n";
import { PolicyFields, showRefusal } from "../policy/fields";
import { POLICY_PREFIX } from "./markup";
import type { UsersPage } from "./page";
import type { UsersTable } from "./table";

export class PolicyDialog {
  /** The user whose limits are edited. */
  private editing: string | null = null;
  private readonly dialog: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly save: HTMLButtonElement;
  private readonly general: HTMLElement;
  private readonly fields: PolicyFields;

  constructor(
    section: HTMLElement,
    private readonly page: UsersPage,
    private readonly table: UsersTable,
  ) {
    this.dialog = byId<HTMLDialogElement>("user-policy-dialog", section);
    this.title = byId("user-policy-title", section);
    this.save = byId<HTMLButtonElement>("user-policy-save", section);
    this.general = byId("user-policy-error", section);
    const form = byId<HTMLFormElement>("user-policy-form", section);
    this.fields = new PolicyFields(form, POLICY_PREFIX);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    byId("user-policy-cancel", section).addEventListener("click", () => this.finish());
    // Escape closes the dialog natively.
    this.dialog.addEventListener("close", () => {
      // Stale when the dialog was opened again before the event ran.
      if (this.editing !== null && !this.dialog.open) this.finish();
    });
  }

  open(user: User): void {
    this.editing = user.name;
    this.title.textContent = t("users.limitsTitle", { name: user.name });
    this.fields.write(user.policy);
    showText(this.general, null);
    openDialog(this.dialog);
    this.fields.focus("rateLimit");
  }

  private async submit(): Promise<void> {
    const name = this.editing;
    if (name === null) return;
    showText(this.general, null);
    const policy = this.fields.collect();
    if (!policy) return;
    this.save.disabled = true;
    try {
      await this.page.apply(ipc.setUserPolicy(name, policy));
      this.finish();
    } catch (reason) {
      const errors = fieldErrorsOf(reason) ?? [{ field: "general", message: messageOf(reason) }];
      showRefusal(errors, this.fields, this.dialog, this.general);
    } finally {
      this.save.disabled = false;
    }
  }

  /** Closes the dialog; focus goes to the user's Limits button, or home. */
  private finish(): void {
    const name = this.editing;
    this.editing = null;
    closeDialog(this.dialog);
    const target = name === null ? null : this.table.control(name, "policy");
    (target ?? this.page.home).focus();
  }
}
