// The settings view: one form for every setting, checked as the user types
// and again before saving; errors from save_settings land next to the same
// fields. Also the upstream chain test and the "share without a password?"
// confirmation.

import * as ipc from "../ipc";
import type { Settings, Status, UpstreamReport, Step } from "../ipc";
import { ask, byId, setFieldError, showText } from "../dom";
import { formatMillis } from "../format";
import { errorIdFor, fieldErrorsOf, messageOf, placeFieldErrors, SETTINGS_FIELD_IDS } from "../errors";
import {
  TIMEOUT_KEYS,
  splitLines,
  timeoutMax,
  validateAllowedRanges,
  validatePort,
  validateTarget,
  validateTimeout,
  validateUpstream,
  type ClientPolicy,
  type TimeoutKey,
} from "../validate";

const TIMEOUT_IDS: Record<TimeoutKey, string> = {
  handshake: "timeout-handshake",
  connect: "timeout-connect",
  idle: "timeout-idle",
  bind: "timeout-bind",
  udpIdle: "timeout-udp-idle",
};

const TIMEOUT_LABELS: Record<TimeoutKey, [string, string]> = {
  handshake: ["Handshake", "Time a client has to greet, sign in and ask."],
  connect: ["Connect", "Time to reach a destination."],
  idle: ["Idle connection", "A connection with no traffic for this long is closed (up to a week)."],
  bind: ["BIND wait", "Time a BIND request waits for its peer."],
  udpIdle: ["Idle UDP", "A UDP association with no traffic for this long is closed."],
};

/** The markup around one field: label, control, hint and error slot. */
function fieldRow(id: string, label: string, control: string, hint = ""): string {
  return `
    <div class="field">
      <label for="${id}">${label}</label>
      ${control}
      <p id="hint-${id}" class="hint"${hint ? "" : " hidden"}>${hint}</p>
      <p id="${errorIdFor(id)}" class="field-error" hidden></p>
    </div>`;
}

function checkRow(id: string, label: string, hint = ""): string {
  return `
    <div class="field check">
      <input type="checkbox" id="${id}" aria-describedby="hint-${id} ${errorIdFor(id)}">
      <label for="${id}">${label}</label>
      <p id="hint-${id}" class="hint"${hint ? "" : " hidden"}>${hint}</p>
      <p id="${errorIdFor(id)}" class="field-error" hidden></p>
    </div>`;
}

function described(id: string): string {
  return `aria-describedby="hint-${id} ${errorIdFor(id)}"`;
}

function timeoutRow(key: TimeoutKey): string {
  const id = TIMEOUT_IDS[key];
  const [label, hint] = TIMEOUT_LABELS[key];
  return fieldRow(
    id,
    `${label} (seconds)`,
    `<input type="number" id="${id}" min="1" max="${timeoutMax(key)}" step="1" inputmode="numeric" required ${described(id)}>`,
    hint,
  );
}

