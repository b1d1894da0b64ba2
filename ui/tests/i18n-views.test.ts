// The converted views drawn in Russian and in Chinese: no English word is
// left on screen, in a title, a label or a placeholder, but for the names
// the tests gave (users, mappings, hosts), the protocols' own words and the
// syntax proxy-core reads (units, days, examples).

import { afterEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { LiveMessage, MappingRow, Policy } from "../src/ipc";
import { setLanguage, type Language } from "../src/i18n";
import { mountConnections } from "../src/views/connections";
import { mountDevices } from "../src/views/devices";
import { mountLogs } from "../src/views/logs";
import { mountMappings } from "../src/views/mappings";
import { NO_POLICY } from "../src/views/policy/model";
import { mountUsers } from "../src/views/users";
import { mountSettings } from "../src/views/settings";
import { SETTINGS } from "./fixtures/settings";
import { flush } from "./fixtures/dom";
import { closedRow, reset, row, totals } from "./fixtures/live";
import { owner } from "./fixtures/usage";
import { user } from "./fixtures/users";

vi.mock("../src/ipc");
vi.mock("../src/graph", () => ({ createGraph: () => ({ draw: () => {}, resize: () => {} }) }));

/** Latin words that are not English for the user to read: data, protocols, syntax. */
const NOT_ENGLISH = new Set(
  [
    // The tests' data.
    "alice", "bob", "guest", "tv", "ssh", "dns", "host", "example", "gone", "direct", "hop", "corp", "build", "k3m9",
    // Protocols, formats and their words.
    "SOCKS", "SOCKS5", "SOCKS4", "USERID", "HTTP", "HTTPS", "CONNECT", "BIND", "UDP", "TCP", "PAC", "RFC", "QR", "URL",
    "IP", "IPv6", "UTC", "kB", "MB", "GB", "KiB", "Mbit", "day", "total", "Mon", "Fri", "lan", "org", "Z", "T",
    "SocksBox", "GB/day", "GB/total", "B/s", "MB/s", "KiB/s", "Mbit/s",
    // Settings: programs, Kerberos' words, variables and files, a language's own name.
    "Windows", "Kerberos", "GSS", "API", "kinit", "keytab", "ktadd", "kadmin", "KTNAME", "etc/krb", "rcmd", "REALM",
    "rcmd/proxy", "curl", "libcurl", "proxy", "all", "no", "user", "shell", "bashrc", "profile", "English",
    "env", "home/ann", "local/share", "socksbox/proxy",
  ].map((w) => w.toLowerCase()),
);

/** What a person reads in root: its text, titles, labels and placeholders. */
function readable(root: HTMLElement): string[] {
  const out: string[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) out.push(node.textContent ?? "");
  for (const el of Array.from(root.querySelectorAll<HTMLElement>("[title], [aria-label], [placeholder]"))) {
    for (const name of ["title", "aria-label", "placeholder"]) out.push(el.getAttribute(name) ?? "");
  }
  return out.filter((s) => s.trim() !== "");
}

/** The English words in what root shows. */
function englishIn(root: HTMLElement): string[] {
  const words = readable(root).flatMap((text) =>
    Array.from(text.matchAll(/[A-Za-z][A-Za-z0-9]*(?:\/[a-z]+)?/g), (m) => m[0]).filter((w) => w.length > 1),
  );
  // A word with a digit in it is data: a host, an instant.
  return Array.from(new Set(words.filter((w) => !NOT_ENGLISH.has(w.toLowerCase()) && !/\d/.test(w))));
}

const POLICY: Policy = {
  ...NO_POLICY,
  rateLimit: "2 MB/s",
  quota: "5 GB/day",
  hours: ["Mon-Fri 16:00-20:00"],
  commands: ["connect"],
  allowTargets: [".example.org", "example.com"],
  maxSessions: 3,
  expires: "2036-12-24T18:00:00Z",
};

const MAPPINGS: MappingRow[] = [
  {
    name: "ssh",
    mapping: { name: "ssh", listen: "127.0.0.1:2222", target: "build.corp.example:22", protocol: "both", route: "chain", enabled: true },
    state: { kind: "listening" },
    tcp: "127.0.0.1:2222",
    udp: "127.0.0.1:2222",
    lastError: null,
  },
  {
    name: "dns",
    mapping: { name: "dns", listen: "127.0.0.1:5353", target: "127.0.0.1:53", protocol: "udp", route: "direct", enabled: false },
    state: { kind: "stopped" },
    tcp: null,
    udp: null,
    lastError: null,
  },
];

async function drawAll(): Promise<HTMLElement> {
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  const section = (): HTMLElement => root.appendChild(document.createElement("section"));

  vi.mocked(ipc.listUsers).mockResolvedValue({
    users: [{ ...user("alice", true), policy: POLICY }, { ...user("guest", true), guest: true, state: "expired" }],
    keyringError: null,
  });
  vi.mocked(ipc.listUsage).mockResolvedValue({
    running: true,
    owners: [owner({ quota: { bytes: 5e9, period: "day", used: 1.2e9 }, rateLimit: 2e6, rate: 1e6 })],
  });
  vi.mocked(ipc.onUsersChanged).mockResolvedValue(() => {});
  const users = mountUsers(section());
  await users.ready;
  users.show();

  vi.mocked(ipc.listDevices).mockResolvedValue([{ name: "tv", address: "192.168.1.23/32", policy: POLICY }]);
  await mountDevices(section()).ready;

  vi.mocked(ipc.listMappings).mockResolvedValue(structuredClone(MAPPINGS));
  vi.mocked(ipc.onStatusChanged).mockResolvedValue(() => {});
  await mountMappings(section()).ready;

  vi.mocked(ipc.readLogs).mockResolvedValue([]);
  mountLogs(section()).show();

  vi.mocked(ipc.getSettings).mockResolvedValue({ settings: structuredClone(SETTINGS), warning: null });
  vi.mocked(ipc.gssapiAvailable).mockResolvedValue(true);
  vi.mocked(ipc.systemProxyStatus).mockResolvedValue({
    desktop: "GNOME",
    protocols: null,
    on: false,
    address: null,
    error: null,
    recovered: false,
    envFile: "/home/ann/.local/share/socksbox/proxy.env",
    envLine: "[ -r /home/ann/.local/share/socksbox/proxy.env ] && . /home/ann/.local/share/socksbox/proxy.env",
    envWritten: false,
  });
  const settings = section();
  await mountSettings(settings).ready;
  // The hidden parts too: the share question, the terminals' line.
  for (const hidden of Array.from(settings.querySelectorAll<HTMLElement>("[hidden]"))) hidden.hidden = false;

  let send: (message: LiveMessage) => void = () => {};
  vi.mocked(ipc.watchLive).mockImplementation((handler) => {
    send = handler;
    return Promise.resolve(() => Promise.resolve());
  });
  const connections = mountConnections(section());
  connections.show();
  await connections.settled();
  send(
    reset({
      sessions: [row(1, { slowed: true }), row(2), row(3, { mapping: "dns", command: "UDP" })],
      totals: totals({ since: 1000 }),
      closed: [closedRow(1)],
      users: [{ user: "alice", active: 1, sessions: 3, bytesUp: 5, bytesDown: 6 }],
      owners: [owner({ quota: null, state: "overQuota", refused: "x" })],
    }),
  );
  connections.render();
  await flush();
  connections.destroy();
  return root;
}

afterEach(() => {
  setLanguage("system");
  vi.resetAllMocks();
});

describe("the converted views in other languages", () => {
  it("speak English when English is chosen (the words these tests look for are there)", async () => {
    setLanguage("en");
    const root = await drawAll();
    const english = englishIn(root);
    for (const word of ["Connections", "Limits", "Revoke", "Listening", "Refresh"]) expect(english).toContain(word);
  });

  it.each<Language>(["ru", "zh-CN"])("leave no English words on screen in %s", async (lang) => {
    setLanguage(lang);
    const root = await drawAll();
    expect(englishIn(root)).toEqual([]);
    expect(document.documentElement.lang).toBe(lang);
  });
});
