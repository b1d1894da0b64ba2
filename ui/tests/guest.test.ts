import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../src/ipc";
import type { NewGuestPass, User, UsersView } from "../src/ipc";
import { mountUsers } from "../src/views/users";
import {
  noEnd,
  cardLines,
  cardWarnings,
  copyAllText,
  endsText,
  guestKeyOf,
  guestProblems,
  setupUrl,
  type GuestValues,
} from "../src/views/users/guest";
import { NO_POLICY } from "../src/views/policy/model";
import { $ as el, flush, text } from "./fixtures/dom";
import { user } from "./fixtures/users";
import cases from "./fixtures/guest-pass-inputs.json";

vi.mock("../src/ipc");

const QR_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>';

function values(hours: string, gigabytes: string, name = ""): GuestValues {
  return { hours, gigabytes, name };
}

function guest(name: string, policy: Partial<User["policy"]> = {}): User {
  return { ...user(name, true, policy), guest: true };
}

/** What add_guest_pass answers for a pass named name. */
function made(name: string, overrides: Partial<NewGuestPass> = {}): NewGuestPass {
  const policy = { ...NO_POLICY, expires: "2026-12-02T12:00:00Z", quota: "2 GB/total" };
  return {
    pass: { name, password: "k3m9Q7xTz2WpR4aB", policy },
    addresses: ["192.168.1.5:1080"],
    servesHttp: true,
    passwordRequired: true,
    sharing: true,
    users: { users: [user("alice", true), guest(name, policy)], keyringError: null },
    ...overrides,
  };
}

