// No English left in the code of the views that speak the catalogue's
// words: a lint over their sources. It reads each file's string and
// template literals (comments left out) and flags what reads as words for
// the user: text between tags, a title, aria-label, placeholder or alt
// attribute with words in it, and plain strings that read as a phrase (a
// capitalised word and another, three words, or words ending in a full
// stop). What looks like words but is not for the user (a console message,
// the syntax proxy-core reads) is listed below with the reason.

import { describe, expect, it } from "vitest";

const sources = import.meta.glob<string>(
  [
    "../src/views/{connections,users,mappings,devices,policy,settings}/*.ts",
    "../src/views/{logs,follow,keyed-table,offer}.ts",
    "../src/{errors,validate,usage,access,graph,live,dom,format,main}.ts",
    "../src/i18n/index.ts",
  ],
  { query: "?raw", import: "default", eager: true },
);
const html = import.meta.glob<string>("../index.html", { query: "?raw", import: "default", eager: true });

/** Literals that look like words and are not the user's to read. */
const ALLOWED: ReadonlySet<string> = new Set([
  // Day names as proxy-core reads access hours: syntax, in every language.
  "Mon",
  "Tue",
  "Wed",
  "Thu",
  "Fri",
  "Sat",
  "Sun",
  // Each language's name in itself (the setting's choices).
  "English",
]);

/** A developer's message: console output and thrown errors are not the user's. */
const DEVELOPER = /(console\.(warn|error|info|log)|new Error)\($/;

interface Literal {
  text: string;
  /** The code before it on its line (to tell a console message). */
  before: string;
  line: number;
}

/**
 * The string literals and the static parts of the template literals of
 * TypeScript source, comments skipped (a small scanner: strings, templates
 * with nested expressions, regular expressions, comments).
 */
export function literals(source: string): Literal[] {
  const found: Literal[] = [];
  let i = 0;
  let line = 1;
  let lastSignificant = "";
  const lineStart = (at: number): string => source.slice(source.lastIndexOf("\n", at - 1) + 1, at);
  const templateDepth: number[] = [];
  let braces = 0;

  const readQuoted = (quote: string): void => {
    const start = i;
    let text = "";
    i++;
    while (i < source.length && source[i] !== quote) {
      if (source[i] === "\\") {
        text += source[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (source[i] === "\n") line++;
      text += source[i];
      i++;
    }
    i++;
    found.push({ text, before: lineStart(start), line });
    lastSignificant = "a";
  };

  /** Reads template text up to its end or a ${; answers true at a ${. */
  const readTemplate = (): boolean => {
    const start = i;
    let text = "";
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") {
        text += source[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (c === "`") {
        i++;
        found.push({ text, before: lineStart(start), line });
        lastSignificant = "a";
        return false;
      }
      if (c === "$" && source[i + 1] === "{") {
        i += 2;
        found.push({ text, before: lineStart(start), line });
        return true;
      }
      if (c === "\n") line++;
      text += c;
      i++;
    }
    return false;
  };

  while (i < source.length) {
    const c = source[i] ?? "";
    const next = source[i + 1];
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      line += (source.slice(i, end).match(/\n/g) ?? []).length;
      i = end < 0 ? source.length : end + 2;
      continue;
    }
    if (c === "/" && (lastSignificant === "" || /[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant) || lastSignificant === "return")) {
      // A regular expression: skip it (classes may hold a slash).
      i++;
      let inClass = false;
      while (i < source.length && (inClass || source[i] !== "/")) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i++;
      }
      i++;
      while (/[a-z]/.test(source[i] ?? "")) i++;
      lastSignificant = "a";
      continue;
    }
    if (c === '"' || c === "'") {
      readQuoted(c);
      continue;
    }
    if (c === "`") {
      i++;
      if (readTemplate()) {
        templateDepth.push(braces);
        braces++;
        lastSignificant = "{";
      }
      continue;
    }
    if (c === "{") braces++;
    if (c === "}") {
      braces--;
      if (templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braces) {
        templateDepth.pop();
        i++;
        if (readTemplate()) {
          templateDepth.push(braces);
          braces++;
          lastSignificant = "{";
        }
        continue;
      }
    }
    if (/[A-Za-z_$0-9]/.test(c)) {
      let word = "";
      while (/[A-Za-z_$0-9]/.test(source[i] ?? "")) word += source[i++];
      lastSignificant = word === "return" || word === "typeof" ? "return" : "a";
      continue;
    }
    lastSignificant = c;
    i++;
  }
  return found;
}

/** What in a literal reads as words for the user, or null. */
export function wordsIn(text: string): string | null {
  if (ALLOWED.has(text.trim())) return null;
  // Text between tags.
  for (const m of text.matchAll(/>([^<]*)</g)) {
    const between = (m[1] ?? "").replace(/&[a-z#0-9]+;/g, "");
    if (/[A-Za-z]{2,}/.test(between)) return between.trim();
  }
  // Attributes a person reads.
  for (const m of text.matchAll(/\b(title|aria-label|placeholder|alt)="([^"]*)"/g)) {
    if (/[A-Za-z]{2,}/.test(m[2] ?? "")) return m[0];
  }
  // Plain text: outside tags, a phrase.
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\$\{[^}]*\}/g, " ");
  if (/\b[A-Z][a-z]+[ ,:]+[a-z]{2,}/.test(plain)) return plain.trim();
  if (/\b[a-z]{2,} [a-z]{2,} [a-z]{2,}\b/.test(plain)) return plain.trim();
  if (/[A-Za-z]{2,}[.!?]$/.test(plain.trim()) && /\s/.test(plain.trim())) return plain.trim();
  if (/^[A-Z][a-z]{2,}$/.test(plain.trim())) return plain.trim();
  return null;
}

