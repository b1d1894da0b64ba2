//! The tray's, the notifications' and the refusals' words in the user's
//! language, from the window's own catalogues (`ui/src/i18n/*.json`,
//! included as they are): the same keys, `{name}` placeholders and plural
//! objects by CLDR category, so the two sides cannot say different things.
//!
//! The language is the setting's (`AppSettings.language`: "en", "zh-CN",
//! "ru", or "system"), and "system" reads the OS locale (LC_ALL, then
//! LC_MESSAGES, then LANG, as gettext does), as the window reads
//! navigator.languages. English is the fallback for a missing key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use serde_json::Value;

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
    Ru,
}

impl Lang {
    /// The language's tag, as the catalogues and `<html lang>` name it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
            Lang::Ru => "ru",
        }
    }

    fn index(self) -> u8 {
        match self {
            Lang::En => 0,
            Lang::ZhCn => 1,
            Lang::Ru => 2,
        }
    }

    fn from_index(i: u8) -> Lang {
        match i {
            1 => Lang::ZhCn,
            2 => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// The CLDR plural category of a whole count in this language.
    pub fn plural(self, n: u64) -> &'static str {
        match self {
            Lang::En => {
                if n == 1 {
                    "one"
                } else {
                    "other"
                }
            }
            Lang::ZhCn => "other",
            Lang::Ru => {
                let (m10, m100) = (n % 10, n % 100);
                if m10 == 1 && m100 != 11 {
                    "one"
                } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
                    "few"
                } else {
                    "many"
                }
            }
        }
    }

    /// The decimal sign of this language's figures.
    pub fn decimal_sign(self) -> char {
        match self {
            Lang::Ru => ',',
            Lang::En | Lang::ZhCn => '.',
        }
    }
}

/// The language one locale tag asks for ("ru_RU.UTF-8", "zh-Hans-CN",
/// "en-GB"), or None when the app does not speak it (zh-TW is Traditional
/// Chinese): the window's `languageOf`.
pub fn language_of(tag: &str) -> Option<Lang> {
    let tag = tag.split(['.', '@']).next().unwrap_or("").trim().replace('_', "-").to_lowercase();
    let mut parts = tag.split('-');
    match parts.next().unwrap_or("") {
        "en" => Some(Lang::En),
        "ru" => Some(Lang::Ru),
        "zh" => {
            let rest: Vec<&str> = parts.collect();
            if rest.contains(&"hans") {
                Some(Lang::ZhCn)
            } else if rest.contains(&"hant") || rest.iter().any(|p| ["tw", "hk", "mo"].contains(p))
            {
                None
            } else {
                Some(Lang::ZhCn)
            }
        }
        _ => None,
    }
}

/// The OS's language: the first locale variable set (LC_ALL, LC_MESSAGES,
/// LANG; LANGUAGE's list before them, as gettext reads it), else the
/// the first this app speaks, else English.
pub fn system_language() -> Lang {
    system_language_from(|name| std::env::var(name).ok())
}

fn system_language_from(var: impl Fn(&str) -> Option<String>) -> Lang {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    // gettext: LC_ALL, then LC_MESSAGES, then LANG decide; LANGUAGE's list
    // goes first unless the locale is C.
    let locale = set("LC_ALL").or_else(|| set("LC_MESSAGES")).or_else(|| set("LANG"));
    if let Some(locale) = &locale {
        if locale != "C" && locale != "POSIX" {
            if let Some(list) = set("LANGUAGE") {
                if let Some(lang) = list.split(':').find_map(language_of) {
                    return lang;
                }
            }
        }
        return language_of(locale).unwrap_or(Lang::En);
    }
    Lang::En
}

/// The prefixes of the keys only the Rust side says.
#[cfg(test)]
const RUST_PREFIXES: [&str; 3] = ["tray.", "notice.", "refusal."];

static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Follows the setting: a language's tag, or "system" (anything else too).
pub fn set_choice(choice: &str) -> Lang {
    let lang = match choice {
        "en" => Lang::En,
        "zh-CN" => Lang::ZhCn,
        "ru" => Lang::Ru,
        _ => system_language(),
    };
    CURRENT.store(lang.index(), Ordering::Relaxed);
    tracing::debug!(choice, language = lang.tag(), "language");
    lang
}

/// The language in force.
pub fn lang() -> Lang {
    Lang::from_index(CURRENT.load(Ordering::Relaxed))
}

type Catalogue = HashMap<String, Value>;

fn catalogue(lang: Lang) -> &'static Catalogue {
    static CATALOGUES: OnceLock<[Catalogue; 3]> = OnceLock::new();
    let all = CATALOGUES.get_or_init(|| {
        let read = |text: &str| serde_json::from_str::<Catalogue>(text).unwrap_or_default();
        [
            read(include_str!("../../ui/src/i18n/en.json")),
            read(include_str!("../../ui/src/i18n/zh-CN.json")),
            read(include_str!("../../ui/src/i18n/ru.json")),
        ]
    });
    &all[lang.index() as usize]
}

/// A placeholder's value.
pub enum Arg<'a> {
    Text(&'a str),
    Number(u64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(text)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(text)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Number(n)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Number(n as u64)
    }
}

