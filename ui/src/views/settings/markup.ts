// The settings view's markup: one form for every setting, the upstream
// chain test and the "share without a password?" question. The parts, the
// save errors (errors.ts) and the app's WebDriver tests find these ids:
// keep them.

import { errorIdFor } from "../../errors";
import { LIMIT_KEYS, LIMIT_MAX, TIMEOUT_KEYS, timeoutMax, type LimitKey, type TimeoutKey } from "../../validate";
import { PROTECTION_IDS, PROTECTION_LEVELS, type ProtectionLevel } from "./gssapi";
import { LIMIT_IDS, TIMEOUT_IDS } from "./model";

/** The system proxy's terminals' file: the checkbox, what it does, the line for a shell profile. */
export const ENV_FILE_TEXT = {
  label: "Also write a file for terminals",
  hint: "While SocksBox is the system proxy (“Use as system proxy” on the Status page), http_proxy, https_proxy, all_proxy and no_proxy are written to a file for shells to read, and the file is removed when it goes off.",
  /** Followed by the file. */
  file: "The file:",
  profile: "Add this line to ~/.bashrc or ~/.profile; terminals opened afterwards read the file while it is there:",
} as const;

const TIMEOUT_LABELS: Record<TimeoutKey, [string, string]> = {
  handshake: ["Handshake", "Time a client has to greet, sign in and ask."],
  connect: ["Connect", "Time to reach a destination."],
  idle: ["Idle connection", "A connection with no traffic for this long is closed (up to a week)."],
  bind: ["BIND wait", "Time a BIND request waits for its peer."],
  udpIdle: ["Idle UDP", "A UDP association with no traffic for this long is closed."],
};

/** What each limit counts, and a word more. */
const LIMIT_LABELS: Record<LimitKey, [string, string]> = {
  maxSessions: ["Connections at once", "Of all devices together, those in their handshake included."],
  maxHandshakes: ["Connections in their handshake", "Of all devices together: greeting, sign-in and request not done yet."],
  maxSessionsPerClient: ["Connections at once, per device", "At most the number for all devices."],
  maxHandshakesPerClient: ["Connections in their handshake, per device", "At most the number for all devices."],
  maxUdpPerClient: ["UDP associations at once, per device", ""],
  maxBindPerClient: ["BIND listeners at once, per device", ""],
  udpDatagramsPerSecond: ["UDP datagrams a second, per association", "More are dropped."],
};

const PROTECTION_LABELS: Record<ProtectionLevel, string> = {
  none: "None (authentication only)",
  integrity: "Integrity (every message signed)",
  confidentiality: "Confidentiality (every message signed and encrypted)",
  selective: "Selective (the client chooses per message)",
};

/** The GSS-API section: hidden until the app says this build has GSS-API. */
function gssapiSection(): string {
  const levels = PROTECTION_LEVELS.map(
    (level) => `
        <span class="check">
          <input type="checkbox" id="${PROTECTION_IDS[level]}" data-level="${level}">
          <label for="${PROTECTION_IDS[level]}">${PROTECTION_LABELS[level]}</label>
        </span>`,
  ).join("");
  return `
    <fieldset id="gssapi-section" hidden>
      <legend>Kerberos single sign-on (GSS-API)</legend>
      ${checkRow(
        "gssapi-enabled",
        "Let programs with a Kerberos ticket log in without a password",
        "RFC 1961’s GSS-API method of SOCKS5. On, every client must log in: with a Kerberos ticket (kinit), or as one of the users with a password. The principal becomes the connection’s user, with that name’s limits.",
      )}
      ${fieldRow(
        "gssapi-keytab",
        "Keytab file",
        `<input type="text" id="gssapi-keytab" placeholder="/etc/krb5.keytab" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("gssapi-keytab")}>`,
        "A keytab is a file holding the service principal’s key, exported by your Kerberos administrator (kadmin’s ktadd); keep it readable by you alone. Empty: the system’s (KRB5_KTNAME, else /etc/krb5.keytab).",
      )}
      ${fieldRow(
        "gssapi-principal",
        "Service principal",
        `<input type="text" id="gssapi-principal" placeholder="rcmd/proxy.example.org@EXAMPLE.ORG" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("gssapi-principal")}>`,
        "The name clients ask a ticket for: rcmd/HOST@REALM (RFC 1961’s service, which curl asks for) or host/HOST@REALM, HOST being the name clients reach this computer by. Empty: any principal whose key is in the keytab.",
      )}
      <div class="field">
        <span id="gssapi-protection-label" class="label">Protection levels accepted</span>
        <div id="gssapi-protection" role="group" aria-labelledby="gssapi-protection-label" ${described("gssapi-protection")}>${levels}
        </div>
        <p id="hint-gssapi-protection" class="hint">curl and the programs built on libcurl can only do “none”: keep it accepted for them. The others seal every message, which costs speed.</p>
        <p id="${errorIdFor("gssapi-protection")}" class="field-error" hidden></p>
      </div>
      ${fieldRow(
        "gssapi-allow",
        "Allowed principals and realms (one a line)",
        `<textarea id="gssapi-allow" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" placeholder="@EXAMPLE.ORG" ${described("gssapi-allow")}></textarea>`,
        "A principal (alice@EXAMPLE.ORG), a realm (@EXAMPLE.ORG) or * for anyone with a ticket the keytab accepts. Empty: the principals of the service principal’s own realm.",
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
    `${label} (seconds)`,
    `<input type="number" id="${id}" min="1" max="${timeoutMax(key)}" step="1" inputmode="numeric" required ${described(id)}>`,
    hint,
  );
}

