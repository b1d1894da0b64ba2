// The catalogues and the language: every catalogue has en.json's keys and
// no others, the same placeholders, each plural message the forms its
// language's plural rules use, no empty message; the language chosen from
// the system's list or the setting; t's plural forms and placeholders.
// proxy-core's setup page catalogues are held to the same rules.

import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CATALOGUES,
  LANGUAGES,
  language,
  languageChoice,
  languageOf,
  locale,
  matchLanguage,
  onLanguageChange,
  setLanguage,
  setSystemLanguage,
  systemLanguage,
  t,
  tIn,
  translatePage,
  type Catalogue,
  type Language,
  type Message,
} from "../src/i18n";

/** The {name}s of a text. */
function placeholders(text: string): string[] {
  return Array.from(text.matchAll(/\{([a-zA-Z0-9_]+)\}/g), (m) => m[1] ?? "").sort();
}

/** Every text of a message: the text itself, or each plural form. */
function texts(message: Message): string[] {
  return typeof message === "string" ? [message] : Object.values(message);
}

/** Each problem of a catalogue against the reference, in words. */
function problems(reference: Catalogue, catalogue: Catalogue, lang: string): string[] {
  const found: string[] = [];
  const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories.slice().sort();
  for (const key of Object.keys(reference)) {
    if (!(key in catalogue)) found.push(`${key} is missing`);
  }
  for (const [key, message] of Object.entries(catalogue)) {
    const wanted = reference[key];
    if (wanted === undefined) {
      found.push(`${key} is not in the reference`);
      continue;
    }
    if (typeof wanted !== typeof message) found.push(`${key}: plural in one catalogue and not the other`);
    if (typeof message !== "string") {
      const forms = Object.keys(message).sort();
      if (forms.join() !== categories.join()) found.push(`${key}: forms ${forms.join()} but ${lang} has ${categories.join()}`);
    }
    const expected = placeholders(texts(wanted)[texts(wanted).length - 1] ?? "").join();
    for (const text of texts(message)) {
      if (text.trim() === "") found.push(`${key} is empty`);
      if (placeholders(text).join() !== expected) found.push(`${key}: {${placeholders(text).join("}{")}} in "${text}"`);
    }
  }
  return found;
}

describe("the catalogues", () => {
  it("give every language en.json's keys, placeholders and its own plural forms, and no empty message", () => {
    for (const lang of LANGUAGES) {
      expect(problems(CATALOGUES.en, CATALOGUES[lang], lang), lang).toEqual([]);
    }
  });

  it("give English the forms one and other for each counted message", () => {
    const counted = Object.entries(CATALOGUES.en).filter(([, m]) => typeof m !== "string");
    expect(counted.length).toBeGreaterThan(5);
    for (const [key, message] of counted) {
      expect(Object.keys(message).sort(), key).toEqual(["one", "other"]);
      for (const text of texts(message)) expect(placeholders(text), key).toContain("count");
    }
  });

  it("find every problem they check for", () => {
    const reference: Catalogue = { a: "{x} and {y}", b: { one: "{count} b", other: "{count} bs" }, c: "c" };
    const broken: Catalogue = { a: "{x} only", b: { one: "{count} b", other: "{count} bs" }, d: "" };
    expect(problems(reference, broken, "ru")).toEqual([
      "c is missing",
      'a: {x} in "{x} only"',
      "b: forms one,other but ru has few,many,one,other",
      "d is not in the reference",
    ]);
  });

  it("use every key they hold somewhere in the page's code", () => {
    const sources = Object.values(
      import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true }),
    ).join("\n");
    const html = Object.values(import.meta.glob<string>("../index.html", { query: "?raw", import: "default", eager: true }));
    const code = sources + html.join("\n");
    // The tray's, the notices' and the Rust side's refusals: src-tauri's test holds those.
    const rust = /^(tray|notice|refusal)\./;
    const unused = Object.keys(CATALOGUES.en).filter((key) => !rust.test(key) && !code.includes(`"${key}"`));
    expect(unused).toEqual([]);
  });
});