/// The message of `key` in the language in force, its placeholders filled.
pub fn t(key: &str, params: &[(&str, Arg<'_>)]) -> String {
    t_in(lang(), key, params)
}

/// The message of `key` in `lang`; a counted message takes the form of its
/// `count` parameter.
pub fn t_in(lang: Lang, key: &str, params: &[(&str, Arg<'_>)]) -> String {
    let message = catalogue(lang).get(key).or_else(|| catalogue(Lang::En).get(key));
    let text = match message {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(forms)) => {
            let count = params.iter().find_map(|(name, arg)| match (name, arg) {
                (&"count", Arg::Number(n)) => Some(*n),
                _ => None,
            });
            let category = count.map_or("other", |n| lang.plural(n));
            forms.get(category).or_else(|| forms.get("other")).and_then(Value::as_str).unwrap_or("")
        }
        _ => return key.to_owned(),
    };
    fill(text, params)
}

/// Fills `{name}` placeholders; an unknown one stays as it is.
fn fill(text: &str, params: &[(&str, Arg<'_>)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}').filter(|&end| {
            end > 0 && after[..end].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match end {
            Some(end) => {
                let name = &after[..end];
                match params.iter().find(|(n, _)| *n == name) {
                    Some((_, Arg::Text(s))) => out.push_str(s),
                    Some((_, Arg::Number(n))) => out.push_str(&n.to_string()),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals_follow_cldr() {
        let cases = [
            (1, "one"),
            (2, "few"),
            (5, "many"),
            (11, "many"),
            (21, "one"),
            (22, "few"),
            (25, "many"),
            (111, "many"),
            (0, "many"),
            (14, "many"),
            (104, "few"),
        ];
        for (n, category) in cases {
            assert_eq!(Lang::Ru.plural(n), category, "{n}");
        }
        assert_eq!(Lang::En.plural(1), "one");
        assert_eq!(Lang::En.plural(0), "other");
        assert_eq!(Lang::ZhCn.plural(1), "other");
    }

    #[test]
    fn placeholders_are_filled_and_counts_pick_their_form() {
        assert_eq!(fill("{a} and {b}", &[("a", "x".into()), ("b", 2u64.into())]), "x and 2");
        assert_eq!(fill("{missing} {", &[]), "{missing} {");
        assert_eq!(fill("{not a name}", &[]), "{not a name}");
        assert_eq!(t_in(Lang::En, "format.connections", &[("count", 1u64.into())]), "1 connection");
        assert_eq!(
            t_in(Lang::En, "format.connections", &[("count", 3u64.into())]),
            "3 connections"
        );
        assert_eq!(
            t_in(Lang::Ru, "format.connections", &[("count", 22u64.into())]),
            "22 соединения"
        );
        assert_eq!(
            t_in(Lang::Ru, "format.connections", &[("count", 25u64.into())]),
            "25 соединений"
        );
        assert_eq!(t_in(Lang::En, "no.such.key", &[]), "no.such.key");
    }

    #[test]
    fn the_os_locale_chooses_the_language() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(system_language_from(env(&[("LANG", "ru_RU.UTF-8")])), Lang::Ru);
        assert_eq!(system_language_from(env(&[("LANG", "zh_CN.UTF-8")])), Lang::ZhCn);
        assert_eq!(system_language_from(env(&[("LANG", "zh_TW.UTF-8")])), Lang::En);
        assert_eq!(
            system_language_from(env(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "ru_RU.UTF-8")])),
            Lang::Ru
        );
        assert_eq!(
            system_language_from(env(&[("LANG", "ru_RU.UTF-8"), ("LC_MESSAGES", "C")])),
            Lang::En
        );
        assert_eq!(system_language_from(env(&[("LANG", "C")])), Lang::En);
        assert_eq!(system_language_from(env(&[])), Lang::En);
        assert_eq!(
            system_language_from(env(&[("LANG", "de_DE.UTF-8"), ("LANGUAGE", "de:ru")])),
            Lang::Ru
        );
        assert_eq!(language_of("zh-Hans-SG"), Some(Lang::ZhCn));
        assert_eq!(language_of("sr@latin"), None);
    }

    /// Every key the Rust side says exists in every catalogue, and every
    /// key of the Rust side's own (`tray.`, `notice.`, `refusal.`, which the
    /// window's test of used keys leaves out) is said.
    #[test]
    fn every_key_the_rust_side_uses_is_in_every_catalogue() {
        let sources = [
            include_str!("alerts.rs"),
            include_str!("notify.rs"),
            include_str!("status.rs"),
            include_str!("tray.rs"),
            include_str!("format.rs"),
            include_str!("actions.rs"),
        ];
        let mut used = Vec::new();
        for source in sources {
            for call in ["i18n::t(", "i18n::t_in(lang,"] {
                let mut rest = source;
                while let Some(at) = rest.find(call) {
                    let after = rest[at + call.len()..].trim_start();
                    rest = after;
                    let Some(quoted) = after.strip_prefix('"') else { continue };
                    let Some(end) = quoted.find('"') else { break };
                    used.push(quoted[..end].to_owned());
                }
            }
        }
        assert!(used.len() > 10, "{used:?}");
        for lang in [Lang::En, Lang::ZhCn, Lang::Ru] {
            for key in &used {
                assert!(catalogue(lang).contains_key(key), "{key} is not in {}.json", lang.tag());
            }
        }
        let all_source: String = sources.concat();
        for key in
            catalogue(Lang::En).keys().filter(|k| RUST_PREFIXES.iter().any(|p| k.starts_with(p)))
        {
            assert!(all_source.contains(&format!("\"{key}\"")), "{key} is said nowhere");
        }
    }
}
