// The add form: a name and a password, checked as they are typed (only the
// fields typed in) and again, all of them, before add_user. Generate fills
// in a random password and shows it, to be copied into the client.

import * as ipc from "../../ipc";
import { byId, markInvalid, setText, showText } from "../../dom";
import { generatePassword, generatedHint, passwordHint, passwordProblem, userNameProblem } from "./model";
import type { UsersPage } from "./page";

export class AddForm {
  /** Fields the user has typed in: only those are checked while typing. */
  private readonly touched = new Set<HTMLInputElement>();
  private readonly name: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly hint: HTMLElement;

  constructor(
    section: HTMLElement,
    private readonly page: UsersPage,
  ) {
    this.name = page.home;
    this.password = byId<HTMLInputElement>("new-user-password", section);
    this.button = byId<HTMLButtonElement>("add-user", section);
    this.hint = byId("new-password-hint", section);
    byId<HTMLButtonElement>("generate-password", section).addEventListener("click", () => this.generate());
    for (const field of [this.name, this.password]) {
      field.addEventListener("input", () => {
        this.touched.add(field);
        showText(page.error, this.check(false));
      });
    }
    byId<HTMLFormElement>("add-user-form", section).addEventListener("submit", (event) => {
      event.preventDefault();
      void this.add();
    });
  }

  /** Fills in a generated password, shown as text and selected for copying. */
  private generate(): void {
    const { password } = this;
    password.value = generatePassword();
    password.type = "text";
    this.touched.add(password);
    showText(this.page.error, this.check(false));
    setText(this.hint, generatedHint());
    password.focus();
    password.select();
  }

  /** The form's problems (of the touched fields, or of all when all is true), marking the fields. */
  private check(all: boolean): string | null {
    const problems: string[] = [];
    if (all || this.touched.has(this.name)) {
      const problem = userNameProblem(this.name.value, this.page.list.users);
      markInvalid(this.name, problem !== null);
      if (problem) problems.push(problem);
    }
    if (all || this.touched.has(this.password)) {
      const problem = passwordProblem(this.password.value);
      markInvalid(this.password, problem !== null);
      if (problem) problems.push(problem);
    }
    return problems.length > 0 ? problems.join(" ") : null;
  }

  private async add(): Promise<void> {
    const { name, password, page } = this;
    const problem = this.check(true);
    if (problem) {
      showText(page.error, problem);
      (name.hasAttribute("aria-invalid") ? name : password).focus();
      return;
    }
    this.button.disabled = true;
    try {
      await page.apply(ipc.addUser(name.value, password.value));
      showText(page.error, null);
      name.value = "";
      password.value = "";
      password.type = "password";
      setText(this.hint, passwordHint());
      this.touched.clear();
      name.focus();
    } catch (reason) {
      page.refuse(reason, page.error);
    } finally {
      this.button.disabled = false;
    }
  }
}