function limitRow(key: LimitKey): string {
  const id = LIMIT_IDS[key];
  const [label, hint] = LIMIT_LABELS[key];
  return fieldRow(
    id,
    label,
    `<input type="number" id="${id}" min="1" max="${LIMIT_MAX}" step="1" inputmode="numeric" required ${described(id)}>`,
    hint,
  );
}

export const MARKUP = `
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
      ${checkRow(
        "http-enabled",
        "Serve HTTP proxy, setup page and PAC file on the same port",
        "Phones, TVs and Windows take an HTTP proxy or a PAC file, not SOCKS; the setup page shows a device the steps. Off: the port speaks SOCKS only.",
      )}
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
    ${gssapiSection()}
    <fieldset>
      <legend id="deny-legend">Refused destinations</legend>
      ${fieldRow(
        "deny-targets",
        "Addresses and ranges no client may reach (one a line)",
        `<textarea id="deny-targets" rows="3" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("deny-targets")}></textarea>`,
        "For example 10.0.0.0/8, 192.168.1.20 or fd00::/8. Refused to every client, programs on this computer too; a name is reached only at its addresses not listed here.",
      )}
      ${checkRow(
        "remote-reach-link-local",
        "Let other devices reach link-local addresses (169.254.x.x, fe80::)",
        "Off: devices on your network cannot reach a cloud's metadata service or a router's self-configured services through the proxy.",
      )}
      ${checkRow(
        "remote-reach-multicast",
        "Let other devices reach multicast and broadcast addresses (224.0.0.0/4, ff00::/8, 255.255.255.255)",
        "Off: devices on your network cannot send to a group of hosts, or to every host, through the proxy.",
      )}
    </fieldset>
    <fieldset>
      <legend>Time limits</legend>
      <div class="grid">${TIMEOUT_KEYS.map(timeoutRow).join("")}</div>
    </fieldset>
    <fieldset>
      <legend id="limits-legend">Limits</legend>
      <p class="hint">Over a limit a connection is refused at once. A device is one IPv4 address or one IPv6 /64.</p>
      <div class="grid">${LIMIT_KEYS.map(limitRow).join("")}</div>
      ${checkRow(
        "limits-for-loopback",
        "Hold programs on this computer to the per-device limits too",
        "Off: they count only towards the numbers for all devices (a browser may keep hundreds of connections).",
      )}
      ${fieldRow(
        "limit-rate",
        "Bandwidth for the whole proxy, each way",
        `<input type="text" id="limit-rate" placeholder="50 MB/s" spellcheck="false" autocapitalize="off" autocomplete="off" ${described("limit-rate")}>`,
        "Shared fairly between the users and devices that want it, such as 50 MB/s or 100 Mbit/s. Empty: no limit. Users and devices can have limits of their own.",
      )}
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
      ${checkRow("launch-at-login", "Start the app when I log in", "It starts in the tray, its window hidden.")}
      ${checkRow("notifications", "Show notifications")}
    </fieldset>
    <fieldset>
      <legend>System proxy</legend>
      ${checkRow("system-proxy-env-file", ENV_FILE_TEXT.label, ENV_FILE_TEXT.hint)}
      <p id="system-proxy-env-profile" class="hint" hidden>${ENV_FILE_TEXT.profile} <code id="settings-env-line"></code></p>
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