function type(selector: string, value: string): void {
  const input = el<HTMLInputElement>(selector);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

async function mount(view: UsersView = { users: [user("alice", true)], keyringError: null }): Promise<void> {
  vi.mocked(ipc.listUsers).mockResolvedValue(structuredClone(view));
  vi.mocked(ipc.qrCode).mockResolvedValue(QR_SVG);
  const section = document.createElement("section");
  document.body.replaceChildren(section);
  await mountUsers(section).ready;
}

beforeEach(() => {
  vi.resetAllMocks();
});

describe("a guest pass's fields", () => {
  it("are read as the app reads them (the cases src-tauri/src/guest.rs is tested with)", () => {
    let checked = 0;
    for (const [hours, gigabytes, wanted] of cases.cases as [string, string, [string, string][]][]) {
      const problems = guestProblems(values(hours, gigabytes), []);
      const said = Object.entries(problems).map(([key, message]) => [key, message]);
      expect(said, `hours ${JSON.stringify(hours)}, GB ${JSON.stringify(gigabytes)}`).toEqual(wanted);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it("need an end, and a name nobody has", () => {
    const users = [user("alice", true)];
    expect(guestProblems(values("", ""), users)).toEqual({ hours: noEnd() });
    expect(guestProblems(values("1", "", "alice"), users).name).toBe("There is already a user named “alice”.");
    expect(guestProblems(values("1", "", "x".repeat(256)), users).name).toMatch(/too long/);
    expect(guestProblems(values("1", "", " visitor "), users)).toEqual({});
    expect(guestKeyOf("guest.gigabytes")).toBe("gigabytes");
    expect(guestKeyOf("policy.quota")).toBeNull();
  });
});

describe("a guest pass's card", () => {
  it("says when the pass ends and gives its credentials and the proxy's addresses", () => {
    const pass = made("guest-k3m9");
    expect(endsText(pass)).toMatch(/^Ends on .+, or after 2 GB, whichever comes first\.$/);
    expect(cardLines(pass).map((l) => [l.label, l.value])).toEqual([
      ["User name", "guest-k3m9"],
      ["Password", "k3m9Q7xTz2WpR4aB"],
      ["Proxy for SOCKS5 and HTTP (address:port)", "192.168.1.5:1080"],
    ]);
    expect(setupUrl(pass)).toBe("http://192.168.1.5:1080/");
    expect(cardWarnings(pass)).toEqual([]);
    expect(copyAllText(pass).split("\n")).toEqual([
      "SocksBox guest pass guest-k3m9",
      endsText(pass),
      "User name: guest-k3m9",
      "Password: k3m9Q7xTz2WpR4aB",
      "Proxy for SOCKS5 and HTTP (address:port): 192.168.1.5:1080",
      "Setup page: http://192.168.1.5:1080/",
    ]);
  });

  it("warns when the pass would let nobody in from elsewhere, or keep nobody out", () => {
    const local = made("g", { addresses: ["127.0.0.1:1080"], sharing: false, passwordRequired: false, servesHttp: false });
    expect(setupUrl(local)).toBeNull();
    expect(cardLines(local).map((l) => [l.label, l.cls])).toContainEqual(["SOCKS5 proxy (address:port)", "guest-socks"]);
    const warnings = cardWarnings(local);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^Passwords are not required/);
    expect(warnings[1]).toMatch(/Share on my network/);
    const policy = { ...NO_POLICY, quota: "0.5 GB/total" };
    expect(endsText(made("g", { pass: { name: "g", password: "p", policy } }))).toBe(
      "Ends after 500 MB, up and down together.",
    );
  });
});

describe("the guest pass dialog", () => {
  it("names each bad field, sends what was typed and shows the pass once made", async () => {
    await mount();
    el<HTMLButtonElement>("#guest-pass").click();
    const dialog = el<HTMLDialogElement>("#guest-dialog");
    expect(dialog.hasAttribute("open")).toBe(true);
    expect(document.activeElement).toBe(el("#guest-hours"));

    type("#guest-hours", "0");
    expect(text("#error-guest-hours")).toMatch(/^0 is out of range/);
    expect(el("#guest-hours").getAttribute("aria-invalid")).toBe("true");
    expect(el("#error-guest-gigabytes").hidden).toBe(true);
    type("#guest-hours", "-3");
    expect(text("#error-guest-hours")).toMatch(/^-3 is out of range/);
    type("#guest-hours", "soon");
    expect(text("#error-guest-hours")).toMatch(/^"soon" is not a number of hours/);
    type("#guest-hours", "5000");
    expect(text("#error-guest-hours")).toMatch(/at most 2160 \(90 days\)/);
    type("#guest-gigabytes", "lots");
    expect(text("#error-guest-gigabytes")).toMatch(/^"lots" is not a number of GB/);
    el<HTMLFormElement>("#guest-form").requestSubmit();
    await flush();
    expect(ipc.addGuestPass).not.toHaveBeenCalled();

    el<HTMLButtonElement>('button.guest-hours-in[data-hours="24"]').click();
    expect(el<HTMLInputElement>("#guest-hours").value).toBe("24");
    expect(el("#error-guest-hours").hidden).toBe(true);
    type("#guest-gigabytes", " 2 ");
    vi.mocked(ipc.addGuestPass).mockResolvedValue(made("guest-k3m9"));
    el<HTMLFormElement>("#guest-form").requestSubmit();
    await flush();
    await flush();
    expect(ipc.addGuestPass).toHaveBeenCalledWith("", "24", "2");
    expect(el("#guest-form").hidden).toBe(true);
    expect(el("#guest-card").hidden).toBe(false);
    expect(text("#guest-card-title")).toBe("Guest pass guest-k3m9");
    expect(text("#guest-credentials .guest-user")).toBe("guest-k3m9");
    expect(text("#guest-credentials .guest-password")).toBe("k3m9Q7xTz2WpR4aB");
    expect(text("#guest-credentials .guest-socks")).toBe("192.168.1.5:1080");
    expect(text("#guest-credentials .guest-http")).toBe("192.168.1.5:1080");
    expect(ipc.qrCode).toHaveBeenCalledWith("http://192.168.1.5:1080/");
    expect(el("#guest-qr svg").getAttribute("aria-label")).toBe("QR code for http://192.168.1.5:1080/");
    expect(el("#guest-warnings").hidden).toBe(true);
    // The table shows the pass, marked, with Revoke instead of Delete.
    const row = el('tr[data-user="guest-k3m9"]');
    expect(row.querySelector(".guest-badge")?.textContent).toBe("Guest pass");
    expect(row.querySelector("button.revoke")).not.toBeNull();
    expect(row.querySelector("button.delete")).toBeNull();
    expect(el("#revoke-all-guests").hidden).toBe(false);
    expect(el('tr[data-user="alice"]').querySelector("button.delete")).not.toBeNull();

    vi.mocked(ipc.copyText).mockResolvedValue();
    el<HTMLButtonElement>('#guest-credentials button[aria-label="Copy the password"]').click();
    await flush();
    expect(ipc.copyText).toHaveBeenCalledWith("k3m9Q7xTz2WpR4aB");
    expect(text("#guest-notice")).toBe("Copied the password.");
    el<HTMLButtonElement>("#guest-copy-all").click();
    await flush();
    expect(vi.mocked(ipc.copyText).mock.calls[1]?.[0]).toContain("Password: k3m9Q7xTz2WpR4aB");

    el<HTMLButtonElement>("#guest-done").click();
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(document.body.textContent).not.toContain("k3m9Q7xTz2WpR4aB");
    expect(document.activeElement).toBe(el("#guest-pass"));
  });

  it("stays open when a close event from before it was opened again arrives late", async () => {
    await mount();
    el<HTMLButtonElement>("#guest-pass").click();
    el<HTMLButtonElement>("#guest-cancel").click();
    el<HTMLButtonElement>("#guest-pass").click();
    el("#guest-dialog").dispatchEvent(new Event("close"));
    expect(el<HTMLDialogElement>("#guest-dialog").open).toBe(true);
    // The Limits dialog, likewise.
    el<HTMLButtonElement>("#guest-cancel").click();
    el<HTMLButtonElement>('tr[data-user="alice"] .policy').click();
    el<HTMLButtonElement>("#user-policy-cancel").click();
    el<HTMLButtonElement>('tr[data-user="alice"] .policy').click();
    el("#user-policy-dialog").dispatchEvent(new Event("close"));
    expect(el<HTMLDialogElement>("#user-policy-dialog").open).toBe(true);
  });

  it("puts the app's refusals next to their fields, and opens empty again", async () => {
    await mount();
    el<HTMLButtonElement>("#guest-pass").click();
    type("#guest-hours", "1");
    type("#guest-name", "visitor");
    vi.mocked(ipc.addGuestPass).mockRejectedValue({
      errors: [
        { field: "guest.name", message: "There is already a user named \"visitor\"." },
        { field: "general", message: "The system keyring cannot be reached." },
      ],
    });
    el<HTMLFormElement>("#guest-form").requestSubmit();
    await flush();
    await flush();
    expect(text("#error-guest-name")).toBe('There is already a user named "visitor".');
    expect(text("#guest-error")).toBe("The system keyring cannot be reached.");
    expect(document.activeElement).toBe(el("#guest-name"));
    expect(el("#guest-card").hidden).toBe(true);

    el<HTMLButtonElement>("#guest-cancel").click();
    el<HTMLButtonElement>("#guest-pass").click();
    expect(el<HTMLInputElement>("#guest-name").value).toBe("");
    expect(el("#error-guest-name").hidden).toBe(true);
    expect(el("#guest-error").hidden).toBe(true);
  });
});

describe("revoking guest passes", () => {
  const listed: UsersView = { users: [user("alice", true), guest("guest-a"), guest("guest-b")], keyringError: null };

  it("revokes one after asking", async () => {
    await mount(listed);
    vi.mocked(ipc.revokeGuest).mockResolvedValue({ users: [user("alice", true), guest("guest-b")], keyringError: null });
    el<HTMLButtonElement>('tr[data-user="guest-a"] button.revoke').click();
    await flush();
    expect(text("#confirm-delete-title")).toBe("Revoke guest pass?");
    expect(text("#confirm-delete-text")).toContain("guest-a");
    expect(text("#confirm-delete-yes")).toBe("Revoke");
    el<HTMLButtonElement>("#confirm-delete-no").click();
    await flush();
    expect(ipc.revokeGuest).not.toHaveBeenCalled();

    el<HTMLButtonElement>('tr[data-user="guest-a"] button.revoke').click();
    await flush();
    el<HTMLButtonElement>("#confirm-delete-yes").click();
    await flush();
    expect(ipc.revokeGuest).toHaveBeenCalledWith("guest-a");
    expect(document.querySelector('tr[data-user="guest-a"]')).toBeNull();
    // Deleting a user still asks in its own words.
    el<HTMLButtonElement>('tr[data-user="alice"] button.delete').click();
    await flush();
    expect(text("#confirm-delete-title")).toBe("Delete user?");
    expect(text("#confirm-delete-yes")).toBe("Delete");
    el<HTMLButtonElement>("#confirm-delete-no").click();
  });

  it("revokes them all at once, and the button goes with the last", async () => {
    await mount(listed);
    vi.mocked(ipc.revokeAllGuests).mockResolvedValue({ users: [user("alice", true)], keyringError: null });
    el<HTMLButtonElement>("#revoke-all-guests").click();
    await flush();
    expect(text("#confirm-delete-text")).toContain("guest-a, guest-b");
    el<HTMLButtonElement>("#confirm-delete-yes").click();
    await flush();
    expect(ipc.revokeAllGuests).toHaveBeenCalled();
    expect(document.querySelectorAll("tr.guest")).toHaveLength(0);
    expect(el("#revoke-all-guests").hidden).toBe(true);
  });

  it("reads the list again when the users change elsewhere (the tray's Revoke)", async () => {
    let changed: () => void = () => {};
    vi.mocked(ipc.onUsersChanged).mockImplementation((handler) => {
      changed = handler;
      return Promise.resolve(() => {});
    });
    await mount(listed);
    expect(document.querySelector('tr[data-user="guest-a"]')).not.toBeNull();
    vi.mocked(ipc.listUsers).mockResolvedValue({ users: [user("alice", true), guest("guest-b")], keyringError: null });
    changed();
    await flush();
    expect(document.querySelector('tr[data-user="guest-a"]')).toBeNull();
    expect(document.querySelector('tr[data-user="guest-b"]')).not.toBeNull();
  });

  it("says why a revocation was refused", async () => {
    await mount(listed);
    vi.mocked(ipc.revokeGuest).mockRejectedValue({ kind: "unknownUser", message: 'There is no user named "guest-a".' });
    el<HTMLButtonElement>('tr[data-user="guest-a"] button.revoke').click();
    await flush();
    el<HTMLButtonElement>("#confirm-delete-yes").click();
    await flush();
    expect(text("#users-error")).toBe('There is no user named "guest-a".');
  });
});
