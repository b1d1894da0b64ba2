// A policy's fields on the page, in a user's or a device's dialog: their
// markup (ids start with a prefix, as both dialogs are in the page at
// once), writing a policy into them, reading and checking them (each
// field's message next to it), and the expiry's shortcuts.

import { byId, escapeHtml, setFieldError, showText } from "../../dom";
import { errorIdFor } from "../../errors";
import { t, tHtml, type TextKey } from "../../i18n";
import type { FieldError, Policy } from "../../ipc";
import {
  COMMANDS,
  POLICY_KEYS,
  commandText,
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
const EXPIRE_IN: readonly [number, TextKey][] = [
  [1, "policy.in1Hour"],
  [24, "policy.in1Day"],
  [24 * 7, "policy.in1Week"],
  [0, "policy.never"],
];

function field(id: string, label: TextKey, control: string, hint: TextKey): string {
  return `
      <div class="field">
        <label for="${id}">${tHtml(label)}</label>
        ${control}
        <p id="hint-${id}" class="hint">${tHtml(hint)}</p>
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
          <label for="${prefix}-command-${c}">${escapeHtml(commandText(c))}</label>
        </div>`,
  ).join("");
  const shortcuts = EXPIRE_IN.map(
    ([hours, label]) => `<button type="button" class="expire-in" data-hours="${hours}">${tHtml(label)}</button>`,
  ).join("");
  return `
      <div class="grid">
        ${field(id("rateLimit"), "policy.rate", text(id("rateLimit"), "2 MB/s"), "policy.rateHint")}
        ${field(id("quota"), "policy.quota", text(id("quota"), "5 GB/day"), "policy.quotaHint")}
        ${field(id("maxSessions"), "policy.maxSessions", `<input type="number" id="${id("maxSessions")}" min="1" step="1" inputmode="numeric" ${described(id("maxSessions"))}>`, "policy.noLimitHint")}
      </div>
      ${field(id("hours"), "policy.hours", lines(id("hours"), "Mon-Fri 16:00-20:00"), "policy.hoursHint")}
      <fieldset id="${commands}" class="commands" aria-describedby="${errorIdFor(commands)}">
        <legend>${tHtml("policy.commands")}</legend>
        ${boxes}
        <p id="${errorIdFor(commands)}" class="field-error" role="alert" hidden></p>
      </fieldset>
      ${field(id("allowTargets"), "policy.allowTargets", lines(id("allowTargets"), ".example.org"), "policy.allowTargetsHint")}
      ${field(id("denyTargets"), "policy.denyTargets", lines(id("denyTargets"), "192.168.1.1"), "policy.denyTargetsHint")}
      ${field(id("expires"), "policy.expires", text(id("expires"), "2026-12-24T18:00:00Z"), "policy.expiresHint")}
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
    const hint = local === null ? t("policy.expiresHint") : t("policy.expiresLocal", { local });
    showText(byId(`hint-${this.id("expires")}`, this.root), hint);
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
