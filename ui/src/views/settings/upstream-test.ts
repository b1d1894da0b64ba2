// The upstream chain test: test_upstream runs the saved chain to the test
// destination, and the report shows each hop, the destination and UDP, with
// a summary line first.

import * as ipc from "../../ipc";
import type { Step, UpstreamReport } from "../../ipc";
import { messageOf } from "../../errors";
import { formatMillis } from "../../format";
import { t } from "../../i18n";
import { splitLines } from "../../validate";
import type { SettingsForm } from "./form";
import type { SettingsState } from "./model";

function stepItem(label: string, step: Step): HTMLLIElement {
  const item = document.createElement("li");
  item.className = step.ok ? "ok" : "failed";
  const name = document.createElement("span");
  name.className = "step-name";
  name.textContent = label;
  const result = document.createElement("span");
  result.className = "step-result";
  const time = formatMillis(step.millis);
  result.textContent = step.ok
    ? time
      ? t("settings.upstream.okIn", { time })
      : t("settings.upstream.ok")
    : step.error
      ? t("settings.upstream.failedWhy", { error: step.error })
      : t("settings.upstream.failed");
  item.append(name, ": ", result);
  return item;
}

/** Renders a test_upstream result as a list of steps with a summary line. */
export function renderUpstreamReport(report: UpstreamReport): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const steps = document.createElement("ol");
  steps.className = "steps";
  report.hops.forEach((hop, i) => steps.append(stepItem(hop.name || t("settings.upstream.hop", { n: i + 1 }), hop)));
  steps.append(stepItem(t("settings.upstream.destination", { name: report.target.name }).trim(), report.target));

  const udp = document.createElement("li");
  const udpTime = formatMillis(report.udp.millis);
  const detail = report.udp.detail ? `: ${report.udp.detail}` : "";
  udp.className = report.udp.status === "ok" ? "ok" : report.udp.status === "failed" ? "failed" : "unsupported";
  udp.textContent =
    report.udp.status === "ok"
      ? udpTime
        ? t("settings.upstream.udpOkIn", { time: udpTime })
        : t("settings.upstream.udpOk")
      : report.udp.status === "failed"
        ? t("settings.upstream.udpFailed", { detail })
        : t("settings.upstream.udpUnsupported", { detail });
  steps.append(udp);

  const summary = document.createElement("p");
  summary.className = "summary";
  const broken = [...report.hops, report.target].find((s) => !s.ok);
  summary.textContent = broken
    ? t("settings.upstream.broken", { name: broken.name })
    : t("settings.upstream.works");
  fragment.append(summary, steps);
  return fragment;
}

function paragraph(className: string, text: string): HTMLParagraphElement {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  return p;
}

/** Runs the test of the saved chain and shows its report (with a note when the form's chain differs). */
export async function testChain(form: SettingsForm, state: SettingsState, button: HTMLButtonElement, report: HTMLElement): Promise<void> {
  if (form.checkField("test-target") !== null) {
    form.target.focus();
    return;
  }
  const savedChain = (state.loaded?.upstream ?? []).join("\n");
  const unsaved = splitLines(form.upstream.value).join("\n") !== savedChain;
  button.disabled = true;
  report.setAttribute("aria-busy", "true");
  report.textContent = t("settings.upstream.testing");
  const note = unsaved ? t("settings.upstream.unsaved") : "";
  try {
    const result = await ipc.testUpstream(form.target.value.trim());
    report.replaceChildren(renderUpstreamReport(result));
    if (note) report.prepend(paragraph("hint", note));
  } catch (reason) {
    const why = t("settings.upstream.couldNotRun", { reason: messageOf(reason) });
    report.replaceChildren(paragraph("field-error", note ? `${note} ${why}` : why));
  } finally {
    button.disabled = false;
    report.removeAttribute("aria-busy");
  }
}
