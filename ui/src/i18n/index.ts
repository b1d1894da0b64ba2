// The window's words in the user's language: one catalogue per language
// (en.json, zh-CN.json, ru.json beside this file), the language chosen, and
// t(key, params) to say a message in it.
//
// Why no i18n framework: the catalogues are flat JSON that the Rust side
// (tray, notifications) can include_str! as they are, and what the window
// needs beyond a lookup is already in the webview: Intl.PluralRules picks a
// plural form, Intl.NumberFormat and Intl.DateTimeFormat write figures and
// dates (format.ts). i18next or FormatJS would add a message syntax the
// Rust side would have to parse too, and some 20-40 kB, for nothing the
// page uses.
//
// A catalogue maps a key ("conn.closeAll") to a message: a string with
// {name} placeholders, or, for a counted noun, an object of plural forms
// by Intl.PluralRules category ({"one": "{count} connection", "other":
// "{count} connections"}; Russian has one, few, many and other, Chinese
// only other), chosen by the `count` parameter. en.json is the reference:
// its keys are the type of every key, so a key that does not exist is a
// compile error, and a test holds the other catalogues to the same keys,
// placeholders and plural forms.
//
// The language is the one set with setLanguage (the app's setting), else
// the first of navigator.languages this app speaks (zh, zh-CN, zh-Hans-*,
// zh-SG: Simplified Chinese; ru-*: Russian), else English. The views take
// their words when they are drawn: a view mounted before a change keeps
// the old words until it is mounted again.

import { escapeHtml } from "../dom";
import en from "./en.json";
import ru from "./ru.json";
import zhCN from "./zh-CN.json";

/** Every key of the catalogues (en.json's). */
export type MessageKey = keyof typeof en;

/** The keys of counted messages (plural forms): these need a `count`. */
export type PluralKey = { [K in MessageKey]: (typeof en)[K] extends string ? never : K }[MessageKey];

/** The keys of plain messages. */
export type TextKey = Exclude<MessageKey, PluralKey>;

/** A message: text, or its plural forms by Intl.PluralRules category. */
export type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;

/** A catalogue: every key's message in one language. */
export type Catalogue = Readonly<Record<string, Message>>;

/** What a placeholder is filled with: text as it is, a number in the language's digits (never grouped: ports, years). */
export type Params = Readonly<Record<string, string | number>>;

/** The languages the app speaks, English first (the fallback). */
export const LANGUAGES = ["en", "zh-CN", "ru"] as const;
export type Language = (typeof LANGUAGES)[number];

/** What the setting holds: a language, or "system" (follow the OS). */
export type LanguageChoice = Language | "system";

/** Each language's name in itself, for the setting's choices. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = {
  en: "English",
  "zh-CN": "简体中文",
  ru: "Русский",
};

/** The catalogues by language. */
export const CATALOGUES: Readonly<Record<Language, Catalogue>> = { en, "zh-CN": zhCN, ru };

/** The language one tag asks for, or null when the app does not speak it (zh-TW is Traditional Chinese). */
export function languageOf(tag: string): Language | null {
  const parts = tag.trim().replace(/_/g, "-").toLowerCase().split("-");
  const primary = parts[0] ?? "";
  if (primary === "en") return "en";
  if (primary === "ru") return "ru";
  if (primary !== "zh") return null;
  const rest = parts.slice(1);
  if (rest.includes("hans")) return "zh-CN";
  if (rest.includes("hant")) return null;
  // Without a script: the regions that write Traditional Chinese.
  return rest.some((p) => ["tw", "hk", "mo"].includes(p)) ? null : "zh-CN";
}

/** The first of these tags (the user's preference order) the app speaks, else English. */
export function matchLanguage(tags: readonly string[]): Language {
  for (const tag of tags) {
    const language = languageOf(tag);
    if (language !== null) return language;
  }
  return "en";
}

/** The user's languages, most wanted first, as the webview says them. */
function systemTags(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  const list: readonly string[] = navigator.languages ?? [];
  return list.length > 0 ? list : [navigator.language ?? ""];
}

/**
 * The locale figures and dates are written in: the user's own tag when it
 * is of this language (en-GB keeps its dates, ru-RU, zh-Hans-CN), else the
 * language itself.
 */
function localeFor(language: Language, tags: readonly string[]): string {
  const own = tags.find((tag) => languageOf(tag) === language);
  if (own !== undefined) {
    try {
      const [canonical] = Intl.getCanonicalLocales(own);
      if (canonical !== undefined) return canonical;
    } catch {
      // Not a tag Intl takes: the language's own is.
    }
  }
  return language;
}

