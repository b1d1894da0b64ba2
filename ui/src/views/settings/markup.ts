// The settings view's markup: one form for every setting, the upstream
// chain test and the "share without a password?" question. The parts, the
// save errors (errors.ts) and the app's WebDriver tests find these ids:
// keep them.

import { errorIdFor } from "../../errors";
import { LANGUAGES, LANGUAGE_NAMES, systemLanguage, tHtml, type TextKey } from "../../i18n";
import { LIMIT_KEYS, LIMIT_MAX, TIMEOUT_KEYS, timeoutMax, type LimitKey, type TimeoutKey } from "../../validate";
import { PROTECTION_IDS, PROTECTION_LEVELS, type ProtectionLevel } from "./gssapi";
import { LIMIT_IDS, TIMEOUT_IDS } from "./model";

/** The fields' examples: syntax, the same in every language. */
const EXAMPLES = {
  keytab: "/etc/krb5.keytab",
  principal: "rcmd/proxy.example.org@EXAMPLE.ORG",
  realm: "@EXAMPLE.ORG",
  rate: "50 MB/s",
  upstream: "socks5://user@host:1080",
} as const;

const TIMEOUT_LABELS: Record<TimeoutKey, [TextKey, TextKey]> = {
  handshake: ["settings.timeout.handshake", "settings.timeout.handshakeHint"],
  connect: ["settings.timeout.connect", "settings.timeout.connectHint"],
  idle: ["settings.timeout.idle", "settings.timeout.idleHint"],
  bind: ["settings.timeout.bind", "settings.timeout.bindHint"],
  udpIdle: ["settings.timeout.udpIdle", "settings.timeout.udpIdleHint"],
};

/** What each limit counts, and a word more. */
const LIMIT_LABELS: Record<LimitKey, [TextKey, TextKey | null]> = {
  maxSessions: ["settings.limit.maxSessions", "settings.limit.maxSessionsHint"],
  maxHandshakes: ["settings.limit.maxHandshakes", "settings.limit.maxHandshakesHint"],
  maxSessionsPerClient: ["settings.limit.maxSessionsPerClient", "settings.limit.perClientHint"],
  maxHandshakesPerClient: ["settings.limit.maxHandshakesPerClient", "settings.limit.perClientHint"],
  maxUdpPerClient: ["settings.limit.maxUdpPerClient", null],
  maxBindPerClient: ["settings.limit.maxBindPerClient", null],
  udpDatagramsPerSecond: ["settings.limit.udpDatagramsPerSecond", "settings.limit.udpDatagramsPerSecondHint"],
};

const PROTECTION_LABELS: Record<ProtectionLevel, TextKey> = {
  none: "settings.protection.none",
  integrity: "settings.protection.integrity",
  confidentiality: "settings.protection.confidentiality",
  selective: "settings.protection.selective",
};

/** The language choice: the system's (saying which it is), then each language in its own name. */
function languageRow(): string {
  const system = LANGUAGE_NAMES[systemLanguage()];
  const options = [
    `<option value="system">${tHtml("settings.languageSystem", { language: system })}</option>`,
    ...LANGUAGES.map((lang) => `<option value="${lang}" lang="${lang}">${LANGUAGE_NAMES[lang]}</option>`),
  ].join("");
  return fieldRow(
    "language",
    tHtml("settings.language"),
    `<select id="language" ${described("language")}>${options}</select>`,
    tHtml("settings.languageHint"),
  );
}

