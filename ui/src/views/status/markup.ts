// The status view's markup: the server's state and its Start/Stop button,
// the open-proxy warning, the addresses it listens on, and the LAN sharing
// section (the addresses for other devices, the devices that opened the
// setup page). The parts and the app's WebDriver tests find these ids: keep them.

export const OPEN_WARNING_TEXT = "Anyone on your network can use this proxy without a password";

/** How the section starts, with HTTP served and without. */
export const SHARE_INTRO_HTTP =
  "Scan a code with the device's camera: the setup page it opens gives the steps for that device. " +
  "Or give the device the PAC URL as its automatic proxy setting, or the proxy address.";
export const SHARE_INTRO_SOCKS = "Set a device's SOCKS proxy to one of these addresses.";

export const HTTP_OFF_TEXT =
  "The setup page and the PAC file need HTTP: turn on “Serve HTTP proxy, setup page and PAC file on the same port” in Settings.";

export const NO_VISITS_TEXT = "No device has opened the setup page yet. Scan the code with the phone's camera.";

export const MARKUP = `
  <h2 id="status-title">Server</h2>
  <div class="state-row">
    <p class="state-line">Proxy server:
      <strong id="server-state" class="state" aria-live="polite">…</strong></p>
    <button id="server-toggle" type="button" class="primary" disabled aria-describedby="server-state">Start</button>
  </div>
  <p id="server-error" class="message error" role="alert" hidden></p>
  <div id="open-warning-block" class="message warning" hidden>
    <p id="open-warning" role="alert">${OPEN_WARNING_TEXT}</p>
    <p id="open-warning-advice">To close it, turn on “Require a password” in Settings and add a user, or stop sharing on your network.</p>
  </div>
  <section id="listening-block" aria-labelledby="listening-title" hidden>
    <h3 id="listening-title">Listening on</h3>
    <ul id="listening" class="addresses"></ul>
  </section>
  <section id="share-block" aria-labelledby="share-title" hidden>
    <h3 id="share-title">Use it from other devices</h3>
    <p id="share-intro" class="muted"></p>
    <p id="http-off-note" class="message" hidden>${HTTP_OFF_TEXT}</p>
    <ul id="share-addresses" class="addresses share"></ul>
    <section id="visits-block" aria-labelledby="visits-title" hidden>
      <h4 id="visits-title">Devices that opened the setup page recently</h4>
      <p id="visits-empty" class="muted">${NO_VISITS_TEXT}</p>
      <table id="visits" class="compact visits" hidden>
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Address</th><th scope="col">Fetched</th>
          <th scope="col" class="num">Times</th><th scope="col">Last</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </section>
  <p id="status-notice" class="notice" role="status"></p>
`;