describe("the converted views", () => {
  it("hold no English words for the user outside the catalogues", () => {
    const left: string[] = [];
    for (const [path, source] of Object.entries(sources)) {
      for (const literal of literals(source)) {
        if (DEVELOPER.test(literal.before.trimEnd())) continue;
        const words = wordsIn(literal.text);
        if (words !== null) left.push(`${path.replace("../src/", "")}:${literal.line}: ${words}`);
      }
    }
    expect(left).toEqual([]);
  });

  it("leave no English in the page itself without its catalogue key", () => {
    const page = Object.values(html).join("");
    const untranslated = Array.from(page.matchAll(/<([a-z0-9]+)([^>]*)>([^<]*[A-Za-z]{2,}[^<]*)</g))
      .filter(([, tag, attrs, text]) => tag !== "title" && tag !== "h1" && !/data-i18n=/.test(attrs ?? "") && (text ?? "").trim() !== "")
      .map(([whole]) => whole);
    expect(untranslated).toEqual([]);
    const labels = Array.from(page.matchAll(/<[^>]*\baria-label="[^"]*"[^>]*>/g))
      .map(([tag]) => tag)
      .filter((tag) => !tag.includes("data-i18n-label="));
    expect(labels).toEqual([]);
  });

  it("would find English left in markup, attributes and phrases", () => {
    const found = (source: string): (string | null)[] => literals(source).map((l) => wordsIn(l.text));
    expect(found('el.textContent = "Connection closed.";')).toEqual(["Connection closed."]);
    expect(found("const m = `<h2>Users</h2>`;")).toEqual(["Users"]);
    expect(found('const m = `<input placeholder="Filter by client">`;')).toEqual(['placeholder="Filter by client"']);
    expect(found("button(`Close`)")).toEqual(["Close"]);
    expect(found('say(`Closed ${n} of them`)')).toEqual(["Closed", null]);
    // Keys, classes, ids, syntax, comments and regular expressions are not words.
    expect(found('t("conn.closeAll"); cls = "badge guest-badge"; // Close all\nconst r = /"x y z"/;')).toEqual([null, null]);
    expect(found('q = "#conn-table th[aria-sort]"; u = "UDP"; d = "Mon";')).toEqual([null, null, null]);
  });
});
