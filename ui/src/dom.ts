// Small DOM helpers shared by the views.

/** The element with this id (ids here are plain [a-z0-9-]) inside root; throws when it is missing. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(`#${id}`);
  if (!found) throw new Error(`element #${id} is missing`);
  return found;
}

/** Sets an element's text, touching the page only when it differs. */
export function setText(element: HTMLElement | undefined, value: string): void {
  if (element && element.textContent !== value) element.textContent = value;
}

/** Hides or shows an element, touching the page only when that changes. */
export function setHidden(element: HTMLElement, hidden: boolean): void {
  if (element.hidden !== hidden) element.hidden = hidden;
}

/** Sets an attribute, touching the page only when it differs. */
export function setAttr(element: Element, name: string, value: string): void {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

/** Text made safe to put in markup, in an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Table cells' markup for these texts, the ones from numericFrom on right-aligned as numbers. */
export function cellsOf(values: string[], numericFrom: number): string {
  return values.map((v, i) => `<td${i >= numericFrom ? ' class="num"' : ""}>${escapeHtml(v)}</td>`).join("");
}

/** Shows text in an element, hiding it when the text is empty or null. */
export function showText(element: HTMLElement, text: string | null): void {
  const value = text ?? "";
  if (element.textContent !== value) element.textContent = value;
  if (element.hidden !== (value === "")) element.hidden = value === "";
}

/** Marks a field invalid (or valid again) for assistive technology. */
export function markInvalid(field: HTMLElement, invalid: boolean): void {
  if (invalid) {
    if (field.getAttribute("aria-invalid") !== "true") field.setAttribute("aria-invalid", "true");
  } else if (field.hasAttribute("aria-invalid")) field.removeAttribute("aria-invalid");
}

/**
 * Shows a field's message next to it (in #error-<id>) and marks the field
 * invalid for assistive technology; an empty message clears both.
 */
export function setFieldError(fieldId: string, message: string | null, root: ParentNode = document): void {
  const field = root.querySelector<HTMLElement>(`#${fieldId}`);
  const slot = root.querySelector<HTMLElement>(`#error-${fieldId}`);
  if (slot) showText(slot, message);
  if (field) markInvalid(field, Boolean(message));
}

export function openDialog(dialog: HTMLDialogElement): void {
  if (dialog.open) return;
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
}

export function closeDialog(dialog: HTMLDialogElement): void {
  if (typeof dialog.close === "function") dialog.close();
  else dialog.removeAttribute("open");
}

/**
 * Opens a modal question and resolves true for yes, false for no, Escape or
 * closing. Focus starts on the safe answer and returns where it was.
 */
export function ask(
  dialog: HTMLDialogElement,
  yes: HTMLButtonElement,
  no: HTMLButtonElement,
): Promise<boolean> {
  const before = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer: boolean): void => {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("cancel", onCancel);
      closeDialog(dialog);
      if (before instanceof HTMLElement && before.isConnected) before.focus();
      resolve(answer);
    };
    const onYes = (): void => finish(true);
    const onNo = (): void => finish(false);
    const onCancel = (event: Event): void => {
      event.preventDefault();
      finish(false);
    };
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("cancel", onCancel);
    openDialog(dialog);
    no.focus();
  });
}

/** Sets a button's label for a moment ("Copied"), then puts the old one back. */
export function flashLabel(button: HTMLButtonElement, text: string, ms = 1500): void {
  const original = button.dataset.label ?? button.textContent ?? "";
  button.dataset.label = original;
  button.textContent = text;
  window.setTimeout(() => {
    button.textContent = original;
  }, ms);
}
