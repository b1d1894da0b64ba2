import { describe, expect, it } from "vitest";
import {
  IDLE_TIMEOUT_MAX,
  LIMIT_KEYS,
  LIMIT_MAX,
  LIMIT_TOTALS,
  portMessage,
  privilegedPortHint,
  rangesEmptyMessage,
  targetMessage,
  TIMEOUT_MAX,
  upstreamPasswordHint,
  byteLength,
  isAddressOrRange,
  isHost,
  isIPv4,
  isIPv6,
  splitLines,
  upstreamUrlProblem,
  urlHasPassword,
  validateAllowedRanges,
  validateDenyTargets,
  validateLimit,
  validatePassword,
  validatePort,
  validateTarget,
  validateTimeout,
  validateUpstream,
  validateUserName,
} from "../src/validate";

describe("validatePort", () => {
  it.each([
    ["1", 1],
    ["1080", 1080],
    [" 8080 ", 8080],
    ["65535", 65535],
  ])("accepts %j", (raw, value) => {
    expect(validatePort(raw)).toMatchObject({ ok: true, value });
  });

  it.each(["", " ", "0", "65536", "-1", "1.5", "1e3", "abc", "80a", "+80", "99999999999999999999"])(
    "refuses %j with a sentence",
    (raw) => {
      expect(validatePort(raw)).toEqual({ ok: false, error: portMessage() });
    },
  );

  it("gives a hint, not an error, below 1024", () => {
    expect(validatePort("80")).toEqual({ ok: true, value: 80, hint: privilegedPortHint() });
    expect(validatePort("1023")).toMatchObject({ ok: true, hint: privilegedPortHint() });
    expect(validatePort("1024")).toEqual({ ok: true, value: 1024 });
  });

  it("writes messages as sentences", () => {
    expect(portMessage()).toBe("Enter a port between 1 and 65535.");
  });
});

describe("validateTimeout", () => {
  it("accepts 1 up to one day", () => {
    expect(validateTimeout("1", "connect")).toEqual({ ok: true, value: 1 });
    expect(validateTimeout(String(TIMEOUT_MAX), "handshake")).toEqual({ ok: true, value: 86400 });
    expect(validateTimeout("86400", "udpIdle")).toMatchObject({ ok: true });
    expect(validateTimeout("120", "bind")).toMatchObject({ ok: true, value: 120 });
  });

  it("refuses 0, fractions, text and more than a day", () => {
    for (const raw of ["0", "", "2.5", "ten", "-3", "86401"]) {
      const r = validateTimeout(raw, "connect");
      expect(r.ok, raw).toBe(false);
      if (!r.ok) expect(r.error).toBe("Enter a whole number of seconds between 1 and 86400.");
    }
  });

  it("lets the idle limit go up to a week, and no further", () => {
    expect(validateTimeout("86401", "idle")).toMatchObject({ ok: true, value: 86401 });
    expect(validateTimeout(String(IDLE_TIMEOUT_MAX), "idle")).toMatchObject({ ok: true, value: 604800 });
    const r = validateTimeout("604801", "idle");
    expect(r).toEqual({ ok: false, error: "Enter a whole number of seconds between 1 and 604800." });
    expect(validateTimeout("604800", "handshake").ok).toBe(false);
  });
});

