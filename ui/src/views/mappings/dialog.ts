// The dialog that adds a mapping or edits one. A field is checked as it is
// typed in, and all of them before the call; the Rust side's refusals land
// next to the field they name (the rest under the form). Afterwards focus
// returns to the row's Edit button, or to Add a mapping.

import * as ipc from "../../ipc";
import type { FieldError, MappingRow } from "../../ipc";
import { byId, closeDialog, openDialog, setFieldError, showText } from "../../dom";
import { fieldErrorsOf, messageOf } from "../../errors";
import { t } from "../../i18n";
import {
  CHECKED_FIELDS,
  NEW_MAPPING,
  fieldIdOf,
  fieldProblem,
  mappingFrom,
  valuesOf,
  type FieldId,
  type MappingValues,
} from "./model";
import type { MappingsPage } from "./page";
import type { MappingsTable } from "./table";

type Field = HTMLInputElement | HTMLSelectElement;

const ALL_FIELDS: readonly FieldId[] = [...CHECKED_FIELDS, "mapping-protocol", "mapping-route"];

export class MappingDialog {
  /** The mapping edited; null while adding one. */
  private editing: MappingRow | null = null;
  private readonly dialog: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly save: HTMLButtonElement;
  private readonly general: HTMLElement;

  constructor(
    private readonly section: HTMLElement,
    private readonly page: MappingsPage,
    private readonly table: MappingsTable,
  ) {
    this.dialog = byId<HTMLDialogElement>("mapping-dialog", section);
    this.title = byId("mapping-dialog-title", section);
    this.save = byId<HTMLButtonElement>("mapping-save", section);
    this.general = byId("mapping-dialog-error", section);
    const form = byId<HTMLFormElement>("mapping-form", section);
    form.addEventListener("input", (event) => this.edited(event));
    form.addEventListener("change", (event) => this.edited(event));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    byId("mapping-cancel", section).addEventListener("click", () => this.finish(this.editing?.name ?? null));
    // Escape closes the dialog natively.
    this.dialog.addEventListener("close", () => {
      // Stale when the dialog was opened again before the event ran.
      if (this.dialog.dataset.open && !this.dialog.open) this.finish(this.editing?.name ?? null);
    });
  }

  /** Opens the dialog for a new mapping (row null) or to edit row. */
  open(row: MappingRow | null): void {
    this.editing = row;
    this.title.textContent = row ? t("mappings.editTitle", { name: row.name }) : t("mappings.addTitle");
    this.save.textContent = row ? t("common.save") : t("mappings.add");
    const values = valuesOf(row?.mapping ?? NEW_MAPPING);
    for (const id of ALL_FIELDS) {
      this.field(id).value = values[keyOf(id)];
      setFieldError(id, null, this.section);
    }
    showText(this.general, null);
    this.dialog.dataset.open = "true";
    openDialog(this.dialog);
    this.field("mapping-listen").focus();
  }

  /** A field changed: check it (the address again when the protocol changed). */
  private edited(event: Event): void {
    const id = (event.target as HTMLElement).id as FieldId;
    if (CHECKED_FIELDS.includes(id)) this.check(id);
    if (id === "mapping-protocol") this.check("mapping-listen");
  }

  private field(id: FieldId): Field {
    return byId<Field>(id, this.section);
  }

  private values(): MappingValues {
    const text = (id: FieldId): string => this.field(id).value;
    return {
      name: text("mapping-name"),
      listen: text("mapping-listen"),
      target: text("mapping-target"),
      protocol: text("mapping-protocol"),
      route: text("mapping-route"),
    };
  }

  /** Checks one field and shows its message; answers it. */
  private check(id: FieldId): string | null {
    const others = this.page.list.rows.filter((r) => r.name !== this.editing?.name);
    const problem = fieldProblem(id, this.values(), others);
    setFieldError(id, problem, this.section);
    return problem;
  }

  private async submit(): Promise<void> {
    const bad = CHECKED_FIELDS.filter((id) => this.check(id) !== null);
    showText(this.general, null);
    if (bad[0]) {
      this.field(bad[0]).focus();
      return;
    }
    const editing = this.editing;
    const mapping = mappingFrom(this.values(), editing?.mapping.enabled ?? true);
    this.save.disabled = true;
    try {
      await this.page.apply(editing ? ipc.editMapping(editing.name, mapping) : ipc.addMapping(mapping));
      this.finish(mapping.name ?? null);
    } catch (reason) {
      this.refused(reason);
    } finally {
      this.save.disabled = false;
    }
  }

  /** Puts each refusal next to its field (focus on the first), the rest under the form. */
  private refused(reason: unknown): void {
    const errors: FieldError[] = fieldErrorsOf(reason) ?? [{ field: "general", message: messageOf(reason) }];
    const general: string[] = [];
    const placed = new Map<FieldId, string[]>();
    for (const e of errors) {
      const id = fieldIdOf(e.field);
      if (id === null) general.push(e.message);
      else placed.set(id, [...(placed.get(id) ?? []), e.message]);
    }
    for (const [id, messages] of placed) setFieldError(id, messages.join(" "), this.section);
    showText(this.general, general.length > 0 ? general.join(" ") : null);
    const first = ALL_FIELDS.find((id) => placed.has(id));
    if (first) this.field(first).focus();
  }

  /** Closes the dialog; focus goes to the Edit button of the mapping named, or home. */
  private finish(focusName: string | null): void {
    delete this.dialog.dataset.open;
    this.editing = null;
    closeDialog(this.dialog);
    const target = focusName === null ? null : this.table.control(focusName, "edit");
    (target ?? this.page.home).focus();
  }
}

/** The key of MappingValues a field holds. */
function keyOf(id: FieldId): keyof MappingValues {
  return id.slice("mapping-".length) as keyof MappingValues;
}