/** The GSS-API section: hidden until the app says this build has GSS-API. */
function gssapiSection(): string {
  const levels = PROTECTION_LEVELS.map(
    (level) => `
        <span class="check">
          <input type="checkbox" id="${PROTECTION_IDS[level]}" data-level="${level}">
          <label for="${PROTECTION_IDS[level]}">${tHtml(PROTECTION_LABELS[level])}</label>
        </span>`,
  ).join("");
  return `
    <fieldset id="gssapi-section" hidden>
      <legend>${tHtml("settings.gssapi")}</legend>
      ${checkRow(
        "gssapi-enabled",
        tHtml("settings.gssapiEnabled"),
        tHtml("settings.gssapiEnabledHint"),
      )}
      ${fieldRow(
        "gssapi-keytab",
        tHtml("settings.gssapiKeytab"),
        `<input type="text" id="gssapi-keytab" placeholder="${EXAMPLES.keytab}" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("gssapi-keytab")}>`,
        tHtml("settings.gssapiKeytabHint"),
      )}
      ${fieldRow(
        "gssapi-principal",
        tHtml("settings.gssapiPrincipal"),
        `<input type="text" id="gssapi-principal" placeholder="${EXAMPLES.principal}" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("gssapi-principal")}>`,
        tHtml("settings.gssapiPrincipalHint"),
      )}
      <div class="field">
        <span id="gssapi-protection-label" class="label">${tHtml("settings.gssapiProtection")}</span>
        <div id="gssapi-protection" role="group" aria-labelledby="gssapi-protection-label" ${described("gssapi-protection")}>${levels}
        </div>
        <p id="hint-gssapi-protection" class="hint">${tHtml("settings.gssapiProtectionHint")}</p>
        <p id="${errorIdFor("gssapi-protection")}" class="field-error" hidden></p>
      </div>
      ${fieldRow(
        "gssapi-allow",
        tHtml("settings.gssapiAllow"),
        `<textarea id="gssapi-allow" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" placeholder="${EXAMPLES.realm}" ${described("gssapi-allow")}></textarea>`,
        tHtml("settings.gssapiAllowHint"),
      )}
    </fieldset>`;
}

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
    tHtml("settings.seconds", { label: tHtml(label) }),
    `<input type="number" id="${id}" min="1" max="${timeoutMax(key)}" step="1" inputmode="numeric" required ${described(id)}>`,
    tHtml(hint),
  );
}

function limitRow(key: LimitKey): string {
  const id = LIMIT_IDS[key];
  const [label, hint] = LIMIT_LABELS[key];
  return fieldRow(
    id,
    tHtml(label),
    `<input type="number" id="${id}" min="1" max="${LIMIT_MAX}" step="1" inputmode="numeric" required ${described(id)}>`,
    hint === null ? "" : tHtml(hint),
  );
}

/** The view's markup, in the language in force. */
export function settingsMarkup(): string {
  return `
  <h2>${tHtml("settings.title")}</h2>
  <p id="settings-warning" class="message warning" role="alert" hidden></p>
  <form id="settings-form" novalidate>
    <fieldset>
      <legend>${tHtml("settings.network")}</legend>
      ${fieldRow(
        "port",
        tHtml("settings.port"),
        `<input type="number" id="port" min="1" max="65535" step="1" inputmode="numeric" required ${described("port")}>`,
      )}
      ${checkRow("share-on-lan", tHtml("settings.shareOnLan"), tHtml("settings.shareOnLanHint"))}
      ${checkRow(
        "http-enabled",
        tHtml("settings.http"),
        tHtml("settings.httpHint"),
      )}
      ${checkRow("password-required", tHtml("settings.passwordRequired"), tHtml("settings.passwordRequiredHint"))}
      ${fieldRow(
        "client-policy",
        tHtml("settings.clientPolicy"),
        `<select id="client-policy" ${described("client-policy")}>
          <option value="loopback">${tHtml("settings.policyLoopback")}</option>
          <option value="lan">${tHtml("settings.policyLan")}</option>
          <option value="custom">${tHtml("settings.policyCustom")}</option>
        </select>`,
      )}
      ${fieldRow(
        "allowed-ranges",
        tHtml("settings.allowedRanges"),
        `<textarea id="allowed-ranges" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("allowed-ranges")}></textarea>`,
        tHtml("settings.allowedRangesHint"),
      )}
    </fieldset>
    ${gssapiSection()}
    <fieldset>
      <legend id="deny-legend">${tHtml("settings.deny")}</legend>
      ${fieldRow(
        "deny-targets",
        tHtml("settings.denyTargets"),
        `<textarea id="deny-targets" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("deny-targets")}></textarea>`,
        tHtml("settings.denyTargetsHint"),
      )}
      ${checkRow(
        "remote-reach-link-local",
        tHtml("settings.linkLocal"),
        tHtml("settings.linkLocalHint"),
      )}
      ${checkRow(
        "remote-reach-multicast",
        tHtml("settings.multicast"),
        tHtml("settings.multicastHint"),
      )}
    </fieldset>
    <fieldset>
      <legend>${tHtml("settings.timeLimits")}</legend>
      <div class="grid">${TIMEOUT_KEYS.map(timeoutRow).join("")}</div>
    </fieldset>
    <fieldset>
      <legend id="limits-legend">${tHtml("settings.limits")}</legend>
      <p class="hint">${tHtml("settings.limitsHint")}</p>
      <div class="grid">${LIMIT_KEYS.map(limitRow).join("")}</div>
      ${checkRow(
        "limits-for-loopback",
        tHtml("settings.limitsForLoopback"),
        tHtml("settings.limitsForLoopbackHint"),
      )}
      ${fieldRow(
        "limit-rate",
        tHtml("settings.limitRate"),
        `<input type="text" id="limit-rate" placeholder="${EXAMPLES.rate}" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("limit-rate")}>`,
        tHtml("settings.limitRateHint"),
      )}
    </fieldset>
    <fieldset>
      <legend>${tHtml("settings.upstreamTitle")}</legend>
      ${fieldRow(
        "upstream",
        tHtml("settings.upstream"),
        `<textarea id="upstream" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" placeholder="${EXAMPLES.upstream}" ${described("upstream")}></textarea>`,
      )}
      <div class="field">
        <label for="test-target">${tHtml("settings.testTarget")}</label>
        <div class="inline-controls">
          <input type="text" id="test-target" value="example.org:443" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("test-target")}>
          <button type="button" id="test-upstream">${tHtml("settings.testUpstream")}</button>
        </div>
        <p id="hint-test-target" class="hint" hidden></p>
        <p id="${errorIdFor("test-target")}" class="field-error" hidden></p>
      </div>
      <div id="upstream-report" class="report" aria-live="polite"></div>
    </fieldset>
    <fieldset>
      <legend>${tHtml("settings.app")}</legend>
      ${languageRow()}
      ${checkRow("start-on-launch", tHtml("settings.startOnLaunch"))}
      ${checkRow("launch-at-login", tHtml("settings.launchAtLogin"), tHtml("settings.launchAtLoginHint"))}
      ${checkRow("notifications", tHtml("settings.notifications"))}
    </fieldset>
    <fieldset>
      <legend>${tHtml("settings.systemProxy")}</legend>
      ${checkRow("system-proxy-env-file", tHtml("settings.envFile"), tHtml("settings.envFileHint"))}
      <p id="system-proxy-env-profile" class="hint" hidden>${tHtml("settings.envFileProfile")} <code id="settings-env-line"></code></p>
    </fieldset>
    <div class="actions">
      <button type="submit" id="save-settings" class="primary">${tHtml("settings.save")}</button>
      <span id="settings-saved" class="saved" role="status"></span>
    </div>
    <p id="settings-error" class="message error" role="alert" hidden></p>
  </form>
  <dialog id="confirm-share" aria-labelledby="confirm-share-title" aria-describedby="confirm-share-text">
    <h2 id="confirm-share-title">${tHtml("settings.confirmShareTitle")}</h2>
    <p id="confirm-share-text">${tHtml("settings.confirmShareText")}</p>
    <div class="actions">
      <button type="button" id="confirm-share-no" class="primary">${tHtml("settings.confirmShareNo")}</button>
      <button type="button" id="confirm-share-yes">${tHtml("settings.confirmShareYes")}</button>
    </div>
  </dialog>
`;
}
