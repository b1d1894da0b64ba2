// The first start's three lines on what the app does, shown until the
// person dismisses them; the dismissal is kept in the webview's storage
// (which lives in the app's data directory, so it survives a restart).

import { byId, setHidden } from "../../dom";

/** The storage key that says the introduction was dismissed. */
export const INTRO_DISMISSED_KEY = "socksbox.introDismissed";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage refused: the lines show each time
  }
}

/** Shows the introduction unless it was dismissed before; its button dismisses it for good. */
export function mountIntro(section: HTMLElement): void {
  const block = byId("intro", section);
  const dismissed = storage()?.getItem(INTRO_DISMISSED_KEY) === "1";
  setHidden(block, dismissed);
  byId("intro-dismiss", section).addEventListener("click", () => {
    storage()?.setItem(INTRO_DISMISSED_KEY, "1");
    setHidden(block, true);
  });
}