describe("the language", () => {
  afterEach(() => {
    setSystemLanguage(null);
    setLanguage("system");
  });

  it("takes the app's reading of the OS locale as what the system asks for", () => {
    setSystemLanguage("ru_RU.UTF-8");
    expect(systemLanguage()).toBe("ru");
    expect(setLanguage("system")).toBe("ru");
    expect(languageChoice()).toBe("system");
    expect(setLanguage("zh-CN")).toBe("zh-CN");
    setSystemLanguage("de_DE.UTF-8");
    expect(setLanguage("system")).toBe(matchLanguage(navigator.languages));
  });

  it("reads a language tag as the app's languages", () => {
    const cases: [string, Language | null][] = [
      ["en", "en"],
      ["en-GB", "en"],
      ["ru", "ru"],
      ["ru-RU", "ru"],
      ["ru_UA", "ru"],
      ["zh", "zh-CN"],
      ["zh-CN", "zh-CN"],
      ["zh-SG", "zh-CN"],
      ["zh-Hans", "zh-CN"],
      ["zh-Hans-HK", "zh-CN"],
      ["zh-TW", null],
      ["zh-HK", null],
      ["zh-Hant", null],
      ["zh-Hant-CN", null],
      ["de-DE", null],
      ["uk", null],
      ["C", null],
      ["", null],
    ];
    for (const [tag, wanted] of cases) expect(languageOf(tag), tag).toBe(wanted);
  });

  it("takes the first of the system's languages the app speaks, else English", () => {
    expect(matchLanguage(["de-DE", "ru-RU", "en-US"])).toBe("ru");
    expect(matchLanguage(["zh-TW", "zh", "en"])).toBe("zh-CN");
    expect(matchLanguage(["zh-TW", "en-US"])).toBe("en");
    expect(matchLanguage(["fr-FR", "de"])).toBe("en");
    expect(matchLanguage([])).toBe("en");
  });

  it("follows the system until set, and marks the page's language", () => {
    expect(languageChoice()).toBe("system");
    expect(language()).toBe("en");
    expect(document.documentElement.lang).toBe("en");
    expect(setLanguage("ru")).toBe("ru");
    expect(document.documentElement.lang).toBe("ru");
    expect(locale()).toBe("ru");
    expect(setLanguage("zh-CN")).toBe("zh-CN");
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(setLanguage("system")).toBe("en");
    // A choice the app does not know follows the system.
    expect(setLanguage("fr" as Language)).toBe("en");
  });

  it("writes figures in the user's own locale when it is of the language", () => {
    const languages = vi.spyOn(navigator, "languages", "get").mockReturnValue(["ru-RU", "en-GB"]);
    try {
      expect(setLanguage("system")).toBe("ru");
      expect(locale()).toBe("ru-RU");
      expect(setLanguage("en")).toBe("en");
      expect(locale()).toBe("en-GB");
      expect(setLanguage("zh-CN")).toBe("zh-CN");
      expect(locale()).toBe("zh-CN");
    } finally {
      languages.mockRestore();
    }
  });

  it("tells its listeners when the language changes, and only then", () => {
    const heard: Language[] = [];
    const stop = onLanguageChange((lang) => heard.push(lang));
    setLanguage("ru");
    setLanguage("ru");
    setLanguage("en");
    stop();
    setLanguage("zh-CN");
    expect(heard).toEqual(["ru", "en"]);
  });

  it("translates the static page", () => {
    const root = document.createElement("div");
    root.innerHTML = '<nav data-i18n-label="nav.label"><button data-i18n="nav.logs">Logs</button></nav>';
    setLanguage("ru");
    translatePage(root);
    expect(root.querySelector("button")?.textContent).toBe("Журнал");
    expect(root.querySelector("nav")?.getAttribute("aria-label")).toBe("Разделы");
  });
});

describe("t", () => {
  afterEach(() => {
    setLanguage("system");
  });

  it("fills placeholders, numbers in the language's digits and never grouped", () => {
    expect(t("validate.timeout", { max: 86400 })).toBe("Enter a whole number of seconds between 1 and 86400.");
    expect(t("mappings.lastError", { error: "refused {x}" })).toBe("Last error: refused {x}");
    setLanguage("ru");
    expect(t("format.size", { value: 1.5, unit: "ГБ" })).toBe("1,5 ГБ");
    expect(t("validate.timeout", { max: 86400 })).toBe("Введите целое число секунд от 1 до 86400.");
  });

  it("picks the plural form by the count, as each language counts", () => {
    expect(t("format.connections", { count: 1 })).toBe("1 connection");
    expect(t("format.connections", { count: 0 })).toBe("0 connections");
    const ru = (count: number): string => tIn("ru", "format.connections", { count });
    expect([1, 2, 5, 11, 21, 22, 25, 1.5].map(ru)).toEqual([
      "1 соединение",
      "2 соединения",
      "5 соединений",
      "11 соединений",
      "21 соединение",
      "22 соединения",
      "25 соединений",
      "1,5 соединения",
    ]);
    expect(tIn("zh-CN", "format.connections", { count: 1 })).toBe("1 个连接");
    expect(tIn("zh-CN", "format.connections", { count: 7 })).toBe("7 个连接");
  });

  it("refuses a message without its placeholder's value while developing", () => {
    expect(() => t("logs.unreadable")).toThrow("logs.unreadable needs {reason}");
  });
});
