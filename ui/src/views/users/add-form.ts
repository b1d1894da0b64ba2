// The add form: a name and a password, checked as they are typed (only the
// fields typed in) and again, all of them, before add_user.

import * as ipc from "../../ipc";
import { byId, markInvalid, showText } from "../../dom";
import { passwordProblem, userNameProblem } from "./model";
import type { UsersPage } from "./page";

export class AddForm {
  /** Fields the user has typed in: only those are checked while typing. */
  private readonly touched = new Set<HTMLInputElement>();
  private readonly name: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly button: HTMLButtonElement;

  constructor(
    section: HTMLElement,
    private readonly page: UsersPage,
  ) {
    this.name = page.home;
    this.password = byId<HTMLInputElement>("new-user-password", section);
    this.button = byId<HTMLButtonElement>("add-user", section);
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
      this.touched.clear();
      name.focus();
    } catch (reason) {
      page.refuse(reason, page.error);
    } finally {
      this.button.disabled = false;
    }
  }
}
