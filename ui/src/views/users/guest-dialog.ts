// The guest pass dialog: when the pass ends (after so many hours, after so
// many GB, or both) and, optionally, its name; each field checked as it is
// typed and all of them before add_guest_pass, the Rust side's refusals
// next to the field they name. Once made, the dialog shows the pass's card
// (guest-card.ts). Afterwards focus returns to the Guest pass button.

import * as ipc from "../../ipc";
import { byId, closeDialog, openDialog, setFieldError, showText } from "../../dom";
import { fieldErrorsOf, messageOf } from "../../errors";
import { GuestCard } from "./guest-card";
import { GUEST_KEYS, guestFieldId, guestKeyOf, guestProblems, type GuestKey, type GuestValues } from "./guest";
import type { UsersPage } from "./page";

export class GuestDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly form: HTMLFormElement;
  private readonly create: HTMLButtonElement;
  private readonly general: HTMLElement;
  private readonly card: GuestCard;
  /** Fields typed in: only those are checked while typing. */
  private readonly touched = new Set<GuestKey>();

  constructor(
    private readonly section: HTMLElement,
    private readonly page: UsersPage,
    private readonly opener: HTMLButtonElement,
  ) {
    this.dialog = byId<HTMLDialogElement>("guest-dialog", section);
    this.form = byId<HTMLFormElement>("guest-form", section);
    this.create = byId<HTMLButtonElement>("guest-create", section);
    this.general = byId("guest-error", section);
    this.card = new GuestCard(section);
    opener.addEventListener("click", () => this.open());
    for (const key of GUEST_KEYS) {
      this.input(key).addEventListener("input", () => {
        this.touched.add(key);
        this.check(false);
      });
    }
    for (const button of Array.from(section.querySelectorAll<HTMLButtonElement>("button.guest-hours-in"))) {
      button.addEventListener("click", () => {
        this.input("hours").value = button.dataset.hours ?? "";
        this.touched.add("hours");
        this.check(false);
      });
    }
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    byId("guest-cancel", section).addEventListener("click", () => this.finish());
    byId("guest-done", section).addEventListener("click", () => this.finish());
    // Escape closes the dialog natively; the event is stale when the
    // dialog was opened again before it ran.
    this.dialog.addEventListener("close", () => {
      if (!this.dialog.open) this.finish();
    });
  }

  open(): void {
    for (const key of GUEST_KEYS) this.input(key).value = "";
    this.touched.clear();
    this.check(false);
    showText(this.general, null);
    this.card.clear();
    this.form.hidden = false;
    openDialog(this.dialog);
    this.input("hours").focus();
  }

  private input(key: GuestKey): HTMLInputElement {
    return byId<HTMLInputElement>(guestFieldId(key), this.section);
  }

  private values(): GuestValues {
    return { hours: this.input("hours").value, gigabytes: this.input("gigabytes").value, name: this.input("name").value };
  }

  /** Shows the problems of the touched fields (of all when all is true); answers the first field with one. */
  private check(all: boolean): GuestKey | null {
    const problems = guestProblems(this.values(), this.page.list.users);
    let first: GuestKey | null = null;
    for (const key of GUEST_KEYS) {
      const problem = all || this.touched.has(key) ? (problems[key] ?? null) : null;
      setFieldError(guestFieldId(key), problem, this.section);
      if (problem !== null && first === null) first = key;
    }
    return first;
  }

  private async submit(): Promise<void> {
    showText(this.general, null);
    const bad = this.check(true);
    if (bad !== null) {
      this.input(bad).focus();
      return;
    }
    const { name, hours, gigabytes } = this.values();
    this.create.disabled = true;
    try {
      const made = await ipc.addGuestPass(name.trim(), hours.trim(), gigabytes.trim());
      await this.page.apply(Promise.resolve(made.users));
      this.form.hidden = true;
      this.card.show(made);
      byId<HTMLButtonElement>("guest-done", this.section).focus();
    } catch (reason) {
      this.showRefusal(reason);
    } finally {
      this.create.disabled = false;
    }
  }

  /** Each refused field's message next to it, the rest below the form. */
  private showRefusal(reason: unknown): void {
    const errors = fieldErrorsOf(reason) ?? [{ field: "general", message: messageOf(reason) }];
    const rest: string[] = [];
    let first: GuestKey | null = null;
    for (const e of errors) {
      const key = guestKeyOf(e.field);
      if (key === null) {
        rest.push(e.message);
        continue;
      }
      setFieldError(guestFieldId(key), e.message, this.section);
      first ??= key;
    }
    showText(this.general, rest.length > 0 ? rest.join(" ") : null);
    if (first !== null) this.input(first).focus();
  }

  /** Closes the dialog and forgets the pass shown; focus goes back to the Guest pass button. */
  private finish(): void {
    const wasOpen = this.dialog.open;
    this.card.clear();
    this.form.hidden = false;
    if (wasOpen) closeDialog(this.dialog);
    if (wasOpen || document.activeElement === document.body) this.opener.focus();
  }
}
