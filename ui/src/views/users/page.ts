// What the users view's parts share: the list, the banner and message slot,
// and the one way a change's answer reaches the screen.

import { showText } from "../../dom";
import { isKeyringRefusal, messageOf } from "../../errors";
import type { UsersView as UsersResult } from "../../ipc";
import type { UserList } from "./model";

export interface UsersPage {
  readonly list: UserList;
  /** The keyring banner (#keyring-error). */
  readonly banner: HTMLElement;
  /** The add form's message slot (#users-error), also used by the rows. */
  readonly error: HTMLElement;
  /** Where focus goes when its control is gone: the new user's name. */
  readonly home: HTMLInputElement;
  /** Waits for a call's answer and shows it, unless a newer call was made meanwhile; rejects as the call does. */
  apply(call: Promise<UsersResult>): Promise<void>;
  /** Shows a refusal: keyring trouble in the banner, anything else in slot. */
  refuse(reason: unknown, slot: HTMLElement): void;
}

export function createPage(
  parts: Pick<UsersPage, "list" | "banner" | "error" | "home">,
  draw: (result: UsersResult) => void,
): UsersPage {
  const { list, banner } = parts;
  return {
    ...parts,
    async apply(call) {
      const isLatest = list.ticket();
      const result = await call;
      if (isLatest()) draw(result);
    },
    refuse(reason, slot) {
      const message = messageOf(reason);
      if (isKeyringRefusal(reason)) {
        showText(banner, message);
        showText(slot, null);
      } else {
        showText(slot, message);
      }
    },
  };
}
