// The status view's markup: the server's state and its Start/Stop button,
// the open-proxy warning, the addresses it listens on, the system proxy
// switch, and the LAN sharing section (the addresses for other devices, the
// devices that opened the setup page). The parts and the app's WebDriver
// tests find these ids: keep them.

import { t, tHtml } from "../../i18n";

/** The system proxy section's words (system-proxy.ts writes them), in the current language. */
export const SYSTEM_PROXY_TEXT = {
  get label(): string {
    return t("status.sysLabel");
  },
  get unsupported(): string {
    return t("status.sysUnsupported");
  },
  get recovered(): string {
    return t("status.sysRecovered");
  },
};

/** The view's markup, in the current language. */
export function markup(): string {
  return `
  <section id="intro" class="intro" aria-labelledby="intro-title" hidden>
    <h2 id="intro-title">${tHtml("status.introTitle")}</h2>
    <p>${tHtml("status.intro1")}</p>
    <p>${tHtml("status.intro2")}</p>
    <p>${tHtml("status.intro3")}</p>
    <button id="intro-dismiss" type="button">${tHtml("status.introDismiss")}</button>
  </section>
  <h2 id="status-title">${tHtml("status.title")}</h2>
  <div class="state-row dashboard-state">
    <p class="state-line">${tHtml("status.stateLine")}
      <strong id="server-state" class="state" aria-live="polite">…</strong></p>
    <button id="server-toggle" type="button" class="primary big-toggle" disabled aria-describedby="server-state">${tHtml("status.start")}</button>
  </div>
  <div id="attention" class="attention">
    <p id="server-error" class="message error" role="alert" hidden></p>
    <div id="open-warning-block" class="message warning" hidden>
      <p id="open-warning" role="alert">${tHtml("status.openWarning")}</p>
      <p id="open-warning-advice">${tHtml("status.openWarningAdvice")}</p>
    </div>
    <div id="firewall-block" class="message warning" hidden>
      <ul id="firewall-warnings" class="plain"></ul>
      <button id="firewall-again" type="button">${tHtml("status.firewallAgain")}</button>
    </div>
  </div>
  <div class="dashboard">
  <section id="use-block" class="card" aria-labelledby="use-title">
    <h3 id="use-title">${tHtml("status.useTitle")}</h3>
    <p id="use-stopped" class="muted">${tHtml("status.useStopped")}</p>
    <div id="use-running" hidden>
      <p class="proxy-address">${tHtml("status.useAddress")}
        <code id="proxy-address" class="address"></code> <span id="proxy-address-copy"></span></p>
      <p id="use-protocols" class="hint">${tHtml("status.useProtocols")}</p>
      <p id="use-passwords" class="hint" hidden>${tHtml("status.usePasswords")}</p>
      <div id="howtos"></div>
    </div>
  </section>
  <section id="rates-block" class="card" aria-labelledby="rates-title">
    <h3 id="rates-title">${tHtml("status.ratesTitle")}</h3>
    <p class="rates">
      <span>${tHtml("conn.download")} <strong id="dash-rate-down"></strong></span>
      <span>${tHtml("conn.upload")} <strong id="dash-rate-up"></strong></span>
      <span id="dash-connections" data-count="0"></span>
    </p>
    <div id="dash-graph" class="graph small" role="img" aria-label="${tHtml("conn.graphLabel")}"></div>
    <p id="dash-rates-notice" class="notice" hidden></p>
  </section>
  </div>
  <section id="listening-block" aria-labelledby="listening-title" hidden>
    <h3 id="listening-title">${tHtml("status.listeningTitle")}</h3>
    <ul id="listening" class="addresses"></ul>
  </section>
  <section id="system-proxy-block" aria-labelledby="system-proxy-title">
    <h3 id="system-proxy-title">${tHtml("status.systemProxyTitle")}</h3>
    <div class="field check">
      <input type="checkbox" id="system-proxy-toggle" role="switch" disabled aria-describedby="system-proxy-desktop system-proxy-error">
      <label for="system-proxy-toggle">${tHtml("status.sysLabel")}</label>
      <p id="system-proxy-desktop" class="hint"></p>
    </div>
    <p id="system-proxy-error" class="message error" role="alert" hidden></p>
    <p id="system-proxy-recovered" class="message" role="status" hidden>${tHtml("status.sysRecovered")}</p>
    <div id="system-proxy-env" hidden>
      <p class="hint">${tHtml("status.sysEnvIntro")} <code id="system-proxy-env-path"></code>:</p>
      <ul id="system-proxy-env-line" class="addresses"></ul>
      <p class="hint">${tHtml("status.sysEnvAfter")}</p>
    </div>
  </section>
  <section id="lan-block" class="card" aria-labelledby="lan-title">
    <h3 id="lan-title">${tHtml("status.lanTitle")}</h3>
    <p id="lan-state" data-sharing="false"></p>
  <section id="share-block" aria-labelledby="share-title" hidden>
    <h4 id="share-title">${tHtml("status.shareTitle")}</h4>
    <p id="share-intro" class="muted"></p>
    <p id="http-off-note" class="message" hidden>${tHtml("status.httpOff")}</p>
    <ul id="share-addresses" class="addresses share"></ul>
    <section id="visits-block" aria-labelledby="visits-title" hidden>
      <h4 id="visits-title">${tHtml("status.visitsTitle")}</h4>
      <p id="visits-empty" class="muted">${tHtml("status.noVisits")}</p>
      <table id="visits" class="compact visits" hidden>
        <thead><tr>
          <th scope="col">${tHtml("status.colDevice")}</th><th scope="col">${tHtml("status.colAddress")}</th><th scope="col">${tHtml("status.colFetched")}</th>
          <th scope="col" class="num">${tHtml("status.colTimes")}</th><th scope="col">${tHtml("status.colLast")}</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </section>
  </section>
  <p id="status-notice" class="notice" role="status"></p>
`;
}
