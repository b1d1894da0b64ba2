// WebKitGTK passes the POSIX locale through: under LANG=C (a minimal system,
// a service, CI) navigator.language is "C", which Intl refuses as a language
// tag. A library that hands navigator.language to Intl when it loads (uPlot
// does) would then stop the whole page from loading. This module is imported
// first and puts the locale Intl would pick by itself in place of an
// unusable tag.

/** Whether Intl takes this as a language tag. */
export function usableTag(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length > 0;
  } catch {
    return false;
  }
}

export function repairLanguage(nav: Navigator = navigator): void {
  if (usableTag(nav.language)) return;
  const fallback = new Intl.NumberFormat().resolvedOptions().locale;
  Object.defineProperty(nav, "language", { value: fallback, configurable: true });
  Object.defineProperty(nav, "languages", { value: [fallback], configurable: true });
}

repairLanguage();