const MARKUP = `
  <h2>Settings</h2>
  <p id="settings-warning" class="message warning" role="alert" hidden></p>
  <form id="settings-form" novalidate>
    <fieldset>
      <legend>Network</legend>
      ${fieldRow(
        "port",
        "Port",
        `<input type="number" id="port" min="1" max="65535" step="1" inputmode="numeric" required ${described("port")}>`,
      )}
      ${checkRow("share-on-lan", "Share on my network", "Other devices on your local network can use the proxy.")}
      ${checkRow("password-required", "Require a user name and password", "Add the users on the Users page.")}
      ${fieldRow(
        "client-policy",
        "Who may connect",
        `<select id="client-policy" ${described("client-policy")}>
          <option value="loopback">Only this computer</option>
          <option value="lan">This computer and my local network</option>
          <option value="custom">Only the addresses listed below</option>
        </select>`,
      )}
      ${fieldRow(
        "allowed-ranges",
        "Allowed addresses and ranges (one a line)",
        `<textarea id="allowed-ranges" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("allowed-ranges")}></textarea>`,
        "For example 192.168.1.0/24, 10.0.0.7 or fd00::/8. Used when “Only the addresses listed below” is chosen.",
      )}
    </fieldset>
    <fieldset>
      <legend>Time limits</legend>
      <div class="grid">${TIMEOUT_KEYS.map(timeoutRow).join("")}</div>
    </fieldset>
    <fieldset>
      <legend>Upstream proxies</legend>
      ${fieldRow(
        "upstream",
        "Send traffic through these proxies, nearest first (one URL a line)",
        `<textarea id="upstream" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" placeholder="socks5://user@host:1080" ${described("upstream")}></textarea>`,
      )}
      <div class="field">
        <label for="test-target">Test destination</label>
        <div class="inline-controls">
          <input type="text" id="test-target" value="example.org:443" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("test-target")}>
          <button type="button" id="test-upstream">Test the saved chain</button>
        </div>
        <p id="hint-test-target" class="hint" hidden></p>
        <p id="${errorIdFor("test-target")}" class="field-error" hidden></p>
      </div>
      <div id="upstream-report" class="report" aria-live="polite"></div>
    </fieldset>
    <fieldset>
      <legend>App</legend>
      ${checkRow("start-on-launch", "Start the proxy when the app starts")}
      ${checkRow("launch-at-login", "Start the app when I log in")}
      ${checkRow("notifications", "Show notifications")}
    </fieldset>
    <div class="actions">
      <button type="submit" id="save-settings" class="primary">Save settings</button>
      <span id="settings-saved" class="saved" role="status"></span>
    </div>
    <p id="settings-error" class="message error" role="alert" hidden></p>
  </form>
  <dialog id="confirm-share" aria-labelledby="confirm-share-title" aria-describedby="confirm-share-text">
    <h2 id="confirm-share-title">Share without a password?</h2>
    <p id="confirm-share-text">No password is required and there is no enabled user, so anyone on your
      network could use this proxy and reach the internet as you.</p>
    <div class="actions">
      <button type="button" id="confirm-share-no" class="primary">Keep it off</button>
      <button type="button" id="confirm-share-yes">Share anyway</button>
    </div>
  </dialog>
