// What the LAN sharing section offers for one address (the setup page, the
// PAC file, the proxy address) and how it names the devices that opened
// the setup page. No DOM.

import { t } from "../../i18n";
import type { VisitPage } from "../../ipc";

/** The URLs a device on the network uses for one share address. */
export interface ShareLinks {
  /** The setup page, which its QR code opens: http://ADDRESS:PORT/ */
  setup: string;
  /** The PAC file, for a device's automatic proxy setting. */
  pac: string;
}

/**
 * host:port as the authority of a URL: an IPv6 host goes in brackets (the
 * app sends them bracketed already, as "[fd00::5]:1080"; a bare one is split
 * at its last colon), and a zone's % is written %25 (RFC 6874).
 */
export function urlAuthority(address: string): string {
  const text = address.trim();
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(text);
  if (bracketed) return `[${escapeZone(bracketed[1] ?? "")}]${bracketed[2] ?? ""}`;
  const colon = text.lastIndexOf(":");
  const host = colon >= 0 ? text.slice(0, colon) : text;
  if (!host.includes(":")) return text;
  return `[${escapeZone(host)}]${text.slice(colon)}`;
}

function escapeZone(host: string): string {
  return host.replace("%", "%25");
}

/** The setup page and PAC file URLs at one share address. */
export function shareLinks(address: string): ShareLinks {
  const authority = urlAuthority(address);
  return { setup: `http://${authority}/`, pac: `http://${authority}/proxy.pac` };
}

/** What a device fetched, in words. */
export function pageLabel(page: VisitPage): string {
  return t(page === "pac" ? "status.pagePac" : "status.pageSetup");
}

/** The longest raw User-Agent shown when no description fits. */
export const AGENT_SHOWN = 40;

/** Patterns tried in order: the first that matches a User-Agent names the device. */
const DEVICES: readonly [RegExp, () => string][] = [
  [/Windows Phone/, () => t("status.devWindowsPhone")],
  [/iPhone/, () => "iPhone"],
  [/iPad/, () => "iPad"],
  [/Xbox/, () => "Xbox"],
  [/PlayStation/, () => "PlayStation"],
  [/Nintendo/, () => t("status.devNintendo")],
  [/Android.*\b(TV|AFT\w*|BRAVIA)\b|GoogleTV/, () => t("status.devAndroidTv")],
  [/Android.*Mobile/, () => t("status.devAndroidPhone")],
  [/Dalvik|okhttp/, () => t("status.devAndroidDevice")],
  [/Android/, () => t("status.devAndroidTablet")],
  [/SMART-TV|SmartTV|Tizen|Web0S|webOS/, () => t("status.devSmartTv")],
  [/CrOS/, () => "Chromebook"],
  [/Windows|WinHttp/, () => t("status.devWindowsPc")],
  [/Macintosh|Mac OS X/, () => "Mac"],
  [/CFNetwork|Darwin/, () => t("status.devApple")],
  [/Linux|X11/, () => t("status.devLinuxPc")],
];

/**
 * A short description of a device from its User-Agent ("Android phone",
 * "iPhone", "Windows PC"), else the agent itself, cut to AGENT_SHOWN
 * characters. The agent is the device's word: only ever shown as text.
 */
export function describeAgent(agent: string): string {
  const text = agent.trim().replace(/\s+/g, " ");
  if (text === "") return t("status.unknownDevice");
  const known = DEVICES.find(([pattern]) => pattern.test(text));
  if (known) return known[1]();
  const chars = [...text];
  return chars.length > AGENT_SHOWN ? `${chars.slice(0, AGENT_SHOWN - 1).join("")}…` : text;
}
