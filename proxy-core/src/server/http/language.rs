//! The language of the setup page: the visiting device's, read from its
//! `Accept-Language` fields (RFC 9110 section 12.5.4), among the languages
//! the page is written in.
//!
//! Each element of the field is a language range (RFC 4647 section 2.1, or
//! `*`) with an optional weight `;q=` (RFC 9110 section 12.4.2, 0 to 1 with
//! at most three decimals). A range stands for the page's language it asks
//! for as the window's language choice reads a tag (ui/src/i18n): `en-*` is
//! English, `ru-*` Russian, `zh`, `zh-CN`, `zh-SG` and `zh-Hans-*`
//! Simplified Chinese (`zh-TW`, `zh-HK`, `zh-MO` and `zh-Hant-*` are
//! Traditional Chinese, which the page is not written in). A language takes
//! the highest weight of the ranges naming it, else that of `*`; weight 0
//! is "not acceptable". The heaviest wins, ties going to the one named
//! first; a field that names nothing acceptable, or none at all, gets
//! English. Malformed elements are skipped, as a browser's typo should not
//! cost the device its page.

/// A language the setup page is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Language {
    English,
    SimplifiedChinese,
    Russian,
}

impl Language {
    /// Every language, English (the fallback) first.
    pub(super) const ALL: [Language; 3] =
        [Language::English, Language::SimplifiedChinese, Language::Russian];

    /// The language's tag, for `Content-Language` and `<html lang>`.
    pub(super) fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::SimplifiedChinese => "zh-CN",
            Language::Russian => "ru",
        }
    }

    /// The page's language a language range or tag asks for, if any.
    fn of_range(range: &str) -> Option<Language> {
        let lower = range.to_ascii_lowercase();
        let mut parts = lower.split('-');
        match parts.next()? {
            "en" => Some(Language::English),
            "ru" => Some(Language::Russian),
            "zh" => {
                let rest: Vec<&str> = parts.collect();
                if rest.contains(&"hans") {
                    Some(Language::SimplifiedChinese)
                } else if rest.contains(&"hant")
                    || rest.iter().any(|p| ["tw", "hk", "mo"].contains(p))
                {
                    None
                } else {
                    Some(Language::SimplifiedChinese)
                }
            }
            _ => None,
        }
    }
}

/// The language to answer a request in, from the values of its
/// `Accept-Language` fields (several fields make one list, RFC 9110
/// section 5.3).
pub(super) fn negotiate<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> Language {
    // For each language: (weight, position) of the range that named it.
    let mut named: [Option<(u16, usize)>; 3] = [None; 3];
    let mut any: Option<(u16, usize)> = None;
    let mut position = 0;
    for field in fields {
        let Ok(text) = std::str::from_utf8(field) else {
            continue;
        };
        for element in text.split(',') {
            let Some((range, weight)) = parse_element(element) else {
                continue;
            };
            position += 1;
            if range == "*" {
                any = any.or(Some((weight, position)));
                continue;
            }
            let Some(language) = Language::of_range(range) else {
                continue;
            };
            let slot = &mut named[index(language)];
            // The highest weight among the ranges naming it, at the first of them.
            if slot.is_none_or(|(w, _)| weight > w) {
                *slot = Some((weight, position));
            }
        }
    }
    let mut best: Option<(Language, u16, usize)> = None;
    for language in Language::ALL {
        let Some((weight, at)) = named[index(language)].or(any) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, w, a)) => weight > w || (weight == w && at < a),
        };
        if weight > 0 && better {
            best = Some((language, weight, at));
        }
    }
    best.map_or(Language::English, |(language, _, _)| language)
}

fn index(language: Language) -> usize {
    match language {
        Language::English => 0,
        Language::SimplifiedChinese => 1,
        Language::Russian => 2,
    }
}

