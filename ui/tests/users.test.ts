import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { SaveRefused, UserRefusal, UsersView } from "../src/ipc";
import { mountUsers } from "../src/views/users";
import {
  GENERATED_LENGTH,
  PASSWORD_ALPHABET,
  UserList,
  editProblem,
  generatePassword,
  passwordProblem,
  userNameProblem,
} from "../src/views/users/model";
import { $ as el, flush, text } from "./fixtures/dom";
import { user } from "./fixtures/users";
import { owner } from "./fixtures/usage";
import { USE_EVERY } from "../src/views/users";
import { NO_POLICY } from "../src/views/policy/model";

vi.mock("../src/ipc");

const TWO: UsersView = {
  users: [
    user("alice", true),
    user("bob", false),
  ],
  keyringError: null,
};
const KEYRING = "The system keyring cannot be reached: locked; nothing was saved.";


function type(selector: string, value: string): void {
  const input = el<HTMLInputElement>(selector);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

async function mount(view: UsersView = TWO): Promise<void> {
  vi.mocked(ipc.listUsers).mockResolvedValue(structuredClone(view));
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  await mountUsers(section).ready;
}

beforeEach(() => {
  vi.resetAllMocks();
});

describe("users view", () => {
  it("has one row per user with its controls", async () => {
    await mount();
    const rows = document.querySelectorAll("#users-table tbody tr");
    expect(rows).toHaveLength(2);
    const alice = el('tr[data-user="alice"]');
    expect(alice.textContent).toContain("alice");
    expect(el<HTMLInputElement>('tr[data-user="alice"] .enabled').checked).toBe(true);
    expect(el<HTMLInputElement>('tr[data-user="bob"] .enabled').checked).toBe(false);
    for (const cls of ["rename", "set-password", "delete"]) {
      expect(alice.querySelector(`button.${cls}`), cls).not.toBeNull();
    }
    const box = el<HTMLInputElement>('tr[data-user="bob"] .enabled');
    expect(document.querySelector(`label[for="${box.id}"]`)?.textContent).toContain("bob");
    expect(el("#keyring-error").hidden).toBe(true);
    expect(el("#users-empty").hidden).toBe(true);
  });

  it("shows the keyring banner from list_users", async () => {
    await mount({ users: [], keyringError: KEYRING });
    expect(el("#keyring-error").hidden).toBe(false);
    expect(text("#keyring-error")).toBe(KEYRING);
    expect(el("#users-empty").hidden).toBe(false);
  });

  it("checks the add form before calling add_user", async () => {
    await mount();
    el<HTMLButtonElement>("#add-user").click();
    await flush();
    expect(ipc.addUser).not.toHaveBeenCalled();
    expect(text("#users-error")).toContain("Enter a user name.");
    type("#new-user-name", "alice");
    expect(text("#users-error")).toContain("already a user named");
    type("#new-user-password", "x".repeat(256));
    expect(text("#users-error")).toContain("at most 255 bytes");
    type("#new-user-password", "1234567");
    expect(text("#users-error")).toContain("use at least 8 characters");
    expect(el("#new-user-password").getAttribute("aria-invalid")).toBe("true");
    type("#new-user-name", "carol");
    el<HTMLButtonElement>("#add-user").click();
    await flush();
    expect(ipc.addUser).not.toHaveBeenCalled();
    type("#new-user-password", "12345678");
    expect(el("#users-error").hidden).toBe(true);
  });

  it("generates a password, shows it, and adds the user with it", async () => {
    await mount();
    vi.mocked(ipc.addUser).mockResolvedValue({ users: [...TWO.users, user("carol", true)], keyringError: null });
    const field = el<HTMLInputElement>("#new-user-password");
    expect(field.type).toBe("password");
    type("#new-user-name", "carol");
    el<HTMLButtonElement>("#generate-password").click();
    const generated = field.value;
    expect(generated).toHaveLength(GENERATED_LENGTH);
    expect(field.type, "shown so it can be copied").toBe("text");
    expect(document.activeElement).toBe(field);
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, GENERATED_LENGTH]);
    expect(text("#new-password-hint")).toContain("copy it");
    expect(el("#users-error").hidden).toBe(true);
    el<HTMLButtonElement>("#generate-password").click();
    const second = field.value;
    expect(second, "a new one each time").not.toBe(generated);
    el<HTMLButtonElement>("#add-user").click();
    await flush();
    expect(ipc.addUser).toHaveBeenCalledExactlyOnceWith("carol", second);
    expect(field.value).toBe("");
    expect(field.type, "hidden again for the next one").toBe("password");
    expect(text("#new-password-hint")).toBe("At least 8 characters.");
  });

  it("adds a user and clears the form", async () => {
    await mount();
    vi.mocked(ipc.addUser).mockResolvedValue({ users: [...TWO.users, user("carol", true)], keyringError: null });
    type("#new-user-name", "carol");
    type("#new-user-password", "correct horse");
    el<HTMLButtonElement>("#add-user").click();
    await flush();
    expect(ipc.addUser).toHaveBeenCalledWith("carol", "correct horse");
    expect(document.querySelector('tr[data-user="carol"]')).not.toBeNull();
    expect(el<HTMLInputElement>("#new-user-name").value).toBe("");
    expect(el<HTMLInputElement>("#new-user-password").value).toBe("");
    expect(el("#users-error").hidden).toBe(true);
  });

  it("shows a keyring refusal in the banner", async () => {
    await mount();
    vi.mocked(ipc.addUser).mockRejectedValue({ kind: "keyring", message: KEYRING } satisfies UserRefusal);
    type("#new-user-name", "carol");
    type("#new-user-password", "correct horse");
    el<HTMLButtonElement>("#add-user").click();
    await flush();
    expect(text("#keyring-error")).toBe(KEYRING);
    expect(el("#keyring-error").hidden).toBe(false);
  });

  it("shows other refusals next to the form", async () => {
    await mount();
    // The words alone never decide: a refusal naming a user "keyring" is not a keyring failure.
    vi.mocked(ipc.addUser).mockRejectedValue({
      kind: "duplicateName",
      message: "A user named carol already exists (keyring).",
    } satisfies UserRefusal);
    type("#new-user-name", "carol");
    type("#new-user-password", "correct horse");
    el<HTMLButtonElement>("#add-user").click();
    await flush();
    expect(text("#users-error")).toBe("A user named carol already exists (keyring).");
    expect(el("#keyring-error").hidden).toBe(true);
  });

  it("enables and disables a user, and undoes the tick when refused", async () => {
    await mount();
    vi.mocked(ipc.setUserEnabled).mockResolvedValue({
      users: [
        user("alice", true),
        user("bob", true),
      ],
      keyringError: null,
    });
    const box = el<HTMLInputElement>('tr[data-user="bob"] .enabled');
    box.checked = true;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    await flush();
    expect(ipc.setUserEnabled).toHaveBeenCalledWith("bob", true);
    expect(el<HTMLInputElement>('tr[data-user="bob"] .enabled').checked).toBe(true);

    vi.mocked(ipc.setUserEnabled).mockRejectedValue({
      kind: "notSaved",
      message: "The users could not be saved: disk full",
    } satisfies UserRefusal);
    const aliceBox = el<HTMLInputElement>('tr[data-user="alice"] .enabled');
    aliceBox.checked = false;
    aliceBox.dispatchEvent(new Event("change", { bubbles: true }));
    await flush();
    expect(aliceBox.checked).toBe(true);
    expect(text("#users-error")).toContain("disk full");
  });

  it("renames through the dialog", async () => {
    await mount();
    vi.mocked(ipc.renameUser).mockResolvedValue({
      users: [
        user("alicia", true),
        user("bob", false),
      ],
      keyringError: null,
    });
    el<HTMLButtonElement>('tr[data-user="alice"] .rename').click();
    const dialog = el<HTMLDialogElement>("#edit-user-dialog");
    expect(dialog.hasAttribute("open")).toBe(true);
    expect(el<HTMLInputElement>("#edit-user-input").value).toBe("alice");
    type("#edit-user-input", "bob");
    expect(text("#error-edit-user-input")).toContain("already a user named");
    type("#edit-user-input", "alicia");
    el<HTMLButtonElement>("#edit-user-ok").click();
    await flush();
    expect(ipc.renameUser).toHaveBeenCalledWith("alice", "alicia");
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(document.querySelector('tr[data-user="alicia"]')).not.toBeNull();
  });

  it("sets a password through the dialog, and cancel changes nothing", async () => {
    await mount();
    vi.mocked(ipc.setPassword).mockResolvedValue(TWO);
    el<HTMLButtonElement>('tr[data-user="bob"] .set-password').click();
    expect(el<HTMLInputElement>("#edit-user-input").type).toBe("password");
    el<HTMLButtonElement>("#edit-user-ok").click();
    await flush();
    expect(ipc.setPassword).not.toHaveBeenCalled();
    expect(text("#error-edit-user-input")).toBe("Enter a password.");
    type("#edit-user-input", "short");
    expect(text("#error-edit-user-input")).toContain("use at least 8 characters");
    type("#edit-user-input", "new secret");
    el<HTMLButtonElement>("#edit-user-ok").click();
    await flush();
    expect(ipc.setPassword).toHaveBeenCalledWith("bob", "new secret");
    expect(el<HTMLInputElement>("#edit-user-input").value).toBe("");

    el<HTMLButtonElement>('tr[data-user="bob"] .rename').click();
    expect(el("#edit-user-generate").hidden, "no Generate for a name").toBe(true);
    expect(el("#edit-user-hint").hidden).toBe(true);
    el<HTMLButtonElement>("#edit-user-cancel").click();
    expect(el<HTMLDialogElement>("#edit-user-dialog").hasAttribute("open")).toBe(false);
    expect(ipc.renameUser).not.toHaveBeenCalled();
  });

  it("generates a new password in the dialog and shows it", async () => {
    await mount();
    vi.mocked(ipc.setPassword).mockResolvedValue(TWO);
    el<HTMLButtonElement>('tr[data-user="bob"] .set-password').click();
    const field = el<HTMLInputElement>("#edit-user-input");
    expect(el("#edit-user-generate").hidden).toBe(false);
    expect(text("#edit-user-hint")).toBe("At least 8 characters.");
    el<HTMLButtonElement>("#edit-user-generate").click();
    const generated = field.value;
    expect(generated).toHaveLength(GENERATED_LENGTH);
    expect(field.type).toBe("text");
    expect(text("#edit-user-hint")).toContain("copy it");
    expect(el("#error-edit-user-input").hidden).toBe(true);
    el<HTMLButtonElement>("#edit-user-ok").click();
    await flush();
    expect(ipc.setPassword).toHaveBeenCalledWith("bob", generated);
    // Opened again, it hides what is typed once more.
    el<HTMLButtonElement>('tr[data-user="bob"] .set-password').click();
    expect(field.type).toBe("password");
    expect(field.value).toBe("");
    expect(text("#edit-user-hint")).toBe("At least 8 characters.");
  });

  it("deletes only after confirmation", async () => {
    await mount();
    vi.mocked(ipc.deleteUser).mockResolvedValue({ users: [user("alice", true)], keyringError: null });
    el<HTMLButtonElement>('tr[data-user="bob"] .delete').click();
    await flush();
    expect(el<HTMLDialogElement>("#confirm-delete").hasAttribute("open")).toBe(true);
    el<HTMLButtonElement>("#confirm-delete-no").click();
    await flush();
    expect(ipc.deleteUser).not.toHaveBeenCalled();

    el<HTMLButtonElement>('tr[data-user="bob"] .delete').click();
    await flush();
    expect(text("#confirm-delete-text")).toContain("bob");
    el<HTMLButtonElement>("#confirm-delete-yes").click();
    await flush();
    expect(ipc.deleteUser).toHaveBeenCalledWith("bob");
    expect(document.querySelector('tr[data-user="bob"]')).toBeNull();
  });

  it("never lets an older list undo a newer change", async () => {
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    vi.mocked(ipc.listUsers).mockResolvedValue(structuredClone(TWO));
    const view = mountUsers(section);
    await view.ready;
    // The view is shown again: its list request is slow to answer.
    let answerList: (value: UsersView) => void = () => {};
    vi.mocked(ipc.listUsers).mockReturnValue(new Promise((resolve) => (answerList = resolve)));
    view.show();
    // Meanwhile alice is disabled, and that answer comes first.
    vi.mocked(ipc.setUserEnabled).mockResolvedValue({
      users: [
        user("alice", false),
        user("bob", false),
      ],
      keyringError: null,
    });
    const box = el<HTMLInputElement>('tr[data-user="alice"] .enabled');
    box.click();
    await flush();
    expect(el<HTMLInputElement>('tr[data-user="alice"] .enabled').checked).toBe(false);
    // The list asked for before the change arrives last: it must be ignored.
    answerList(structuredClone(TWO));
    await flush();
    expect(el<HTMLInputElement>('tr[data-user="alice"] .enabled').checked).toBe(false);
  });
});