describe("validateLimit", () => {
  it("takes whole numbers from 1 to 1000000", () => {
    expect(LIMIT_MAX).toBe(1_000_000);
    expect(validateLimit("1")).toEqual({ ok: true, value: 1 });
    expect(validateLimit(" 4096 ")).toEqual({ ok: true, value: 4096 });
    expect(validateLimit("1000000")).toEqual({ ok: true, value: 1_000_000 });
  });

  it.each([
    ["", "Enter a number from 1 to 1000000."],
    ["0", "0 is out of range: enter a number from 1 to 1000000."],
    ["1000001", "1000001 is out of range: enter a number from 1 to 1000000."],
    ["99999999999999999999", "99999999999999999999 is out of range: enter a number from 1 to 1000000."],
    ["-3", '"-3" is not a whole number: enter a number from 1 to 1000000.'],
    ["2.5", '"2.5" is not a whole number: enter a number from 1 to 1000000.'],
    ["1e3", '"1e3" is not a whole number: enter a number from 1 to 1000000.'],
  ])("refuses %j, naming the value", (raw, message) => {
    expect(validateLimit(raw)).toEqual({ ok: false, error: message });
  });

  it("holds a per-device limit to its total, when the total is good", () => {
    expect(validateLimit("16", "16")).toEqual({ ok: true, value: 16 });
    expect(validateLimit("17", "16")).toEqual({
      ok: false,
      error: "17 is more than the limit for all devices (16): enter at most 16.",
    });
    for (const badTotal of ["", "0", "abc", "2000000"]) {
      expect(validateLimit("17", badTotal), badTotal).toEqual({ ok: true, value: 17 });
    }
  });

  it("pairs the per-device limits with their totals", () => {
    expect(LIMIT_TOTALS).toEqual({ maxHandshakesPerClient: "maxHandshakes", maxSessionsPerClient: "maxSessions" });
    expect(LIMIT_KEYS).toHaveLength(7);
    expect(LIMIT_KEYS).not.toContain("perClientLimitsForLoopback");
  });
});

describe("validateDenyTargets", () => {
  it("takes addresses and ranges, one a line, and nothing at all", () => {
    expect(validateDenyTargets("")).toEqual({ ok: true, value: [] });
    expect(validateDenyTargets("10.0.0.0/8\n\n  192.168.1.20 \r\nfd00::/8\n::ffff:10.0.0.0/104\n")).toEqual({
      ok: true,
      value: ["10.0.0.0/8", "192.168.1.20", "fd00::/8", "::ffff:10.0.0.0/104"],
    });
  });

  it("names every entry that is no address or range", () => {
    expect(validateDenyTargets("300.1.1.1/8")).toEqual({
      ok: false,
      error: '"300.1.1.1/8" is not an address or range like 10.0.0.0/8.',
    });
    expect(validateDenyTargets("10.0.0.0/8\nexample.org\nfe80::/129")).toEqual({
      ok: false,
      error:
        '"example.org" is not an address or range like 10.0.0.0/8. ' +
        '"fe80::/129" is not an address or range like 10.0.0.0/8.',
    });
  });
});

describe("IP addresses and ranges", () => {
  it.each(["0.0.0.0", "127.0.0.1", "192.168.1.5", "255.255.255.255"])("IPv4 %s", (a) => {
    expect(isIPv4(a)).toBe(true);
  });
  it.each(["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "", "1..2.3"])(
    "not IPv4 %j",
    (a) => {
      expect(isIPv4(a)).toBe(false);
    },
  );

  it.each(["::", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "fd00::", "1::"])(
    "IPv6 %s",
    (a) => {
      expect(isIPv6(a)).toBe(true);
    },
  );
  it.each(["1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", ":1:2:3:4:5:6:7", "fe80::1%eth0", "1.2.3.4", ""])(
    "not IPv6 %j",
    (a) => {
      expect(isIPv6(a)).toBe(false);
    },
  );

  it("accepts CIDR ranges within the prefix length of the family", () => {
    expect(isAddressOrRange("192.168.1.0/24")).toBe(true);
    expect(isAddressOrRange("10.0.0.0/8")).toBe(true);
    expect(isAddressOrRange("0.0.0.0/0")).toBe(true);
    expect(isAddressOrRange("1.2.3.4/32")).toBe(true);
    expect(isAddressOrRange("fd00::/8")).toBe(true);
    expect(isAddressOrRange("::/128")).toBe(true);
    expect(isAddressOrRange("10.0.0.7")).toBe(true);
    expect(isAddressOrRange("::1")).toBe(true);
  });

  it("refuses bad ranges", () => {
    for (const r of ["1.2.3.4/33", "fd00::/129", "1.2.3.4/", "/24", "1.2.3.4/2a", "1.2.3.4/024", "lan", "example.org/24", "1.2.3.4/24/1"]) {
      expect(isAddressOrRange(r), r).toBe(false);
    }
  });
});

describe("validateAllowedRanges", () => {
  it("needs at least one line for the custom policy", () => {
    expect(validateAllowedRanges("", "custom")).toEqual({ ok: false, error: rangesEmptyMessage() });
    expect(validateAllowedRanges("  \n \n", "custom")).toEqual({ ok: false, error: rangesEmptyMessage() });
  });

  it("reads one range a line, ignoring blank lines and spaces", () => {
    expect(validateAllowedRanges(" 192.168.1.0/24 \r\n\n10.0.0.7\nfd00::/8\n", "custom")).toEqual({
      ok: true,
      value: ["192.168.1.0/24", "10.0.0.7", "fd00::/8"],
    });
  });

  it("names the bad line", () => {
    const r = validateAllowedRanges("10.0.0.0/8\nnot-an-ip", "custom");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain('line 2 ("not-an-ip")');
      expect(r.error).toMatch(/\.$/);
    }
  });

  it("names every bad line", () => {
    const r = validateAllowedRanges("x\n10.0.0.0/8\n1.2.3.4/40", "custom");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain('line 1 ("x")');
      expect(r.error).toContain('line 3 ("1.2.3.4/40")');
    }
  });

  it("does not check the lines for the other policies", () => {
    expect(validateAllowedRanges("", "loopback")).toEqual({ ok: true, value: [] });
    expect(validateAllowedRanges("junk", "lan")).toEqual({ ok: true, value: ["junk"] });
  });
});

