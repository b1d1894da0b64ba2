import { describe, expect, it } from "vitest";
import { checkExpiry, checkHours, checkQuota, checkRate, checkTargetPattern, expiryText, quoted } from "../src/access";
import type { Policy } from "../src/ipc";
import {
  noCommand,
  NO_POLICY,
  expiresAt,
  expiryIn,
  fieldProblem,
  policyFieldId,
  policyFrom,
  policyKeyOf,
  policySummary,
  valuesOf,
  type PolicyValues,
} from "../src/views/policy/model";
import { nextExpiry } from "../src/views/users/model";
import TEXTS from "./fixtures/policy-texts.json";
import { user } from "./fixtures/users";

/** The message of a refused check, or null when it passed. */
function message(check: { ok: true } | { ok: false; error: string }): string | null {
  return check.ok ? null : check.error;
}

const GUEST: Policy = {
  rateLimit: "2 MB/s",
  quota: "5 GB/day",
  hours: ["Mon-Fri 16:00-20:00", "Sat-Sun 09:00-21:00"],
  commands: ["connect"],
  allowTargets: ["example.org", ".example.org", "*:443"],
  denyTargets: ["192.168.1.1"],
  maxSessions: 16,
  expires: "2026-12-24T18:00:00Z",
};

// The messages are proxy-core's, as src-tauri/src/settings/policy.rs gives
// them: its tests read the same cases (fixtures/policy-texts.json).
const CHECKS = {
  rateLimit: checkRate,
  quota: checkQuota,
  hours: checkHours,
  denyTargets: checkTargetPattern,
  expires: checkExpiry,
} as const;

