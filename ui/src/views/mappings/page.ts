// What the mappings view's parts share: the list, the message slot, and
// the one way an answer reaches the screen.

import type { MappingRow } from "../../ipc";
import type { MappingList } from "./model";

export interface MappingsPage {
  readonly list: MappingList;
  /** The view's message (#mappings-error), for what belongs to no dialog. */
  readonly error: HTMLElement;
  /** Where focus goes when its control is gone: Add a mapping. */
  readonly home: HTMLButtonElement;
  /** Waits for a call's answer and shows it, unless a newer call was made meanwhile; rejects as the call does. */
  apply(call: Promise<MappingRow[]>): Promise<void>;
  /** No call is on its way (a refresh now cannot overtake a change). */
  idle(): boolean;
}

export function createPage(
  parts: Pick<MappingsPage, "list" | "error" | "home">,
  draw: (rows: MappingRow[]) => void,
): MappingsPage {
  let pending = 0;
  return {
    ...parts,
    async apply(call) {
      const isLatest = parts.list.ticket();
      pending++;
      try {
        const rows = await call;
        if (isLatest() && parts.list.take(rows)) draw(parts.list.rows);
      } finally {
        pending--;
      }
    },
    idle: () => pending === 0,
  };
}