describe("hosts", () => {
  it("accepts names, IPv4 and bracketed IPv6", () => {
    for (const h of ["example.org", "gw", "a-b.example", "host_1.corp", "10.0.0.1", "[::1]", "[2001:db8::1]", "example.org."]) {
      expect(isHost(h), h).toBe(true);
    }
  });
  it("refuses the rest", () => {
    for (const h of ["", "::1", "[1.2.3.4]", "-bad.example", "bad-.example", "a..b", "999.1.1.1", "1.2.3", "exa mple.org", "[::1", "x".repeat(64) + ".org"]) {
      expect(isHost(h), h).toBe(false);
    }
  });
});

describe("upstream URLs", () => {
  it.each([
    "socks5://gw.example:1080",
    "socks5h://gw.example:1080",
    "socks4://10.0.0.1:1080",
    "socks4a://inner.example:1080",
    "socks5://alice@gw.example:1080",
    "socks5://alice:secret@gw.example:1080",
    "socks5://alice:p%40ss@gw.example:1080",
    "socks5://[::1]:1080",
    "socks5://[2001:db8::1]:65535",
    "SOCKS5://gw.example:1",
    "socks5://gw.example:1080/",
    "http://proxy.corp.example:3128",
    "http://user:password@proxy.corp.example:8080",
    "http://bob@10.0.0.1:3128/",
    "HTTP://[::1]:3128",
  ])("accepts %s", (url) => {
    expect(upstreamUrlProblem(url)).toBeNull();
  });

  it.each([
    ["https://gw.example:1080", "must start with socks5://, socks5h://, socks4://, socks4a:// or http://"],
    ["socks6://gw.example:1080", "must start with socks5://"],
    ["http://proxy.corp.example", "add the port"],
    ["http://:pw@proxy.corp.example:3128", "user name before the @ is empty"],
    ["gw.example:1080", "enter a URL such as"],
    ["socks5://gw.example", "add the port"],
    ["socks5://gw.example:", "add the port"],
    ["socks5://gw.example:0", "between 1 and 65535"],
    ["socks5://gw.example:65536", "between 1 and 65535"],
    ["socks5://gw.example:http", "between 1 and 65535"],
    ["socks5://:1080", "host name is missing"],
    ["socks5://::1:1080", "not a host name or IP address"],
    ["socks5://bad_host!:1080", "not a host name or IP address"],
    ["socks5://[::1:1080", "closing ]"],
    ["socks5://[zz::1]:1080", "not a host name or IP address"],
    ["socks5://@gw.example:1080", "user name before the @ is empty"],
    ["socks5://:pw@gw.example:1080", "user name before the @ is empty"],
    ["socks5://gw.example:1080/path", "nothing after the port"],
    ["socks5://gw example:1080", "remove the spaces"],
  ])("refuses %s", (url, words) => {
    expect(upstreamUrlProblem(url)).toContain(words);
  });

  it("validates every line and numbers the bad ones", () => {
    expect(validateUpstream("")).toEqual({ ok: true, value: [] });
    expect(validateUpstream("socks5://a.example:1080\n\n socks4a://b.example:1080 ")).toEqual({
      ok: true,
      value: ["socks5://a.example:1080", "socks4a://b.example:1080"],
    });
    const r = validateUpstream("socks5://a.example:1080\nhttps://b.example:443");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^Line 2: the URL must start with socks5:\/\/.*\.$/);
  });

  it("says that a typed password will move to the keyring", () => {
    expect(urlHasPassword("socks5://alice:secret@gw:1080")).toBe(true);
    expect(urlHasPassword("socks5://alice@gw:1080")).toBe(false);
    expect(urlHasPassword("socks5://gw:1080")).toBe(false);
    expect(validateUpstream("socks5://alice:secret@gw.example:1080")).toMatchObject({
      ok: true,
      hint: upstreamPasswordHint(),
    });
    expect(validateUpstream("socks5://alice@gw.example:1080")).not.toHaveProperty("hint");
    expect(validateUpstream("http://alice:secret@proxy.example:3128")).toMatchObject({ ok: true, hint: upstreamPasswordHint() });
  });
});

