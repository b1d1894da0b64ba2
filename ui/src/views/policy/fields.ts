// A policy's fields on the page, in a user's or a device's dialog: their
// markup (ids start with a prefix, as both dialogs are in the page at
// once), writing a policy into them, reading and checking them (each
// field's message next to it), and the expiry's shortcuts.

import { byId, setFieldError, showText } from "../../dom";
import { errorIdFor } from "../../errors";
import type { FieldError, Policy } from "../../ipc";
import {
  COMMANDS,
  COMMAND_TEXT,
  POLICY_KEYS,
  expiryIn,
  fieldProblem,
  localExpiry,
  policyFieldId,
  policyFrom,
  policyKeyOf,
  valuesOf,
  type PolicyKey,
  type PolicyValues,
} from "./model";

/** The expiry's shortcuts: hours from now (0: never). */
const EXPIRE_IN: readonly [number, string][] = [
  [1, "In 1 hour"],
  [24, "In 1 day"],
  [24 * 7, "In 1 week"],
  [0, "Never"],
];

const EXPIRES_HINT = "In RFC 3339, such as 2026-12-24T18:00:00Z (UTC). Empty: never. A guest pass is a user that expires.";

function field(id: string, label: string, control: string, hint: string): string {
  return `
      <div class="field">
        <label for="${id}">${label}</label>
        ${control}
        <p id="hint-${id}" class="hint">${hint}</p>
        <p id="${errorIdFor(id)}" class="field-error" role="alert" hidden></p>
      </div>`;
}

function described(id: string): string {
  return `aria-describedby="hint-${id} ${errorIdFor(id)}"`;
}

function text(id: string, placeholder: string): string {
  return `<input type="text" id="${id}" placeholder="${placeholder}" autocomplete="off" spellcheck="false" autocapitalize="off" ${described(id)}>`;
}

function lines(id: string, placeholder: string): string {
  return `<textarea id="${id}" rows="2" placeholder="${placeholder}" spellcheck="false" autocapitalize="off" autocomplete="off" ${described(id)}></textarea>`;
}

/** The policy's fields, their ids starting with prefix. */
export function policyMarkup(prefix: string): string {
  const id = (key: PolicyKey): string => policyFieldId(prefix, key);
  const commands = id("commands");
  const boxes = COMMANDS.map(
    (c) => `
        <div class="field check">
          <input type="checkbox" id="${prefix}-command-${c}" data-command="${c}">
          <label for="${prefix}-command-${c}">${COMMAND_TEXT[c]}</label>
        </div>`,
  ).join("");
  const shortcuts = EXPIRE_IN.map(
    ([hours, label]) => `<button type="button" class="expire-in" data-hours="${hours}">${label}</button>`,
  ).join("");
  return `
      <div class="grid">
        ${field(id("rateLimit"), "Bandwidth, each way", text(id("rateLimit"), "2 MB/s"), "Shared by all its connections, such as 2 MB/s, 512 KiB/s or 10 Mbit/s. Empty: no limit.")}
        ${field(id("quota"), "Traffic quota", text(id("quota"), "5 GB/day"), "Up and down together, per day, week (from Monday) or month, or in all (2 GB/total: a budget that never starts again, as a guest pass has). Over it, connections are refused and open ones end.")}
        ${field(id("maxSessions"), "Connections at once", `<input type="number" id="${id("maxSessions")}" min="1" step="1" inputmode="numeric" ${described(id("maxSessions"))}>`, "Empty: no limit.")}
      </div>
      ${field(id("hours"), "Access hours (one a line)", lines(id("hours"), "Mon-Fri 16:00-20:00"), "This computer's time; Fri 22:00-02:00 runs past midnight. Empty: at any time.")}
      <fieldset id="${commands}" class="commands" aria-describedby="${errorIdFor(commands)}">
        <legend>Commands it may use</legend>
        ${boxes}
        <p id="${errorIdFor(commands)}" class="field-error" role="alert" hidden></p>
      </fieldset>
      ${field(id("allowTargets"), "Only these destinations (one a line)", lines(id("allowTargets"), ".example.org"), "A name (example.org), a name and every name under it (.example.org), an address or range, a port (*:443). Empty: any destination.")}
      ${field(id("denyTargets"), "Never these destinations (one a line)", lines(id("denyTargets"), "192.168.1.1"), "As above; refused even when also allowed.")}
      ${field(id("expires"), "Expires", text(id("expires"), "2026-12-24T18:00:00Z"), EXPIRES_HINT)}
      <div class="expire-shortcuts">${shortcuts}</div>`;
}

type Control = HTMLInputElement | HTMLTextAreaElement;

