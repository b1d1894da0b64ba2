import { describe, expect, it } from "vitest";
import {
  SETTINGS_FIELD_IDS,
  errorIdFor,
  fieldErrorsOf,
  fieldPathToId,
  isKeyringRefusal,
  messageOf,
  placeFieldErrors,
} from "../src/errors";

describe("fieldPathToId", () => {
  it.each([
    ["port", "port"],
    ["allowedRanges", "allowed-ranges"],
    ["timeouts.handshake", "timeout-handshake"],
    ["timeouts.connect", "timeout-connect"],
    ["timeouts.idle", "timeout-idle"],
    ["timeouts.bind", "timeout-bind"],
    ["timeouts.udpIdle", "timeout-udp-idle"],
    ["upstream", "upstream"],
    ["shareOnLan", "share-on-lan"],
    ["passwordRequired", "password-required"],
    ["clientPolicy", "client-policy"],
    ["startServerOnLaunch", "start-on-launch"],
    ["launchAtLogin", "launch-at-login"],
    ["notifications", "notifications"],
    ["denyTargets", "deny-targets"],
    ["remoteReach.linkLocal", "remote-reach-link-local"],
    ["remoteReach.multicast", "remote-reach-multicast"],
    ["limits.maxSessions", "limit-sessions"],
    ["limits.maxHandshakes", "limit-handshakes"],
    ["limits.maxSessionsPerClient", "limit-sessions-per-client"],
    ["limits.maxHandshakesPerClient", "limit-handshakes-per-client"],
    ["limits.maxUdpPerClient", "limit-udp-per-client"],
    ["limits.maxBindPerClient", "limit-bind-per-client"],
    ["limits.udpDatagramsPerSecond", "limit-udp-datagrams"],
    ["limits.perClientLimitsForLoopback", "limits-for-loopback"],
  ])("maps %s to #%s", (path, id) => {
    expect(fieldPathToId(path)).toBe(id);
  });

  it("maps an entry of a list to the list's field", () => {
    expect(fieldPathToId("upstream[1]")).toBe("upstream");
    expect(fieldPathToId("upstream.0")).toBe("upstream");
    expect(fieldPathToId("allowedRanges[12]")).toBe("allowed-ranges");
  });

  it("accepts the snake_case spelling", () => {
    expect(fieldPathToId("timeouts.udp_idle")).toBe("timeout-udp-idle");
    expect(fieldPathToId("allowed_ranges")).toBe("allowed-ranges");
    expect(fieldPathToId("limits.max_handshakes_per_client")).toBe("limit-handshakes-per-client");
    expect(fieldPathToId("deny_targets[3]")).toBe("deny-targets");
    expect(fieldPathToId("remote_reach.link_local")).toBe("remote-reach-link-local");
  });

  it("sends everything else to the general message", () => {
    for (const path of ["general", "", "timeouts", "limits", "remoteReach", "limits.nope", "users", "toString", "constructor", "__proto__", "timeouts.nope", "Port"]) {
      expect(fieldPathToId(path), path).toBeNull();
    }
  });

  it("has one error element per field id", () => {
    expect(errorIdFor("timeout-connect")).toBe("error-timeout-connect");
    expect(new Set(SETTINGS_FIELD_IDS).size).toBe(SETTINGS_FIELD_IDS.length);
    expect(SETTINGS_FIELD_IDS).toContain("allowed-ranges");
  });

  it("groups save errors by field", () => {
    const placed = placeFieldErrors([
      { field: "port", message: "Enter a port between 1 and 65535." },
      { field: "allowedRanges", message: "A." },
      { field: "allowedRanges", message: "B." },
      { field: "general", message: "Port 1080 is in use." },
    ]);
    expect(placed.get("port")).toEqual(["Enter a port between 1 and 65535."]);
    expect(placed.get("allowed-ranges")).toEqual(["A.", "B."]);
    expect(placed.get(null)).toEqual(["Port 1080 is in use."]);
  });
});

describe("rejections", () => {
  it("reads the field errors of save_settings", () => {
    expect(fieldErrorsOf({ errors: [{ field: "port", message: "Bad." }] })).toEqual([{ field: "port", message: "Bad." }]);
    expect(fieldErrorsOf({ errors: [{ message: "No field." }, 3] })).toEqual([{ field: "", message: "No field." }]);
    expect(fieldErrorsOf({ message: "x" })).toBeNull();
    expect(fieldErrorsOf("text")).toBeNull();
    expect(fieldErrorsOf(null)).toBeNull();
  });

  it("finds words in any kind of rejection", () => {
    expect(messageOf({ message: "The system keyring cannot be reached: x; nothing was saved." })).toContain("keyring");
    expect(messageOf("Command add_user not found")).toBe("Command add_user not found");
    expect(messageOf(new Error("boom"))).toBe("boom");
    expect(messageOf({ errors: [{ field: "port", message: "One." }, { field: "x", message: "Two." }] })).toBe("One. Two.");
    expect(messageOf(undefined)).toMatch(/\.$/);
    expect(messageOf({})).toMatch(/\.$/);
  });

  it("recognises keyring refusals by their kind, not their words", () => {
    expect(isKeyringRefusal({ kind: "keyring", message: "The system keyring cannot be reached: locked." })).toBe(true);
    expect(isKeyringRefusal({ kind: "keyring", message: "Secret Service is locked" })).toBe(true);
    expect(isKeyringRefusal({ kind: "duplicateName", message: "There is already a user named \"keyring\"." })).toBe(false);
    expect(isKeyringRefusal({ message: "The system keyring cannot be reached" })).toBe(false);
    expect(isKeyringRefusal("keyring")).toBe(false);
  });
});