describe("the users model", () => {
  const users = TWO.users;

  it("refuses a taken name, except the one being renamed", () => {
    expect(userNameProblem("carol", users)).toBeNull();
    expect(userNameProblem("alice", users)).toBe("There is already a user named “alice”.");
    expect(userNameProblem("alice", users, "alice")).toBeNull();
    expect(userNameProblem("", users)).toContain("Enter a user name.");
    expect(editProblem({ kind: "rename", name: "alice" }, "bob", users)).toContain("already a user named");
    expect(editProblem({ kind: "rename", name: "alice" }, "alice", users)).toBeNull();
  });

  it("checks passwords: 8 characters at least", () => {
    expect(passwordProblem("")).toBe("Enter a password.");
    expect(passwordProblem("correct horse")).toBeNull();
    expect(passwordProblem("1234567")).toBe("The password is too short: use at least 8 characters, or Generate one.");
    expect(passwordProblem("12345678")).toBeNull();
    expect(editProblem({ kind: "password", name: "alice" }, "", users)).toBe("Enter a password.");
    expect(editProblem({ kind: "password", name: "alice" }, "pw", users)).toContain("too short");
    expect(editProblem({ kind: "rename", name: "alice" }, "al", users), "names have no minimum").toBeNull();
  });

  it("generates 16 characters of the readable alphabet from the crypto generator", () => {
    expect(PASSWORD_ALPHABET).toHaveLength(57);
    for (const c of "0O1lI") expect(PASSWORD_ALPHABET).not.toContain(c);
    const spy = vi.spyOn(crypto, "getRandomValues");
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = generatePassword();
      expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{16}$/);
      expect(passwordProblem(password)).toBeNull();
      seen.add(password);
    }
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    expect(seen.size, "no repeats").toBe(200);
  });

  it("draws again rather than favour the alphabet's first characters", () => {
    // 57 characters: bytes 228 to 255 would favour the first 28; they are
    // skipped. A source giving 255 then 0, 1, 2, ...
    let next = 0;
    let calls = 0;
    const fill = (bytes: Uint8Array): void => {
      calls++;
      bytes.forEach((_, i) => (bytes[i] = i % 2 === 0 ? 255 - (i % 28) : next++));
    };
    const password = generatePassword(fill);
    expect(password).toBe(PASSWORD_ALPHABET.slice(0, 16));
    expect(calls).toBe(1);
    const always = (bytes: Uint8Array): void => {
      calls++;
      bytes.fill(calls > 3 ? 56 : 228);
    };
    calls = 0;
    expect(generatePassword(always)).toBe("9".repeat(16));
    expect(calls).toBe(4);
  });

  it("knows the latest request, and whether an answer changes the list", () => {
    const list = new UserList();
    const first = list.ticket();
    expect(first()).toBe(true);
    const second = list.ticket();
    expect(first()).toBe(false);
    expect(second()).toBe(true);
    expect(list.take(structuredClone(TWO))).toBe(true);
    expect(list.take(structuredClone(TWO))).toBe(false);
    expect(list.users).toEqual(TWO.users);
    expect(list.take({ users: [], keyringError: null })).toBe(true);
  });

  it("shows each user's state and limits, and a Limits button", async () => {
    await mount({
      users: [
        user("alice", true, { rateLimit: "2 MB/s", commands: ["connect"] }),
        user("bob", false),
        user("guest", true, { expires: "2020-01-01T00:00:00Z" }, "expired"),
      ],
      keyringError: null,
    });
    const state = (name: string): string => text(`tr[data-user="${name}"] .state`);
    expect([state("alice"), state("bob"), state("guest")]).toEqual(["Active", "Disabled", "Expired"]);
    expect(el('tr[data-user="guest"] .state').dataset.state).toBe("expired");
    expect(text('tr[data-user="alice"] .limits')).toBe("2 MB/s · connect only");
    expect(text('tr[data-user="bob"] .limits')).toBe("No limits");
    expect(text('tr[data-user="guest"] .limits')).toMatch(/^expired /);
    expect(el('tr[data-user="alice"] button.policy').getAttribute("aria-label")).toBe("Limits of alice");
  });

  it("shows each user's use while shown, in place, and says when the proxy refuses an active one", async () => {
    vi.useFakeTimers();
    const GB = 1_000_000_000;
    vi.mocked(ipc.listUsers).mockResolvedValue({
      users: [user("alice", true, { quota: "5 GB/day", rateLimit: "2 MB/s" }), user("bob", true), user("carol", false)],
      keyringError: null,
    });
    vi.mocked(ipc.listUsage).mockResolvedValue({
      running: true,
      owners: [
        owner({ today: 1.2 * GB, thisMonth: 30 * GB, quota: { bytes: 5 * GB, period: "day", used: 1.2 * GB }, rate: 1_800_000, rateLimit: 2_000_000 }),
        owner({ owner: "user bob", name: "bob", today: 3_000, thisMonth: 9_000 }),
      ],
    });
    const section = document.createElement("section");
    document.body.replaceChildren(section);
    const view = mountUsers(section);
    await view.ready;
    expect(text('tr[data-user="alice"] .use')).toBe("—");
    expect(ipc.listUsage, "hidden: not asked").not.toHaveBeenCalled();
    view.show();
    await vi.advanceTimersByTimeAsync(0);
    const alice = 'tr[data-user="alice"] .use';
    expect(text(`${alice} .use-quota`)).toBe("1.2 GB of 5 GB today");
    expect(el<HTMLMeterElement>(`${alice} .use-meter`).value).toBeCloseTo(0.24);
    expect(text(`${alice} .use-periods`)).toBe("this month 30 GB");
    expect(text(`${alice} .use-rate`)).toBe("1.8 MB/s of 2 MB/s");
    expect(el('tr[data-user="bob"] .use-quota').hidden).toBe(true);
    const lines = (css: string): string[] => Array.from(document.querySelectorAll(`${css} .use-periods > span`)).map((e) => e.textContent ?? "");
    expect(lines('tr[data-user="bob"]')).toEqual(["today 3.0 kB", "this month 9.0 kB"]);
    expect(lines('tr[data-user="carol"]'), "not counted while running: nothing yet").toEqual(["today 0 B", "this month 0 B"]);

    const row = el('tr[data-user="alice"]');
    vi.mocked(ipc.listUsage).mockResolvedValue({
      running: true,
      owners: [
        owner({
          quota: { bytes: 5 * GB, period: "day", used: 5 * GB },
          state: "overQuota",
          refused: "over its quota of 5 GB/day (5000.0 MB used this day)",
        }),
      ],
    });
    await vi.advanceTimersByTimeAsync(USE_EVERY);
    expect(el('tr[data-user="alice"]'), "refreshed in place, not redrawn").toBe(row);
    expect(text('tr[data-user="alice"] .state')).toBe("Over quota");
    expect(el('tr[data-user="alice"] .state').dataset.state).toBe("overQuota");
    expect(el('tr[data-user="alice"] .state').title).toBe(
      "The proxy refuses new connections: over its quota of 5 GB/day (5000.0 MB used this day).",
    );
    expect(text('tr[data-user="carol"] .state'), "the list's own state stays").toBe("Disabled");
    vi.mocked(ipc.listUsage).mockResolvedValue({ running: false, owners: [] });
    await vi.advanceTimersByTimeAsync(USE_EVERY);
    expect(text('tr[data-user="alice"] .use'), "stopped: nothing counted").toBe("—");
    expect(text('tr[data-user="alice"] .state')).toBe("Active");
    view.hide();
    const calls = vi.mocked(ipc.listUsage).mock.calls.length;
    await vi.advanceTimersByTimeAsync(USE_EVERY * 3);
    expect(ipc.listUsage).toHaveBeenCalledTimes(calls);
    vi.useRealTimers();
  });

  it("edits a user's limits in the dialog, checking each field first", async () => {
    await mount({ users: [user("guest", true, { quota: "5 GB/day", commands: ["connect"] })], keyringError: null });
    el<HTMLButtonElement>('tr[data-user="guest"] .policy').click();
    const dialog = el<HTMLDialogElement>("#user-policy-dialog");
    expect(dialog.hasAttribute("open")).toBe(true);
    expect(text("#user-policy-title")).toBe("Limits for guest");
    expect(el<HTMLInputElement>("#user-policy-quota").value).toBe("5 GB/day");
    expect(el<HTMLInputElement>("#user-policy-command-connect").checked).toBe(true);
    expect(el<HTMLInputElement>("#user-policy-command-bind").checked).toBe(false);

    type("#user-policy-rate-limit", "fast");
    expect(text("#error-user-policy-rate-limit")).toBe('"fast" is not a rate (such as "2 MB/s").');
    expect(el("#user-policy-rate-limit").getAttribute("aria-invalid")).toBe("true");
    const connect = el<HTMLInputElement>("#user-policy-command-connect");
    connect.checked = false;
    connect.dispatchEvent(new Event("change", { bubbles: true }));
    expect(text("#error-user-policy-commands")).toContain("Allow at least one command");
    el<HTMLButtonElement>("#user-policy-save").click();
    await flush();
    expect(ipc.setUserPolicy).not.toHaveBeenCalled();
    expect(document.activeElement?.id).toBe("user-policy-rate-limit");

    type("#user-policy-rate-limit", " 1 MB/s ");
    connect.checked = true;
    connect.dispatchEvent(new Event("change", { bubbles: true }));
    type("#user-policy-deny-targets", "192.168.1.1\n\n.ads.example\n");
    type("#user-policy-max-sessions", "4");
    type("#user-policy-expires", "2026-12-24T19:00:00+01:00");
    expect(text("#hint-user-policy-expires")).toMatch(/^That is .* here\.$/);
    const saved = user("guest", true, { rateLimit: "1 MB/s", quota: "5 GB/day", commands: ["connect"] });
    vi.mocked(ipc.setUserPolicy).mockResolvedValue({ users: [saved], keyringError: null });
    el<HTMLButtonElement>("#user-policy-save").click();
    await flush();
    expect(ipc.setUserPolicy).toHaveBeenCalledExactlyOnceWith("guest", {
      ...NO_POLICY,
      rateLimit: "1 MB/s",
      quota: "5 GB/day",
      commands: ["connect"],
      denyTargets: ["192.168.1.1", ".ads.example"],
      maxSessions: 4,
      expires: "2026-12-24T19:00:00+01:00",
    });
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(document.activeElement).toBe(el('tr[data-user="guest"] .policy'));
    expect(text('tr[data-user="guest"] .limits')).toBe("1 MB/s · 5 GB/day · connect only");
  });

  it("fills in an expiry from a shortcut, and Never clears it", async () => {
    await mount({ users: [user("guest", true)], keyringError: null });
    el<HTMLButtonElement>('tr[data-user="guest"] .policy').click();
    const before = Date.now();
    el<HTMLButtonElement>('#user-policy-dialog button.expire-in[data-hours="24"]').click();
    const expires = el<HTMLInputElement>("#user-policy-expires").value;
    expect(expires).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const at = Date.parse(expires);
    expect(at - before).toBeGreaterThan(24 * 3600_000 - 2000);
    expect(at - before).toBeLessThan(24 * 3600_000 + 2000);
    expect(el("#error-user-policy-expires").hidden).toBe(true);
    el<HTMLButtonElement>('#user-policy-dialog button.expire-in[data-hours="0"]').click();
    expect(el<HTMLInputElement>("#user-policy-expires").value).toBe("");
  });

  it("puts the app's refusal of a policy next to the field it names", async () => {
    await mount({ users: [user("guest", true)], keyringError: null });
    el<HTMLButtonElement>('tr[data-user="guest"] .policy').click();
    vi.mocked(ipc.setUserPolicy).mockRejectedValue({
      errors: [
        { field: "policy.hours", message: '"1093:00" is not a time (HH:MM).' },
        { field: "general", message: "The users could not be saved: disk full" },
      ],
    } satisfies SaveRefused);
    el<HTMLButtonElement>("#user-policy-save").click();
    await flush();
    expect(text("#error-user-policy-hours")).toBe('"1093:00" is not a time (HH:MM).');
    expect(document.activeElement?.id).toBe("user-policy-hours");
    expect(text("#user-policy-error")).toBe("The users could not be saved: disk full");
    expect(el<HTMLDialogElement>("#user-policy-dialog").hasAttribute("open")).toBe(true);
    el<HTMLButtonElement>("#user-policy-cancel").click();
    expect(el<HTMLDialogElement>("#user-policy-dialog").hasAttribute("open")).toBe(false);
  });

  it("reads the list again when a shown user expires, and not while hidden", async () => {
    vi.useFakeTimers();
    try {
      const soon = new Date(Date.now() + 60_000).toISOString();
      const view: UsersView = { users: [user("guest", true, { expires: soon })], keyringError: null };
      vi.mocked(ipc.listUsers).mockResolvedValue(structuredClone(view));
      const section = document.createElement("section");
      document.body.replaceChildren(section);
      const handle = mountUsers(section);
      await handle.ready;
      handle.show();
      await vi.advanceTimersByTimeAsync(0);
      const calls = vi.mocked(ipc.listUsers).mock.calls.length;
      vi.mocked(ipc.listUsers).mockResolvedValue({ users: [user("guest", true, { expires: soon }, "expired")], keyringError: null });
      await vi.advanceTimersByTimeAsync(59_000);
      expect(vi.mocked(ipc.listUsers).mock.calls.length, "not before it expires").toBe(calls);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(vi.mocked(ipc.listUsers).mock.calls.length).toBe(calls + 1);
      expect(text('tr[data-user="guest"] .state')).toBe("Expired");
      // Hidden, an expiry to come sets no timer.
      const later = new Date(Date.now() + 60_000).toISOString();
      vi.mocked(ipc.listUsers).mockResolvedValue({ users: [user("guest", true, { expires: later })], keyringError: null });
      handle.show();
      await vi.advanceTimersByTimeAsync(0);
      handle.hide();
      const hidden = vi.mocked(ipc.listUsers).mock.calls.length;
      await vi.advanceTimersByTimeAsync(120_000);
      expect(vi.mocked(ipc.listUsers).mock.calls.length).toBe(hidden);
    } finally {
      vi.useRealTimers();
    }
  });
});