`;

export interface SettingsOptions {
  /** Receives the server status that save_settings returns. */
  onStatus?: (status: Status) => void;
}

export interface SettingsView {
  /** Called when the view is opened: reloads the settings unless the form has unsaved edits. */
  show(): void;
  /** Resolves once the first load has finished. */
  ready: Promise<void>;
}

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
    ? `OK${time ? `, ${time}` : ""}`
    : `Failed${step.error ? `: ${step.error}` : ""}`;
  item.append(name, ": ", result);
  return item;
}

/** Renders a test_upstream result as a list of steps with a summary line. */
export function renderUpstreamReport(report: UpstreamReport): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const steps = document.createElement("ol");
  steps.className = "steps";
  report.hops.forEach((hop, i) => steps.append(stepItem(hop.name || `Hop ${i + 1}`, hop)));
  steps.append(stepItem(`Destination ${report.target.name}`.trim(), report.target));

  const udp = document.createElement("li");
  const udpTime = formatMillis(report.udp.millis);
  const detail = report.udp.detail ? `: ${report.udp.detail}` : "";
  udp.className = report.udp.status === "ok" ? "ok" : report.udp.status === "failed" ? "failed" : "unsupported";
  udp.textContent =
    report.udp.status === "ok"
      ? `UDP: OK${udpTime ? `, ${udpTime}` : ""}`
      : report.udp.status === "failed"
        ? `UDP: Failed${detail}`
        : `UDP: Not supported by this chain${detail}`;
  steps.append(udp);

  const summary = document.createElement("p");
  summary.className = "summary";
  const broken = [...report.hops, report.target].find((s) => !s.ok);
  summary.textContent = broken
    ? `The chain does not work: ${broken.name} failed.`
    : "The chain works for TCP connections.";
  fragment.append(summary, steps);
  return fragment;
}

export function mountSettings(section: HTMLElement, options: SettingsOptions = {}): SettingsView {
  section.innerHTML = MARKUP;
  const form = byId<HTMLFormElement>("settings-form", section);
  const input = (id: string): HTMLInputElement => byId<HTMLInputElement>(id, section);
  const port = input("port");
  const shareOnLan = input("share-on-lan");
  const passwordRequired = input("password-required");
  const policy = byId<HTMLSelectElement>("client-policy", section);
  const ranges = byId<HTMLTextAreaElement>("allowed-ranges", section);
  const upstream = byId<HTMLTextAreaElement>("upstream", section);
  const target = input("test-target");
  const testButton = byId<HTMLButtonElement>("test-upstream", section);
  const report = byId("upstream-report", section);
  const saveButton = byId<HTMLButtonElement>("save-settings", section);
  const saved = byId("settings-saved", section);
  const generalError = byId("settings-error", section);
  const warning = byId("settings-warning", section);
  const confirmShare = byId<HTMLDialogElement>("confirm-share", section);

  let loaded: Settings | null = null;
  let dirty = false;
  let saving = false;
  let shareCheck: Promise<void> | null = null;

  /** The port and upstream hints depend on the value; the other hints are fixed. */
  const setHint = (id: string, text: string | null): void => {
    showText(byId(`hint-${id}`, section), text);
  };

  function currentPolicy(): ClientPolicy {
    const v = policy.value;
    return v === "lan" || v === "custom" ? v : "loopback";
  }

  /** Checks one field, shows its message (and hint), and answers the message. */
  function checkField(id: string): string | null {
    let error: string | null = null;
    if (id === "port") {
      const r = validatePort(port.value);
      error = r.ok ? null : r.error;
      setHint("port", r.ok ? (r.hint ?? null) : null);
    } else if (id === "allowed-ranges") {
      const r = validateAllowedRanges(ranges.value, currentPolicy());
      error = r.ok ? null : r.error;
    } else if (id === "upstream") {
      const r = validateUpstream(upstream.value);
      error = r.ok ? null : r.error;
      setHint("upstream", r.ok ? (r.hint ?? null) : null);
    } else if (id === "client-policy") {
      error = ["loopback", "lan", "custom"].includes(policy.value) ? null : "Choose who may connect.";
    } else if (id === "test-target") {
      const r = validateTarget(target.value);
      error = r.ok ? null : r.error;
    } else {
      const key = TIMEOUT_KEYS.find((k) => TIMEOUT_IDS[k] === id);
      if (key) {
        const r = validateTimeout(input(id).value, key);
        error = r.ok ? null : r.error;
      }
    }
    setFieldError(id, error, section);
    return error;
  }

  function syncRangesEnabled(): void {
    ranges.disabled = currentPolicy() !== "custom";
  }

  function fill(settings: Settings): void {
    loaded = settings;
    port.value = String(settings.port);
    shareOnLan.checked = settings.shareOnLan;
    passwordRequired.checked = settings.passwordRequired;
    policy.value = settings.clientPolicy;
    ranges.value = (settings.allowedRanges ?? []).join("\n");
    for (const key of TIMEOUT_KEYS) input(TIMEOUT_IDS[key]).value = String(settings.timeouts?.[key] ?? "");
    upstream.value = (settings.upstream ?? []).join("\n");
    input("start-on-launch").checked = settings.startServerOnLaunch;
    input("launch-at-login").checked = settings.launchAtLogin;
    input("notifications").checked = settings.notifications;
    syncRangesEnabled();
    for (const id of SETTINGS_FIELD_IDS) checkField(id);
    dirty = false;
  }

  /** The settings the form describes, or null after showing what is wrong. */
  function collect(): Settings | null {
    const problems = SETTINGS_FIELD_IDS.filter((id) => checkField(id) !== null);
    if (problems.length > 0) {
      const first = problems[0];
      if (first) section.querySelector<HTMLElement>(`#${first}`)?.focus();
      return null;
    }
    const portCheck = validatePort(port.value);
    const rangesCheck = validateAllowedRanges(ranges.value, currentPolicy());
    const upstreamCheck = validateUpstream(upstream.value);
    if (!portCheck.ok || !rangesCheck.ok || !upstreamCheck.ok) return null;
    const timeouts = { ...(loaded?.timeouts ?? {}) } as Settings["timeouts"];
    for (const key of TIMEOUT_KEYS) {
      const r = validateTimeout(input(TIMEOUT_IDS[key]).value, key);
      if (!r.ok) return null;
      timeouts[key] = r.value;
    }
    // Keys this form does not show (if the app adds any) go back unchanged.
    return {
      ...(loaded ?? {}),
      port: portCheck.value,
      shareOnLan: shareOnLan.checked,
      passwordRequired: passwordRequired.checked,
      clientPolicy: currentPolicy(),
      allowedRanges: rangesCheck.value,
      timeouts,
      upstream: upstreamCheck.value,
      startServerOnLaunch: input("start-on-launch").checked,
      launchAtLogin: input("launch-at-login").checked,
      notifications: input("notifications").checked,
    };
  }

  async function load(): Promise<void> {
    try {
      const result = await ipc.getSettings();
      if (dirty || saving) return; // the user started editing meanwhile
      fill(result.settings);
      showText(warning, result.warning);
      showText(generalError, null);
    } catch (reason) {
      showText(generalError, `The settings cannot be loaded: ${messageOf(reason)}`);
    }
  }

  function edited(): void {
    dirty = true;
    saved.textContent = "";
  }

  form.addEventListener("input", (event) => {
    const el = event.target as HTMLElement;
    if (el.id === "test-target") {
      checkField("test-target");
      return;
    }
    edited();
    if (el.id) checkField(el.id);
  });

  form.addEventListener("change", (event) => {
    const el = event.target as HTMLElement;
    if (el.id === "test-target") return;
    edited();
    if (el === policy) {
      syncRangesEnabled();
      checkField("allowed-ranges");
    }
    if (el.id) checkField(el.id);
    if (el === shareOnLan && shareOnLan.checked) {
      shareCheck = confirmOpenSharing().finally(() => {
        shareCheck = null;
      });
    }
  });

  /** Sharing with no password and no enabled user is an open proxy: ask first. */
  async function confirmOpenSharing(): Promise<void> {
    if (passwordRequired.checked) return;
    let enabledUsers: number;
    try {
      const view = await ipc.listUsers();
      enabledUsers = view.users.filter((u) => u.enabled).length;
    } catch {
      enabledUsers = 0; // cannot tell: ask
    }
    if (enabledUsers > 0 || !shareOnLan.checked || passwordRequired.checked) return;
    const keep = await ask(
      confirmShare,
      byId<HTMLButtonElement>("confirm-share-yes", section),
      byId<HTMLButtonElement>("confirm-share-no", section),
    );
    if (!keep) shareOnLan.checked = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void save();
  });

  async function save(): Promise<void> {
    if (saving) return;
    if (shareCheck) await shareCheck;
    saved.textContent = "";
    showText(generalError, null);
    const settings = collect();
    if (!settings) return;
    saving = true;
    saveButton.disabled = true;
    saveButton.setAttribute("aria-busy", "true");
    try {
      const result = await ipc.saveSettings(settings);
      fill(result.settings);
      saved.textContent = "Settings saved.";
      if (result.status) options.onStatus?.(result.status);
    } catch (reason) {
      const errors = fieldErrorsOf(reason);
      if (errors === null) {
        showText(generalError, `The settings were not saved: ${messageOf(reason)}`);
      } else {
        const general: string[] = [];
        let first: string | null = null;
        for (const [id, messages] of placeFieldErrors(errors)) {
          if (id === null) general.push(...messages);
          else {
            setFieldError(id, messages.join(" "), section);
            first ??= id;
          }
        }
        showText(generalError, general.length > 0 ? general.join(" ") : null);
        if (first) section.querySelector<HTMLElement>(`#${first}`)?.focus();
      }
    } finally {
      saving = false;
      saveButton.disabled = false;
      saveButton.removeAttribute("aria-busy");
    }
  }

  testButton.addEventListener("click", () => {
    void runTest();
  });

  async function runTest(): Promise<void> {
    if (checkField("test-target") !== null) {
      target.focus();
      return;
    }
    const savedChain = (loaded?.upstream ?? []).join("\n");
    const unsaved = splitLines(upstream.value).join("\n") !== savedChain;
    testButton.disabled = true;
    report.setAttribute("aria-busy", "true");
    report.textContent = "Testing…";
    const note = unsaved ? "This tested the saved chain; save to test your changes. " : "";
    try {
      const result = await ipc.testUpstream(target.value.trim());
      report.replaceChildren(renderUpstreamReport(result));
      if (note) {
        const p = document.createElement("p");
        p.className = "hint";
        p.textContent = note.trim();
        report.prepend(p);
      }
    } catch (reason) {
      const p = document.createElement("p");
      p.className = "field-error";
      p.textContent = `${note}The test could not run: ${messageOf(reason)}`;
      report.replaceChildren(p);
    } finally {
      testButton.disabled = false;
      report.removeAttribute("aria-busy");
    }
  }

  syncRangesEnabled();
  const ready = load();
  return {
    show() {
      if (!dirty && !saving) void load();
    },
    ready,
  };
}
