// The status view's markup: the server's state and its Start/Stop button,
// the open-proxy warning, the addresses it listens on and those for other
// devices. The parts and the app's WebDriver tests find these ids: keep them.

export const OPEN_WARNING_TEXT = "Anyone on your network can use this proxy without a password";

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
    <p class="muted">Set a device's SOCKS proxy to one of these addresses, or scan its code.</p>
    <ul id="share-addresses" class="addresses share"></ul>
  </section>
  <p id="status-notice" class="notice" role="status"></p>
`;
