// The users view's model: the list as last answered, which answer is the
// latest, and what is wrong with a name or a password. No DOM.

import { t } from "../../i18n";
import type { User, UsersView as UsersResult } from "../../ipc";
import { validatePassword, validateUserName } from "../../validate";
import { expiresAt } from "../policy/model";

export type EditKind = "rename" | "password";

/** The dialog's task: rename a user, or give it a new password. */
export interface Editing {
  kind: EditKind;
  name: string;
}

export class UserList {
  /** The users as last answered. */
  users: User[] = [];
  /** The list on screen, as JSON, to redraw only when it changes. */
  private shown = "";
  private requests = 0;

  /**
   * Numbers a new request; the function answers, when the answer comes,
   * whether that request is still the latest. Answers can arrive out of
   * order (the list asked for when the view opened may come back after a
   * change made since): only the latest one counts, so an old list never
   * undoes a newer change.
   */
  ticket(): () => boolean {
    const mine = ++this.requests;
    return () => mine === this.requests;
  }

  /** Takes an answer's users; true when they differ from the list on screen. */
  take(result: UsersResult): boolean {
    const list = Array.isArray(result.users) ? result.users : [];
    this.users = list;
    const key = JSON.stringify(list);
    if (key === this.shown) return false;
    this.shown = key;
    return true;
  }
}

/** What is wrong with a new user name, or null; except is a name it may keep (the one being renamed). */
export function userNameProblem(name: string, users: readonly User[], except?: string): string | null {
  const check = validateUserName(name);
  if (!check.ok) return check.error;
  if (name !== except && users.some((u) => u.name === name)) return t("users.nameTaken", { name });
  return null;
}

/** What is wrong with a password, or null. */
export function passwordProblem(password: string): string | null {
  const check = validatePassword(password);
  return check.ok ? null : check.error;
}

/**
 * The characters of generated passwords: letters and digits that cannot be
 * mistaken for one another when read off the screen or typed into a client
 * on another device (no 0/O, 1/l/I).
 */
export const PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/** Characters in a generated password: 16 of 57 are some 93 bits. */
export const GENERATED_LENGTH = 16;

/**
 * A random password from the system's cryptographic generator: each
 * character uniform over the alphabet (random bytes past the last whole
 * multiple of its length are drawn again, so none is favoured).
 */
export function generatePassword(fill: (bytes: Uint8Array) => void = (b) => crypto.getRandomValues(b)): string {
  const n = PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n);
  const out: string[] = [];
  const bytes = new Uint8Array(GENERATED_LENGTH * 2);
  while (out.length < GENERATED_LENGTH) {
    fill(bytes);
    for (const b of bytes) {
      if (b < limit && out.length < GENERATED_LENGTH) out.push(PASSWORD_ALPHABET.charAt(b % n));
    }
  }
  return out.join("");
}

/** Under a password field. */
export function passwordHint(): string {
  return t("users.passwordHint");
}

/** Under a password field once Generate filled it in (and showed it). */
export function generatedHint(): string {
  return t("users.generatedHint");
}

/** What is wrong with the dialog's value for its task, or null. */
export function editProblem(editing: Editing, value: string, users: readonly User[]): string | null {
  return editing.kind === "rename" ? userNameProblem(value, users, editing.name) : passwordProblem(value);
}

/** The soonest expiry (milliseconds) after now among the active users, or null. */
export function nextExpiry(users: readonly User[], now: number): number | null {
  let next: number | null = null;
  for (const user of users) {
    const at = user.state === "active" ? expiresAt(user.policy) : null;
    if (at !== null && at > now && (next === null || at < next)) next = at;
  }
  return next;
}