interface State {
  choice: LanguageChoice;
  language: Language;
  locale: string;
  plurals: Intl.PluralRules;
  numbers: Intl.NumberFormat;
}

/** The OS's language as the app says it (null: the webview's navigator.languages). */
let osLanguage: Language | null = null;

/** What "system" means: the app's reading of the OS locale (the webview may not know it). */
export function setSystemLanguage(tag: string | undefined | null): void {
  osLanguage = tag ? languageOf(tag) : null;
}

/** The language "system" stands for. */
export function systemLanguage(): Language {
  return osLanguage ?? matchLanguage(systemTags());
}

let state: State = resolve("system");
const listeners = new Set<(language: Language) => void>();

function resolve(choice: LanguageChoice): State {
  const tags = systemTags();
  const language = choice === "system" ? (osLanguage ?? matchLanguage(tags)) : choice;
  const locale = localeFor(language, tags);
  return {
    choice,
    language,
    locale,
    plurals: new Intl.PluralRules(locale),
    numbers: new Intl.NumberFormat(locale, { useGrouping: false, maximumFractionDigits: 20 }),
  };
}

function markPage(language: Language): void {
  if (typeof document !== "undefined") document.documentElement.lang = language;
}

markPage(state.language);

/**
 * Chooses the language: one the app speaks, or "system" to follow the OS
 * (navigator.languages). Sets `<html lang>`, tells the listeners when the
 * language changed, and answers the language in force.
 */
export function setLanguage(choice: LanguageChoice): Language {
  const before = state.language;
  state = resolve((LANGUAGES as readonly string[]).includes(choice) ? choice : "system");
  markPage(state.language);
  if (state.language !== before) for (const listener of listeners) listener(state.language);
  return state.language;
}

/** The language in force. */
export function language(): Language {
  return state.language;
}

/** What was chosen: a language, or "system". */
export function languageChoice(): LanguageChoice {
  return state.choice;
}

/** The locale figures and dates are written in (a BCP 47 tag for Intl). */
export function locale(): string {
  return state.locale;
}

/** Calls listener with the new language after each change; answers how to stop. */
export function onLanguageChange(listener: (language: Language) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The message of key in the language in force, its placeholders filled. */
export function t(key: PluralKey, params: Params & { count: number }): string;
export function t(key: TextKey, params?: Params): string;
export function t(key: MessageKey, params: Params = {}): string {
  return say(state, CATALOGUES[state.language][key] ?? en[key], params, key);
}

/** t's message made safe to put in markup (the catalogues hold text, never markup). */
export function tHtml(key: PluralKey, params: Params & { count: number }): string;
export function tHtml(key: TextKey, params?: Params): string;
export function tHtml(key: MessageKey, params: Params = {}): string {
  return escapeHtml(say(state, CATALOGUES[state.language][key] ?? en[key], params, key));
}

/** The message of key in a given language (tests, and whatever must speak another language than the page). */
export function tIn(lang: Language, key: MessageKey, params: Params = {}): string {
  const other = lang === state.language ? state : { ...resolve(lang), choice: state.choice };
  return say(other, CATALOGUES[lang][key] ?? en[key], params, key);
}

function say(where: State, message: Message, params: Params, key: string): string {
  const text = typeof message === "string" ? message : pluralForm(where, message, params.count);
  return text.replace(/\{([a-zA-Z0-9_]+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) {
      if (import.meta.env.DEV) throw new Error(`message ${key} needs {${name}}`);
      return whole;
    }
    return typeof value === "number" ? where.numbers.format(value) : value;
  });
}

function pluralForm(where: State, forms: Exclude<Message, string>, count: string | number | undefined): string {
  const n = typeof count === "number" ? count : Number(count);
  const category = Number.isFinite(n) ? where.plurals.select(n) : "other";
  return forms[category] ?? forms.other ?? "";
}

/**
 * Puts the catalogue's words into the static page: an element with
 * data-i18n="key" gets that message as its text, and data-i18n-label="key"
 * as its aria-label.
 */
export function translatePage(root: ParentNode = document): void {
  for (const element of Array.from(root.querySelectorAll<HTMLElement>("[data-i18n]"))) {
    const text = t(element.dataset.i18n as TextKey);
    if (element.textContent !== text) element.textContent = text;
  }
  for (const element of Array.from(root.querySelectorAll<HTMLElement>("[data-i18n-label]"))) {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel as TextKey));
  }
}
