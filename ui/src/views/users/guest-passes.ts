// The Guest passes part of the users view: its Guest pass button opens the
// dialog that makes one; Revoke all guest passes shows while there is one.

import { byId } from "../../dom";
import type { User } from "../../ipc";
import { GuestDialog } from "./guest-dialog";
import type { UsersPage } from "./page";
import { revokeAllGuests } from "./row-actions";

export class GuestPasses {
  private readonly revokeAll: HTMLButtonElement;
  private names: string[] = [];

  constructor(section: HTMLElement, page: UsersPage) {
    new GuestDialog(section, page, byId<HTMLButtonElement>("guest-pass", section));
    this.revokeAll = byId<HTMLButtonElement>("revoke-all-guests", section);
    this.revokeAll.addEventListener("click", () => void revokeAllGuests(section, page, this.names));
  }

  /** Follows the users listed: Revoke all shows while one of them is a guest pass. */
  update(users: readonly User[]): void {
    this.names = users.filter((u) => u.guest).map((u) => u.name);
    this.revokeAll.hidden = this.names.length === 0;
  }
}