describe("policy text, read as proxy-core reads it", () => {
  it("says of each shared text what the app says", () => {
    let checked = 0;
    for (const [field, check] of Object.entries(CHECKS)) {
      const cases = (TEXTS as unknown as Record<string, [string, string | null][]>)[field] ?? [];
      for (const [text, said] of cases) {
        expect(message(check(text)), `${field} ${JSON.stringify(text)}`).toBe(said);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it("reads rates and quotas into bytes", () => {
    const bytes = (t: string): number | null => {
      const c = checkRate(t);
      return c.ok ? c.value : null;
    };
    expect(bytes("50 MB/s")).toBe(50_000_000);
    expect(bytes("1.5 MB/s")).toBe(1_500_000);
    expect(bytes("512 KiB/s")).toBe(524_288);
    expect(bytes("10 Mbit/s")).toBe(1_250_000);
    expect(checkQuota("5 GB/day")).toEqual({ ok: true, value: { bytes: 5e9, period: "day" } });
  });

  it("reads expiry instants in RFC 3339, and writes them in UTC", () => {
    const at = checkExpiry("2026-12-24T19:00:00+01:00");
    expect(at.ok && at.value).toBe(Date.UTC(2026, 11, 24, 18));
    expect(expiryText(Date.UTC(2026, 11, 24, 18, 0, 0, 750))).toBe("2026-12-24T18:00:00Z");
  });

  it("quotes as Rust's {:?} does", () => {
    expect(quoted('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
    expect(quoted("\u001b")).toBe('"\\u{1b}"');
  });
});

describe("the policy form", () => {
  const values = (v: Partial<PolicyValues> = {}): PolicyValues => ({ ...valuesOf(NO_POLICY), ...v });

  it("shows a policy and sends it back as it was", () => {
    expect(policyFrom(valuesOf(GUEST))).toEqual(GUEST);
    expect(policyFrom(valuesOf(NO_POLICY))).toEqual(NO_POLICY);
    const shown = valuesOf(GUEST);
    expect(shown.commands).toEqual({ connect: true, bind: false, udp: false });
    expect(shown.hours).toBe("Mon-Fri 16:00-20:00\nSat-Sun 09:00-21:00");
    expect(shown.maxSessions).toBe("16");
    expect(valuesOf(NO_POLICY).commands, "no list: every command").toEqual({ connect: true, bind: true, udp: true });
  });

  it("trims, drops blank lines, and sends every command ticked as none listed", () => {
    const policy = policyFrom(
      values({ rateLimit: " 1 MB/s ", hours: "\n Mon 08:00-09:00 \n\n", denyTargets: " 10.0.0.0/8\n", maxSessions: " 3 " }),
    );
    expect(policy).toEqual({ ...NO_POLICY, rateLimit: "1 MB/s", hours: ["Mon 08:00-09:00"], denyTargets: ["10.0.0.0/8"], maxSessions: 3 });
    const two = policyFrom(values({ commands: { connect: true, bind: false, udp: true } }));
    expect(two?.commands).toEqual(["connect", "udp"]);
  });

  it("names the bad field and sends nothing while one is bad", () => {
    expect(fieldProblem("commands", values({ commands: { connect: false, bind: false, udp: false } }))).toBe(noCommand());
    expect(fieldProblem("maxSessions", values({ maxSessions: "0" }))).toBe(
      "0 is out of range: enter a number from 1 to 1000000, or nothing for no limit.",
    );
    expect(fieldProblem("maxSessions", values({ maxSessions: "2.5" }))).toContain("is not a whole number");
    expect(fieldProblem("maxSessions", values({ maxSessions: "" }))).toBeNull();
    expect(fieldProblem("denyTargets", values({ denyTargets: "10.0.0.0/8\nbad name!\n*:x" }))).toBe(
      '"bad name!" is not a name, an address or a range. "x" is not a port or a range of ports.',
    );
    expect(fieldProblem("expires", values({ expires: " soon " }))).toContain('"soon" is not a date and time');
    expect(fieldProblem("rateLimit", values({ rateLimit: "  " })), "blank is no limit").toBeNull();
    expect(policyFrom(values({ quota: "5 GB/year" }))).toBeNull();
  });

  it("places the Rust side's fields and names its own ids", () => {
    expect(policyKeyOf("policy.rateLimit")).toBe("rateLimit");
    expect(policyKeyOf("users.policy.expires")).toBe("expires");
    expect(policyKeyOf("devices.policy.allowTargets")).toBe("allowTargets");
    expect(policyKeyOf("devices.address")).toBeNull();
    expect(policyKeyOf("policy.nothing")).toBeNull();
    expect(policyFieldId("user-policy", "maxSessions")).toBe("user-policy-max-sessions");
  });

  it("says a policy in a few words", () => {
    expect(policySummary(NO_POLICY)).toBe("No limits");
    const before = Date.UTC(2026, 0, 1);
    const summary = policySummary(GUEST, before);
    expect(summary).toMatch(/^2 MB\/s · 5 GB\/day · Mon-Fri 16:00-20:00, Sat-Sun 09:00-21:00 · connect only · only 3 destinations · not 192.168.1.1 · 16 sessions · expires /);
    expect(policySummary(GUEST, Date.UTC(2027, 0, 1))).toMatch(/ · expired [^·]+$/);
    expect(policySummary({ ...NO_POLICY, maxSessions: 1, allowTargets: [".example.org"] })).toBe("only .example.org · 1 session");
  });

  it("fills in an expiry some hours ahead, and finds the next one to come", () => {
    const now = Date.UTC(2026, 0, 1, 12);
    expect(expiryIn(24, now)).toBe("2026-01-02T12:00:00Z");
    expect(expiresAt({ ...NO_POLICY, expires: "2026-01-02T12:00:00Z" })).toBe(Date.UTC(2026, 0, 2, 12));
    expect(expiresAt(NO_POLICY)).toBeNull();
    const users = [
      user("past", true, { expires: "2025-12-31T00:00:00Z" }, "expired"),
      user("later", true, { expires: "2026-03-01T00:00:00Z" }),
      user("soon", true, { expires: "2026-01-01T13:00:00Z" }),
      user("off", false, { expires: "2026-01-01T12:30:00Z" }),
      user("forever", true),
    ];
    expect(nextExpiry(users, now)).toBe(Date.UTC(2026, 0, 1, 13));
    expect(nextExpiry([users[0], users[4]].filter((u) => u !== undefined), now)).toBeNull();
  });
});
