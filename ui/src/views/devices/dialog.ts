// The dialog that adds a device or edits one: its name, its address and its
// policy, each field checked as it is typed and all of them before the
// call; the Rust side's refusals land next to the field they name (the rest
// under the form). Afterwards focus returns to the row's Edit button, or to
// Add a device.

import * as ipc from "../../ipc";
import type { Device } from "../../ipc";
import { byId, closeDialog, openDialog, setFieldError, showText } from "../../dom";
import { fieldErrorsOf, messageOf } from "../../errors";
import { t } from "../../i18n";
import { PolicyFields, showRefusal } from "../policy/fields";
import { NO_POLICY } from "../policy/model";
import {
  FIELD_IDS,
  POLICY_PREFIX,
  addressProblem,
  deviceFrom,
  deviceLabel,
  nameProblem,
  type DeviceValues,
} from "./model";
import type { DevicesPage } from "./page";
import type { DevicesTable } from "./table";

export class DeviceDialog {
  /** The device edited; null while adding one. */
  private editing: Device | null = null;
  private readonly dialog: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly save: HTMLButtonElement;
  private readonly general: HTMLElement;
  private readonly name: HTMLInputElement;
  private readonly address: HTMLInputElement;
  private readonly fields: PolicyFields;

  constructor(
    private readonly section: HTMLElement,
    private readonly page: DevicesPage,
    private readonly table: DevicesTable,
  ) {
    this.dialog = byId<HTMLDialogElement>("device-dialog", section);
    this.title = byId("device-dialog-title", section);
    this.save = byId<HTMLButtonElement>("device-save", section);
    this.general = byId("device-dialog-error", section);
    this.name = byId<HTMLInputElement>("device-name", section);
    this.address = byId<HTMLInputElement>("device-address", section);
    const form = byId<HTMLFormElement>("device-form", section);
    this.fields = new PolicyFields(form, POLICY_PREFIX);
    this.name.addEventListener("input", () => this.checkName());
    this.address.addEventListener("input", () => {
      this.checkAddress();
      this.checkName(); // the label of a device without a name is its address
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    byId("device-cancel", section).addEventListener("click", () => this.finish(this.label()));
    // Escape closes the dialog natively.
    this.dialog.addEventListener("close", () => {
      // Stale when the dialog was opened again before the event ran.
      if (this.dialog.dataset.open && !this.dialog.open) this.finish(this.label());
    });
  }

  /** Opens the dialog for a new device (null) or to edit one. */
  open(device: Device | null): void {
    this.editing = device;
    this.title.textContent = device ? t("devices.editTitle", { name: deviceLabel(device) }) : t("devices.addTitle");
    this.save.textContent = device ? t("common.save") : t("devices.add");
    this.name.value = device?.name ?? "";
    this.address.value = device?.address ?? "";
    setFieldError("device-name", null, this.section);
    setFieldError("device-address", null, this.section);
    this.fields.write(device?.policy ?? NO_POLICY);
    showText(this.general, null);
    this.dialog.dataset.open = "true";
    openDialog(this.dialog);
    this.address.focus();
  }

  private values(): DeviceValues {
    return { name: this.name.value, address: this.address.value };
  }

  private others(): Device[] {
    const editing = this.editing === null ? null : deviceLabel(this.editing);
    return this.page.list.devices.filter((d) => deviceLabel(d) !== editing);
  }

  private checkName(): string | null {
    const problem = nameProblem(this.values(), this.others());
    setFieldError("device-name", problem, this.section);
    return problem;
  }

  private checkAddress(): string | null {
    const problem = addressProblem(this.values());
    setFieldError("device-address", problem, this.section);
    return problem;
  }

  private async submit(): Promise<void> {
    showText(this.general, null);
    const nameBad = this.checkName() !== null;
    const addressBad = this.checkAddress() !== null;
    const policy = this.fields.collect();
    if (nameBad) this.name.focus();
    else if (addressBad) this.address.focus();
    if (nameBad || addressBad || !policy) return;
    const editing = this.editing;
    const device = deviceFrom(this.values(), policy);
    this.save.disabled = true;
    try {
      await this.page.apply(editing ? ipc.editDevice(deviceLabel(editing), device) : ipc.addDevice(device));
      this.finish(deviceLabel(device));
    } catch (reason) {
      const errors = fieldErrorsOf(reason) ?? [{ field: "general", message: messageOf(reason) }];
      showRefusal(errors, this.fields, this.dialog, this.general, FIELD_IDS);
    } finally {
      this.save.disabled = false;
    }
  }

  private label(): string | null {
    return this.editing === null ? null : deviceLabel(this.editing);
  }

  /** Closes the dialog; focus goes to the Edit button of the device named, or home. */
  private finish(focusName: string | null): void {
    delete this.dialog.dataset.open;
    this.editing = null;
    closeDialog(this.dialog);
    const target = focusName === null ? null : this.table.control(focusName, "edit");
    (target ?? this.page.home).focus();
  }
}
