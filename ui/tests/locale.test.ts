import { describe, expect, it } from "vitest";
import { repairLanguage, usableTag } from "../src/locale";

describe("the page's language", () => {
  it("tells usable tags from the POSIX ones", () => {
    expect(usableTag("en-US")).toBe(true);
    expect(usableTag("de")).toBe(true);
    expect(usableTag("C")).toBe(false);
    expect(usableTag("")).toBe(false);
  });

  it("replaces a tag Intl refuses, so libraries that format numbers can load", () => {
    const nav = Object.create(navigator) as Navigator;
    Object.defineProperty(nav, "language", { value: "C", configurable: true });
    repairLanguage(nav);
    expect(usableTag(nav.language)).toBe(true);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
    expect(nav.languages).toEqual([nav.language]);
  });

  it("leaves a usable tag alone", () => {
    const nav = Object.create(navigator) as Navigator;
    Object.defineProperty(nav, "language", { value: "fr-CA", configurable: true });
    repairLanguage(nav);
    expect(nav.language).toBe("fr-CA");
  });
});
