// The LAN sharing section's pure parts: the URLs of a share address and the
// names of the devices that opened the setup page.
import { describe, expect, it } from "vitest";
import { AGENT_SHOWN, describeAgent, pageLabel, shareLinks, urlAuthority } from "../src/views/status/share";

describe("share links", () => {
  it("gives the setup page and the PAC file at an IPv4 address", () => {
    expect(shareLinks("192.168.1.5:1080")).toEqual({
      setup: "http://192.168.1.5:1080/",
      pac: "http://192.168.1.5:1080/proxy.pac",
    });
  });

  it("keeps an IPv6 address in the brackets the app sends", () => {
    expect(shareLinks("[fd00::5]:1080")).toEqual({
      setup: "http://[fd00::5]:1080/",
      pac: "http://[fd00::5]:1080/proxy.pac",
    });
  });

  it("puts a bare IPv6 address in brackets, its port after the last colon", () => {
    expect(urlAuthority("fd00::5:1080")).toBe("[fd00::5]:1080");
    expect(urlAuthority("2001:db8::1:8080")).toBe("[2001:db8::1]:8080");
    expect(shareLinks("fd00::5:1080").setup).toBe("http://[fd00::5]:1080/");
  });

  it("writes a zone's % as %25, and leaves names and IPv4 as they are", () => {
    expect(urlAuthority("[fe80::1%2]:1080")).toBe("[fe80::1%252]:1080");
    expect(urlAuthority("fe80::1%eth0:1080")).toBe("[fe80::1%25eth0]:1080");
    expect(urlAuthority(" 10.0.0.7:1080 ")).toBe("10.0.0.7:1080");
    expect(urlAuthority("laptop.local:1080")).toBe("laptop.local:1080");
  });

  it("names what a device fetched", () => {
    expect(pageLabel("setup")).toBe("Setup page");
    expect(pageLabel("pac")).toBe("PAC file");
  });
});

describe("device descriptions", () => {
  it.each([
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", "Android phone"],
    ["Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "Android tablet"],
    ["Mozilla/5.0 (Linux; Android 9; BRAVIA 4K GB ATV3 Build/PTT1.190515.001.S52) AppleWebKit/537.36", "Android TV"],
    ["Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)", "Android device"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", "iPhone"],
    ["Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", "iPad"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "Windows PC"],
    ["WinHttp-Autoproxy-Service/5.1", "Windows PC"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Edge/44.18363.8131", "Xbox"],
    ["Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)", "PlayStation"],
    ["Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393", "Nintendo console"],
    ["Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36", "Smart TV"],
    ["Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "Chromebook"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "Mac"],
    ["com.apple.WebKit.Networking/8617.1.17.10.9 CFNetwork/1474 Darwin/23.0.0", "Apple device"],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Linux PC"],
  ])("calls %s a(n) %s", (agent, device) => {
    expect(describeAgent(agent)).toBe(device);
  });

  it("shows an unknown agent itself, trimmed and cut short", () => {
    expect(describeAgent("  curl/8.5.0 ")).toBe("curl/8.5.0");
    expect(describeAgent("Python-urllib/3.11")).toBe("Python-urllib/3.11");
    const long = `SomeConsole/${"x".repeat(100)}`;
    const shown = describeAgent(long);
    expect([...shown]).toHaveLength(AGENT_SHOWN);
    expect(shown.endsWith("…")).toBe(true);
    expect(long.startsWith(shown.slice(0, -1))).toBe(true);
    expect(describeAgent("a\tb   c")).toBe("a b c");
  });

  it("says when a device sent no agent", () => {
    expect(describeAgent("")).toBe("Unknown device");
    expect(describeAgent("   ")).toBe("Unknown device");
  });
});