/// One element of the list: its range and its weight in thousandths
/// (1000 without a `q`), or None when it is no `range [ ; q=qvalue ]`.
fn parse_element(element: &str) -> Option<(&str, u16)> {
    let mut parts = element.split(';');
    let range = parts.next()?.trim();
    let is_range = range == "*"
        || range.split('-').enumerate().all(|(i, sub)| {
            (1..=8).contains(&sub.len())
                && if i == 0 {
                    sub.bytes().all(|b| b.is_ascii_alphabetic())
                } else {
                    sub.bytes().all(|b| b.is_ascii_alphanumeric())
                }
        });
    if !is_range {
        return None;
    }
    let mut weight = 1000;
    for parameter in parts {
        let (name, value) = parameter.trim().split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            weight = parse_qvalue(value.trim())?;
        }
    }
    Some((range, weight))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(field: &str) -> &'static str {
        negotiate([field.as_bytes()]).tag()
    }

    #[test]
    fn a_device_gets_its_first_language_the_page_is_written_in() {
        assert_eq!(pick("ru"), "ru");
        assert_eq!(pick("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"), "ru");
        assert_eq!(pick("zh-CN,zh;q=0.9"), "zh-CN");
        assert_eq!(pick("zh"), "zh-CN");
        assert_eq!(pick("zh-SG"), "zh-CN");
        assert_eq!(pick("zh-Hans-HK"), "zh-CN");
        assert_eq!(pick("en-GB,en;q=0.9"), "en");
        assert_eq!(pick("de-DE,de;q=0.9,ru;q=0.5"), "ru");
    }

    #[test]
    fn weights_decide_not_the_order() {
        assert_eq!(pick("en;q=0.5, zh-CN;q=0.8"), "zh-CN");
        assert_eq!(pick("en;q=0.8, ru;q=0.9, zh;q=0.85"), "ru");
        assert_eq!(pick("ru;q=0.001, en;q=0"), "ru");
        assert_eq!(pick("ru;q=1.000"), "ru");
        // Equal weights: the one named first.
        assert_eq!(pick("ru;q=0.5, zh;q=0.5"), "ru");
        assert_eq!(pick("zh;q=0.5, ru;q=0.5"), "zh-CN");
        // A language takes the highest weight of the ranges naming it.
        assert_eq!(pick("ru-RU;q=0.2, en;q=0.5, ru;q=0.9"), "ru");
        // Spaces around the parts (OWS), and Q in capitals.
        assert_eq!(pick("en ; Q=0.1 ,\tru ;q=0.3"), "ru");
    }

    #[test]
    fn traditional_chinese_is_not_simplified_chinese() {
        assert_eq!(pick("zh-TW"), "en");
        assert_eq!(pick("zh-Hant"), "en");
        assert_eq!(pick("zh-HK,zh;q=0.9"), "zh-CN");
        assert_eq!(pick("zh-TW,ru;q=0.5"), "ru");
    }

    #[test]
    fn a_wildcard_stands_for_every_language_not_named() {
        assert_eq!(pick("*"), "en");
        assert_eq!(pick("en;q=0, *"), "zh-CN");
        assert_eq!(pick("en;q=0, zh;q=0, *;q=0.1"), "ru");
        assert_eq!(pick("de, *;q=0.5, ru;q=0.6"), "ru");
        assert_eq!(pick("*;q=0"), "en");
    }

    #[test]
    fn nothing_acceptable_or_nothing_readable_is_english() {
        assert_eq!(negotiate(std::iter::empty::<&[u8]>()).tag(), "en");
        assert_eq!(pick(""), "en");
        assert_eq!(pick("fr-FR, de;q=0.8"), "en");
        assert_eq!(pick("ru;q=0"), "en");
        // Malformed elements are skipped, the rest still counts.
        assert_eq!(pick("ru;q=2, zh;q=abc, en-;q=1, toolonglanguage, ru_RU"), "en");
        assert_eq!(pick("ru;q=0.5000, ,;;, zh;q=0.4"), "zh-CN");
        assert_eq!(negotiate([&b"\xff\xfe"[..], b"ru"]).tag(), "ru");
    }

    #[test]
    fn several_fields_make_one_list() {
        assert_eq!(negotiate([&b"en;q=0.5"[..], b"ru;q=0.7"]).tag(), "ru");
        assert_eq!(negotiate([&b"ru;q=0.5"[..], b"zh;q=0.5"]).tag(), "ru");
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0.5"), Some(500));
        assert_eq!(parse_qvalue("0.123"), Some(123));
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.0"), Some(1000));
        assert_eq!(parse_qvalue("1.001"), None);
        assert_eq!(parse_qvalue("0.1234"), None);
        assert_eq!(parse_qvalue("2"), None);
        assert_eq!(parse_qvalue(".5"), None);
        assert_eq!(parse_qvalue("0.-1"), None);
    }
}
