// The mappings view's model: the list as last answered, a mapping's state
// and settings in words, the form's fields checked one by one, and where
// the Rust side's field errors go. No DOM.

import { t, type TextKey } from "../../i18n";
import type { Mapping, MappingProtocol, MappingRoute, MappingRow } from "../../ipc";
import {
  parseListenAddress,
  validateListenAddress,
  validateMappingName,
  validateMappingTarget,
  type ListenAddress,
} from "../../validate";

/** The form's fields by the Rust side's names for them. */
export const FIELD_IDS = {
  "mappings.name": "mapping-name",
  "mappings.listen": "mapping-listen",
  "mappings.target": "mapping-target",
  "mappings.protocol": "mapping-protocol",
  "mappings.route": "mapping-route",
} as const;

export type FieldId = (typeof FIELD_IDS)[keyof typeof FIELD_IDS];

/** The fields that are checked, in page order. */
export const CHECKED_FIELDS: readonly FieldId[] = ["mapping-name", "mapping-listen", "mapping-target"];

/** The form field an error's field names, or null for the dialog's general message. */
export function fieldIdOf(path: string): FieldId | null {
  return Object.prototype.hasOwnProperty.call(FIELD_IDS, path) ? FIELD_IDS[path as keyof typeof FIELD_IDS] : null;
}

const PROTOCOL_KEYS: Record<MappingProtocol, TextKey> = {
  tcp: "mappings.protocol.tcp",
  udp: "mappings.protocol.udp",
  both: "mappings.protocol.both",
};

/** A protocol in words: "TCP", "UDP", "TCP and UDP". */
export function protocolText(protocol: MappingProtocol): string {
  return t(PROTOCOL_KEYS[protocol]);
}

const ROUTE_KEYS: Record<MappingRoute, TextKey> = {
  rules: "mappings.route.rules",
  chain: "mappings.route.chain",
  direct: "mappings.route.direct",
};

/** A route in the table's words. */
export function routeText(route: MappingRoute): string {
  return t(ROUTE_KEYS[route]);
}

const ROUTE_CHOICE_KEYS: Record<MappingRoute, TextKey> = {
  rules: "mappings.routeChoice.rules",
  chain: "mappings.routeChoice.chain",
  direct: "mappings.routeChoice.direct",
};

/** A route as the dialog offers it. */
export function routeChoice(route: MappingRoute): string {
  return t(ROUTE_CHOICE_KEYS[route]);
}

/** Where a listening mapping listens, with the real ports: "127.0.0.1:2222 (TCP and UDP)". */
function listeningOn(row: MappingRow): string {
  if (row.tcp !== null && row.tcp === row.udp) return t("mappings.at", { address: row.tcp, protocol: protocolText("both") });
  const parts = [
    row.tcp === null ? "" : t("mappings.at", { address: row.tcp, protocol: protocolText("tcp") }),
    row.udp === null ? "" : t("mappings.at", { address: row.udp, protocol: protocolText("udp") }),
  ];
  return parts.filter(Boolean).join(t("common.listSeparator")) || row.mapping.listen;
}

/** A mapping's state in words. */
export function stateText(row: MappingRow): string {
  switch (row.state.kind) {
    case "listening":
      return t("mappings.state.listening", { where: listeningOn(row) });
    case "stopped":
      return t("mappings.state.stopped");
    case "proxyStopped":
      return t("mappings.state.proxyStopped");
    case "failed":
      return t("mappings.state.failed", { reason: row.state.reason });
  }
}

/** The last error reaching the target, in words, or "". */
export function lastErrorText(row: MappingRow): string {
  return row.lastError === null ? "" : t("mappings.lastError", { error: row.lastError });
}

export class MappingList {
  /** The mappings as last answered. */
  rows: MappingRow[] = [];
  /** The list on screen, as JSON, to redraw only when it changes. */
  private shown = "";
  private requests = 0;

  /** Numbers a request; the function answers whether it is still the latest (see UserList.ticket). */
  ticket(): () => boolean {
    const mine = ++this.requests;
    return () => mine === this.requests;
  }

  /** Takes an answer; true when it differs from the list on screen. */
  take(rows: MappingRow[]): boolean {
    this.rows = Array.isArray(rows) ? rows : [];
    const key = JSON.stringify(this.rows);
    if (key === this.shown) return false;
    this.shown = key;
    return true;
  }
}

/** What the form's fields hold. */
export interface MappingValues {
  name: string;
  listen: string;
  target: string;
  protocol: string;
  route: string;
}

export function valuesOf(mapping: Mapping): MappingValues {
  return { ...mapping, name: mapping.name ?? "" };
}

export function protocolOf(value: string): MappingProtocol {
  return value === "udp" || value === "both" ? value : "tcp";
}

export function routeOf(value: string): MappingRoute {
  return value === "chain" || value === "direct" ? value : "rules";
}

/** The protocols two mappings both carry, in words, or null. */
function shared(a: MappingProtocol, b: MappingProtocol): string | null {
  const tcp = a !== "udp" && b !== "udp";
  const udp = a !== "tcp" && b !== "tcp";
  return tcp && udp ? protocolText("both") : tcp ? protocolText("tcp") : udp ? protocolText("udp") : null;
}

const UNSPECIFIED = new Set(["0.0.0.0", "::"]);

/** Whether two addresses take the same port (one of them every address of the same family). */
function overlap(a: ListenAddress, b: ListenAddress): boolean {
  return a.port === b.port && (a.ip === b.ip || (a.v6 === b.v6 && (UNSPECIFIED.has(a.ip) || UNSPECIFIED.has(b.ip))));
}

/** Which other mapping listens where these values would, in words, or null. */
function clashOf(values: MappingValues, listen: ListenAddress, others: readonly MappingRow[]): string | null {
  const protocol = protocolOf(values.protocol);
  for (const other of others) {
    const theirs = parseListenAddress(other.mapping.listen);
    const both = shared(protocol, other.mapping.protocol);
    if (theirs && both && overlap(listen, theirs)) {
      return t("mappings.clash", { name: other.name, listen: other.mapping.listen, protocol: both });
    }
  }
  return null;
}

/**
 * What is wrong with one field of the form, or null; `others` are the
 * mappings beside the one edited.
 */
export function fieldProblem(id: FieldId, values: MappingValues, others: readonly MappingRow[]): string | null {
  switch (id) {
    case "mapping-name": {
      const check = validateMappingName(values.name);
      if (!check.ok) return check.error;
      const name = check.value;
      return name !== null && others.some((o) => o.name === name) ? t("mappings.nameTaken", { name }) : null;
    }
    case "mapping-listen": {
      const check = validateListenAddress(values.listen);
      return check.ok ? clashOf(values, check.value, others) : check.error;
    }
    case "mapping-target": {
      const check = validateMappingTarget(values.target);
      return check.ok ? null : check.error;
    }
    default:
      return null;
  }
}

/** The mapping these values describe (trimmed, a blank name none); `enabled` is kept from the one edited. */
export function mappingFrom(values: MappingValues, enabled: boolean): Mapping {
  const name = values.name.trim();
  return {
    name: name === "" ? null : name,
    listen: values.listen.trim(),
    target: values.target.trim(),
    protocol: protocolOf(values.protocol),
    route: routeOf(values.route),
    enabled,
  };
}

/** A new mapping's fields: this computer only, TCP, as the rules say. */
export const NEW_MAPPING: Mapping = {
  name: null,
  listen: "127.0.0.1:",
  target: "",
  protocol: "tcp",
  route: "rules",
  enabled: true,
};
