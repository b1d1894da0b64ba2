// What the dashboard tells a person to give a program: the address (SOCKS5
// and HTTP on the same port) and the steps for the programs people point
// at a proxy, filled from the real port and from whether a password is
// required. No DOM.

import { t } from "../../i18n";

/** One program's steps: words to read and, where there is one, the line to type. */
export interface HowTo {
  /** Names it in the page (data-program). */
  program: "firefox" | "chromium" | "curl" | "git" | "ssh" | "telegram";
  title: string;
  steps: string[];
  /** Lines to copy into a terminal, each with a Copy button. */
  commands: string[];
}

/**
 * The address a program on this computer uses: the first listening
 * address, with an unspecified host (0.0.0.0, [::]) written as the
 * loopback address of its family; null when the server listens nowhere.
 */
export function localAddress(listening: readonly string[]): string | null {
  const first = listening.find((a) => !a.startsWith("[")) ?? listening[0];
  if (!first) return null;
  const colon = first.lastIndexOf(":");
  const host = first.slice(0, colon);
  const port = first.slice(colon + 1);
  if (host === "0.0.0.0") return `127.0.0.1:${port}`;
  if (host === "[::]") return `[::1]:${port}`;
  return first;
}

/** The host and the port of host:port ([v6]:port keeps its brackets off the host). */
export function splitAddress(address: string): { host: string; port: string } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: address.slice(colon + 1) };
}

/** The steps for each program at this address; `passwords` when the proxy asks for a user and password. */
export function howTos(address: string, passwords: boolean): HowTo[] {
  const { host, port } = splitAddress(address);
  const credentials = passwords ? "USER:PASSWORD@" : "";
  const login = passwords ? [t("status.howtoLogin")] : [];
  return [
    {
      program: "firefox",
      title: "Firefox",
      steps: [t("status.howtoFirefox", { host, port }), t("status.howtoFirefoxDns"), ...login],
      commands: [],
    },
    {
      program: "chromium",
      title: t("status.howtoChromiumTitle"),
      steps: [t("status.howtoChromium"), ...(passwords ? [t("status.howtoChromiumLogin")] : [])],
      commands: [`chromium --proxy-server="socks5://${address}"`],
    },
    {
      program: "curl",
      title: "curl",
      steps: [t("status.howtoCurl")],
      commands: [`curl --socks5-hostname ${address}${passwords ? " --proxy-user USER:PASSWORD" : ""} https://example.com/`],
    },
    {
      program: "git",
      title: "git",
      steps: [t("status.howtoGit")],
      commands: [`git config --global http.proxy socks5h://${credentials}${address}`],
    },
    {
      program: "ssh",
      title: "ssh",
      steps: [t("status.howtoSsh"), ...(passwords ? [t("status.howtoSshLogin")] : [])],
      commands: [`ssh -o ProxyCommand='nc -X 5 -x ${address} %h %p' HOST`],
    },
    {
      program: "telegram",
      title: "Telegram",
      steps: [t("status.howtoTelegram", { host, port }), ...login],
      commands: [],
    },
  ];
}