describe("validateTarget", () => {
  it("accepts host:port", () => {
    expect(validateTarget("example.org:443")).toEqual({ ok: true, value: "example.org:443" });
    expect(validateTarget(" 1.1.1.1:53 ")).toEqual({ ok: true, value: "1.1.1.1:53" });
    expect(validateTarget("[2001:db8::1]:443")).toMatchObject({ ok: true });
  });
  it("refuses the rest", () => {
    for (const t of ["", "example.org", "example.org:", "example.org:0", ":443", "2001:db8::1:443", "[::1]443", "example.org:99999"]) {
      expect(validateTarget(t), t).toEqual({ ok: false, error: targetMessage() });
    }
  });
});

describe("user names and passwords", () => {
  it("counts bytes, not characters", () => {
    expect(byteLength("abc")).toBe(3);
    expect(byteLength("é")).toBe(2);
    expect(byteLength("😀")).toBe(4);
  });

  it("needs a name of 1 to 255 bytes", () => {
    expect(validateUserName("alice")).toEqual({ ok: true, value: "alice" });
    expect(validateUserName("a".repeat(255))).toMatchObject({ ok: true });
    expect(validateUserName("")).toEqual({ ok: false, error: "Enter a user name." });
    expect(validateUserName("a".repeat(256))).toEqual({
      ok: false,
      error: "The user name is too long: use at most 255 bytes.",
    });
    // 128 two-byte characters are 256 bytes.
    expect(validateUserName("é".repeat(128)).ok).toBe(false);
    expect(validateUserName("é".repeat(127)).ok).toBe(true);
  });

  it("needs a password of 8 characters to 255 bytes", () => {
    expect(validatePassword("correct horse")).toEqual({ ok: true, value: "correct horse" });
    expect(validatePassword("p".repeat(255)).ok).toBe(true);
    expect(validatePassword("")).toEqual({ ok: false, error: "Enter a password." });
    expect(validatePassword("1234567")).toEqual({
      ok: false,
      error: "The password is too short: use at least 8 characters, or Generate one.",
    });
    expect(validatePassword("12345678").ok).toBe(true);
    // Characters, not bytes or UTF-16 units: 7 emoji are 28 bytes and 14 units, still short.
    expect(validatePassword("😀".repeat(7)).ok).toBe(false);
    expect(validatePassword("😀".repeat(8)).ok).toBe(true);
    expect(validatePassword("é".repeat(8)).ok).toBe(true);
    expect(validatePassword("p".repeat(256))).toEqual({
      ok: false,
      error: "The password is too long: use at most 255 bytes.",
    });
    expect(validatePassword("😀".repeat(64)).ok).toBe(false);
  });
});

describe("splitLines", () => {
  it("trims and drops blank lines", () => {
    expect(splitLines(" a \r\n\n  \nb")).toEqual(["a", "b"]);
    expect(splitLines("")).toEqual([]);
  });
});