/** The policy fields inside root, their ids starting with prefix. */
export class PolicyFields {
  constructor(
    private readonly root: HTMLElement,
    private readonly prefix: string,
  ) {
    root.addEventListener("input", (event) => this.edited(event.target));
    root.addEventListener("change", (event) => this.edited(event.target));
    for (const button of Array.from(root.querySelectorAll<HTMLButtonElement>("button.expire-in"))) {
      button.addEventListener("click", () => {
        const hours = Number(button.dataset.hours ?? "0");
        this.control("expires").value = hours > 0 ? expiryIn(hours) : "";
        this.check("expires");
      });
    }
  }

  /** Shows a policy, its messages cleared. */
  write(policy: Policy): void {
    const values = valuesOf(policy);
    for (const key of POLICY_KEYS) {
      if (key !== "commands") this.control(key).value = values[key];
      setFieldError(this.id(key), null, this.root);
    }
    for (const c of COMMANDS) this.box(c).checked = values.commands[c];
    this.showExpiryHint();
  }

  /** The policy the fields describe, or null after showing what is wrong (focus on the first). */
  collect(): Policy | null {
    const bad = POLICY_KEYS.filter((key) => this.check(key) !== null);
    if (bad[0]) {
      this.focus(bad[0]);
      return null;
    }
    return policyFrom(this.read());
  }

  /** Checks one field and shows its message; answers it. */
  check(key: PolicyKey): string | null {
    const problem = fieldProblem(key, this.read());
    this.showError(key, problem);
    if (key === "expires") this.showExpiryHint();
    return problem;
  }

  showError(key: PolicyKey, message: string | null): void {
    setFieldError(this.id(key), message, this.root);
  }

  focus(key: PolicyKey): void {
    (key === "commands" ? this.box("connect") : this.control(key)).focus();
  }

  private read(): PolicyValues {
    const value = (key: PolicyKey): string => this.control(key).value;
    return {
      rateLimit: value("rateLimit"),
      quota: value("quota"),
      hours: value("hours"),
      commands: { connect: this.box("connect").checked, bind: this.box("bind").checked, udp: this.box("udp").checked },
      allowTargets: value("allowTargets"),
      denyTargets: value("denyTargets"),
      maxSessions: value("maxSessions"),
      expires: value("expires"),
    };
  }

  /** A field changed: check it. */
  private edited(target: EventTarget | null): void {
    if (!(target instanceof HTMLElement)) return;
    if (target.dataset.command !== undefined) {
      this.check("commands");
      return;
    }
    const key = POLICY_KEYS.find((k) => this.id(k) === target.id);
    if (key !== undefined) this.check(key);
  }

  /** Under the expiry: when it is in this computer's time, or how to write it. */
  private showExpiryHint(): void {
    const local = localExpiry(this.control("expires").value);
    showText(byId(`hint-${this.id("expires")}`, this.root), local === null ? EXPIRES_HINT : `That is ${local} here.`);
  }

  private id(key: PolicyKey): string {
    return policyFieldId(this.prefix, key);
  }

  private control(key: PolicyKey): Control {
    return byId<Control>(this.id(key), this.root);
  }

  private box(command: string): HTMLInputElement {
    return byId<HTMLInputElement>(`${this.prefix}-command-${command}`, this.root);
  }
}

/**
 * Shows a refused change in a dialog with policy fields: each error of the
 * policy next to its field, those of `others` (a Rust field name to a field
 * id: "devices.address") next to theirs, the rest in `general`; focus goes
 * to the first field named.
 */
export function showRefusal(
  errors: readonly FieldError[],
  fields: PolicyFields,
  root: HTMLElement,
  general: HTMLElement,
  others: Readonly<Record<string, string>> = {},
): void {
  const rest: string[] = [];
  const mine = new Map<PolicyKey, string[]>();
  const theirs = new Map<string, string[]>();
  for (const e of errors) {
    const key = policyKeyOf(e.field);
    const other = Object.prototype.hasOwnProperty.call(others, e.field) ? others[e.field] : undefined;
    if (key !== null) mine.set(key, [...(mine.get(key) ?? []), e.message]);
    else if (other !== undefined) theirs.set(other, [...(theirs.get(other) ?? []), e.message]);
    else rest.push(e.message);
  }
  for (const [key, messages] of mine) fields.showError(key, messages.join(" "));
  for (const [id, messages] of theirs) setFieldError(id, messages.join(" "), root);
  showText(general, rest.length > 0 ? rest.join(" ") : null);
  const firstOther = Object.values(others).find((id) => theirs.has(id));
  const firstKey = POLICY_KEYS.find((key) => mine.has(key));
  if (firstOther !== undefined) byId(firstOther, root).focus();
  else if (firstKey !== undefined) fields.focus(firstKey);
}
