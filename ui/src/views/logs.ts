// The logs view: the most recent log lines at or above a level. It reads them
// when the view opens, when the level changes and on the Refresh button;
// there is no timer.

import * as ipc from "../ipc";
import type { LogLevel } from "../ipc";
import { byId, showText } from "../dom";
import { messageOf } from "../errors";
import { t, tHtml } from "../i18n";

function markup(): string {
  return `
  <h2>${tHtml("logs.title")}</h2>
  <div class="toolbar">
    <div class="field inline">
      <label for="log-level">${tHtml("logs.show")}</label>
      <select id="log-level">
        <option value="error">${tHtml("logs.level.error")}</option>
        <option value="warn">${tHtml("logs.level.warn")}</option>
        <option value="info" selected>${tHtml("logs.level.info")}</option>
        <option value="debug">${tHtml("logs.level.debug")}</option>
      </select>
    </div>
    <button type="button" id="log-refresh">${tHtml("logs.refresh")}</button>
  </div>
  <p id="log-error" class="message error" role="alert" hidden></p>
  <p id="log-empty" class="muted" hidden>${tHtml("logs.empty")}</p>
  <pre id="log-lines" class="log" tabindex="0" aria-label="${tHtml("logs.linesLabel")}"></pre>
`;
}

const LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface LogsView {
  show(): void;
}

export function mountLogs(section: HTMLElement): LogsView {
  section.innerHTML = markup();
  const level = byId<HTMLSelectElement>("log-level", section);
  const refreshButton = byId<HTMLButtonElement>("log-refresh", section);
  const errorText = byId("log-error", section);
  const emptyText = byId("log-empty", section);
  const lines = byId<HTMLPreElement>("log-lines", section);

  let request = 0;
  let shownText: string | null = null;

  async function refresh(): Promise<void> {
    const wanted = LEVELS.find((l) => l === level.value) ?? "info";
    const id = ++request;
    refreshButton.setAttribute("aria-busy", "true");
    try {
      const result = await ipc.readLogs(wanted);
      if (id !== request) return; // a newer request is on its way
      const text = (Array.isArray(result) ? result : []).join("\n");
      showText(errorText, null);
      emptyText.hidden = text !== "";
      if (text !== shownText) {
        shownText = text;
        lines.textContent = text;
        lines.scrollTop = lines.scrollHeight; // newest lines are last
      }
    } catch (reason) {
      if (id !== request) return;
      showText(errorText, t("logs.unreadable", { reason: messageOf(reason) }));
    } finally {
      if (id === request) refreshButton.removeAttribute("aria-busy");
    }
  }

  level.addEventListener("change", () => void refresh());
  refreshButton.addEventListener("click", () => void refresh());

  return {
    show() {
      void refresh();
    },
  };
}
