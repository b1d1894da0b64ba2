//! Guest passes: a user made for a visitor, whose pass ends after a number
//! of hours (its policy's expiry), after a number of GB (a quota "N
//! GB/total", a budget that never starts again), or both. The dialog's
//! request is read here as the user typed it, each bad part named by its
//! field (`guest.hours`, `guest.gigabytes`, `guest.name`) in the words the
//! page uses too (`ui/src/views/users/guest.ts`; the cases both sides are
//! tested with are in `ui/tests/fixtures/guest-pass-inputs.json`). The pass
//! gets a generated name (when none is given) and password, both from the
//! system's cryptographic generator.

use std::collections::HashMap;

use proxy_core::access::Expiry;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::format::format_bytes;
use crate::settings::{FieldError, PolicyEntry, UserEntry};
use crate::users;

/// The longest a guest pass may run, in hours: 90 days.
pub const MAX_HOURS: f64 = 2160.0;
/// The largest budget a guest pass may have, in GB.
pub const MAX_GIGABYTES: f64 = 1000.0;

/// The characters of generated passwords: letters and digits that cannot be
/// mistaken for one another when read off the screen or typed into a client
/// on another device (no 0/O, 1/l/I); the page's Generate draws from the
/// same (`PASSWORD_ALPHABET` in ui/src/views/users/model.ts).
pub const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Characters in a generated password: 16 of 57 are some 93 bits.
pub const PASSWORD_LENGTH: usize = 16;

/// The characters after "guest-" in a generated name: lower-case letters and
/// digits that read unambiguously (no l, o, 0, 1), 32 of them.
const NAME_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// "guest-" and four characters: about a million names.
const NAME_LENGTH: usize = 4;

/// What the guest pass dialog asks for, each part as typed; an empty name
/// is generated, an empty end is none (but one of the two is needed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct GuestPassRequest {
    /// The user name; empty: "guest-" and four random characters.
    pub name: String,
    /// The pass ends this many hours from now ("24", "1.5"); empty: no time
    /// limit.
    pub hours: String,
    /// The pass ends once this many GB went through it, up and down
    /// together ("2", "0.5"); empty: no budget.
    pub gigabytes: String,
}

/// A guest pass as made: the user's name and password, and what ends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GuestPass {
    /// The user name to sign in with.
    pub name: String,
    /// The generated password (shown once; kept in the keyring).
    pub password: String,
    /// The pass's policy: its expiry and its budget.
    pub policy: PolicyEntry,
}

/// The system's random generator failed (it does not, on any system this
/// app runs on; but a pass must never get a guessable password).
#[derive(Debug, Clone, thiserror::Error)]
#[error("The system's random number generator failed ({0}); no guest pass was made.")]
pub struct RandomError(String);

impl From<RandomError> for Vec<FieldError> {
    fn from(e: RandomError) -> Self {
        vec![FieldError::general(e.to_string())]
    }
}

/// Fills a buffer with random bytes from the system's cryptographic
/// generator.
pub fn system_random(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
}

/// A password of [`PASSWORD_LENGTH`] characters of [`PASSWORD_ALPHABET`],
/// each uniform (random bytes past the last whole multiple of the
/// alphabet's length are drawn again, so none is favoured).
pub fn generate_password(
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), RandomError>,
) -> Result<String, RandomError> {
    uniform_text(PASSWORD_ALPHABET, PASSWORD_LENGTH, random)
}

impl GuestPassRequest {
    /// Every problem of the request with `users` listed already, each
    /// naming its field.
    pub fn check(&self, users: &[UserEntry]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(FieldError { field: format!("guest.{field}"), message });
        };
        let name = self.name.trim();
        if !name.is_empty() {
            if let Err(e) = users::check_new_name(users, name) {
                err("name", e.to_string());
            }
        }
        let hours = read_number(&self.hours, &HOURS);
        let gigabytes = read_number(&self.gigabytes, &GIGABYTES);
        if let Err(message) = &hours {
            err("hours", message.clone());
        }
        if let Err(message) = &gigabytes {
            err("gigabytes", message.clone());
        }
        if let (Ok(None), Ok(None)) = (&hours, &gigabytes) {
            err("hours", NO_END.to_owned());
        }
        errors
    }

    /// The pass this request makes at `now`, with a name not among `users`
    /// nor among the names the proxy has counted bytes for (`used`, bytes
    /// in all by user name: proxy-core keeps each name's count, so a pass
    /// under such a name would start its budget used) and a password from
    /// `random`; the problems, when it has any.
    pub fn plan(
        &self,
        users: &[UserEntry],
        used: &HashMap<String, u64>,
        now: Expiry,
        random: &mut dyn FnMut(&mut [u8]) -> Result<(), RandomError>,
    ) -> Result<GuestPass, Vec<FieldError>> {
        let mut errors = self.check(users);
        let typed = self.name.trim();
        if let Some(&bytes) = used.get(typed).filter(|&&b| b > 0 && errors.is_empty()) {
            errors.push(FieldError {
                field: "guest.name".to_owned(),
                message: format!(
                    "\"{typed}\" has used {} through this proxy before, which a new pass would count \
                     against its budget: choose another name.",
                    format_bytes(bytes)
                ),
            });
        }
        FieldError::refuse_any(errors)?;
        let (hours, gigabytes) = (
            read_number(&self.hours, &HOURS).ok().flatten(),
            read_number(&self.gigabytes, &GIGABYTES).ok().flatten(),
        );
        let name = match self.name.trim() {
            "" => generate_name(users, used, random)?,
            typed => typed.to_owned(),
        };
        let expires = match hours {
            Some(hours) => expiry_after(now, hours)
                .ok_or_else(|| {
                    vec![FieldError::general(format!(
                        "{hours} hours from now is past the calendar's end."
                    ))]
                })?
                .to_string(),
            None => String::new(),
        };
        let quota = gigabytes.map(|gb| format!("{gb} GB/total")).unwrap_or_default();
        let policy = PolicyEntry { expires, quota, ..PolicyEntry::default() };
        Ok(GuestPass { name, password: generate_password(random)?, policy })
    }
}

/// What a request without an end is told.
pub const NO_END: &str =
    "Give the pass an end: after a number of hours, after a number of GB, or both.";

/// One of the request's numbers: its unit's words and its largest value.
struct NumberField {
    /// "hours", "GB".
    unit: &'static str,
    /// An example, for a text that is no number.
    example: &'static str,
    max: f64,
    /// The largest value in other words, if it has them: " (90 days)".
    max_words: &'static str,
    /// What leaving it empty means.
    empty: &'static str,
    /// The value times this is its smallest meaningful unit (seconds,
    /// bytes): a value under one of those is out of range too.
    scale: f64,
}

const HOURS: NumberField = NumberField {
    unit: "hours",
    example: "24",
    max: MAX_HOURS,
    max_words: " (90 days)",
    empty: "no time limit",
    scale: 3600.0,
};

const GIGABYTES: NumberField = NumberField {
    unit: "GB",
    example: "2",
    max: MAX_GIGABYTES,
    max_words: "",
    empty: "no budget",
    scale: 1e9,
};

/// A number as typed: `Ok(None)` when blank, else a value above 0 and at
/// most the field's largest, or what is wrong in words.
fn read_number(text: &str, field: &NumberField) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let range = format!(
        "enter a number of {} above 0 and at most {}{}, or nothing for {}",
        field.unit, field.max, field.max_words, field.empty
    );
    let digits = text.strip_prefix('-').unwrap_or(text);
    let is_number = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
        && digits != ".";
    let value = match text.parse::<f64>() {
        Ok(value) if is_number => value,
        _ => {
            return Err(format!(
                "\"{text}\" is not a number of {} (such as {}): {range}.",
                field.unit, field.example
            ))
        }
    };
    if value <= 0.0 || value > field.max || value * field.scale < 1.0 {
        return Err(format!("{text} is out of range: {range}."));
    }
    Ok(Some(value))
}

/// `hours` after `now`, to the second (the expiry reads as a whole second,
/// "2026-12-02T12:00:00Z", however precise the clock).
fn expiry_after(now: Expiry, hours: f64) -> Option<Expiry> {
    let seconds = (hours * 3600.0).round() as i64;
    let at = now.0.as_second().checked_add(seconds)?;
    jiff::Timestamp::from_second(at).ok().map(Expiry)
}

/// "guest-" and [`NAME_LENGTH`] random characters, not the name of one of
/// `users` nor one the proxy counted bytes for.
fn generate_name(
    users: &[UserEntry],
    used: &HashMap<String, u64>,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), RandomError>,
) -> Result<String, RandomError> {
    // A million names: a clash is rare, and every try is a fresh draw.
    let mut length = NAME_LENGTH;
    loop {
        for _ in 0..16 {
            let name = format!("guest-{}", uniform_text(NAME_ALPHABET, length, random)?);
            if users.iter().all(|u| u.name != name) && !used.contains_key(&name) {
                return Ok(name);
            }
        }
        length += 1;
    }
}

/// `length` characters of `alphabet`, each uniform.
fn uniform_text(
    alphabet: &[u8],
    length: usize,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), RandomError>,
) -> Result<String, RandomError> {
    let n = alphabet.len();
    debug_assert!((1..=256).contains(&n), "an alphabet of 1 to 256 characters");
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(length);
    let mut bytes = vec![0u8; length * 2];
    while out.len() < length {
        random(&mut bytes)?;
        for &b in &bytes {
            if usize::from(b) < limit && out.len() < length {
                out.push(char::from(alphabet[usize::from(b) % n]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes from a simple generator, reproducible (xorshift).
    fn seeded(mut state: u64) -> impl FnMut(&mut [u8]) -> Result<(), RandomError> {
        move |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = (state >> 24) as u8;
            }
            Ok(())
        }
    }

    fn at(text: &str) -> Expiry {
        text.parse().unwrap()
    }

    fn request(name: &str, hours: &str, gigabytes: &str) -> GuestPassRequest {
        GuestPassRequest { name: name.into(), hours: hours.into(), gigabytes: gigabytes.into() }
    }

    #[test]
    fn a_generated_password_is_16_unambiguous_characters_of_93_bits() {
        let mut random = system_random;
        let password = generate_password(&mut random).unwrap();
        assert_eq!(password.chars().count(), PASSWORD_LENGTH);
        assert!(password.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)), "{password}");
        for confusable in ['0', 'O', '1', 'l', 'I'] {
            assert!(
                !PASSWORD_ALPHABET.contains(&(confusable as u8)),
                "{confusable} is in the alphabet"
            );
        }
        let bits = PASSWORD_LENGTH as f64 * (PASSWORD_ALPHABET.len() as f64).log2();
        assert!(bits > 93.0, "only {bits:.1} bits");
        // Distinct alphabet characters, or the entropy above is less.
        let mut sorted = PASSWORD_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), PASSWORD_ALPHABET.len());
        let again = generate_password(&mut random).unwrap();
        assert_ne!(password, again, "two passwords in a row are the same");
        assert!(
            users::check_password(&password).is_ok(),
            "a generated password is refused by the app"
        );
    }

    #[test]
    fn the_alphabet_is_the_pages() {
        let model = include_str!("../../ui/src/views/users/model.ts");
        let ours = std::str::from_utf8(PASSWORD_ALPHABET).unwrap();
        assert!(
            model.contains(&format!("PASSWORD_ALPHABET = \"{ours}\"")),
            "ui/src/views/users/model.ts's PASSWORD_ALPHABET differs from the app's"
        );
    }

    #[test]
    fn every_character_is_drawn_as_often_and_bytes_past_the_last_multiple_are_drawn_again() {
        // 57 characters: bytes 228 and up would favour the first 28.
        let mut counts = [0usize; 57];
        let mut random = seeded(0x9e37_79b9_7f4a_7c15);
        let draws = 20_000;
        for _ in 0..draws {
            for b in generate_password(&mut random).unwrap().bytes() {
                let i = PASSWORD_ALPHABET.iter().position(|&c| c == b).unwrap();
                counts[i] += 1;
            }
        }
        let expected = (draws * PASSWORD_LENGTH) as f64 / 57.0;
        let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        // 56 degrees of freedom: 99.9 % of uniform draws stay under 100.
        assert!(chi2 < 100.0, "chi-squared {chi2:.1}: not uniform ({counts:?})");

        // Only bytes past 228 at first: every one is drawn again.
        let mut calls = 0;
        let mut skewed = |buf: &mut [u8]| {
            calls += 1;
            buf.fill(if calls == 1 { 250 } else { 3 });
            Ok(())
        };
        assert_eq!(generate_password(&mut skewed).unwrap(), "d".repeat(16));
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_failing_generator_makes_no_password() {
        let mut broken = |_: &mut [u8]| Err(RandomError("no entropy".into()));
        let error = generate_password(&mut broken).unwrap_err();
        assert!(error.to_string().contains("no entropy"));
        let planned = request("", "1", "").plan(
            &[],
            &HashMap::new(),
            at("2026-12-01T12:00:00Z"),
            &mut broken,
        );
        assert_eq!(planned.unwrap_err()[0].field, "general");
    }

    #[test]
    fn a_pass_ends_after_its_hours_and_its_gigabytes() {
        let now = at("2026-12-01T12:00:00Z");
        let mut random = seeded(7);
        let pass = request("", "24", "2").plan(&[], &HashMap::new(), now, &mut random).unwrap();
        assert!(pass.name.starts_with("guest-") && pass.name.len() == 10, "{}", pass.name);
        assert!(pass.name[6..].bytes().all(|b| NAME_ALPHABET.contains(&b)));
        assert_eq!(pass.policy.expires, "2026-12-02T12:00:00Z");
        assert_eq!(pass.policy.quota, "2 GB/total");
        assert_eq!(pass.policy.check(), [], "proxy-core reads the pass's policy");
        assert_eq!(pass.password.len(), PASSWORD_LENGTH);

        let precise = at("2026-12-01T12:00:00.466432635Z");
        let pass = request("", "1", "").plan(&[], &HashMap::new(), precise, &mut random).unwrap();
        assert_eq!(pass.policy.expires, "2026-12-01T13:00:00Z", "to the second");
        let pass =
            request(" visitor ", "1.5", "").plan(&[], &HashMap::new(), now, &mut random).unwrap();
        assert_eq!(
            (pass.name.as_str(), pass.policy.expires.as_str()),
            ("visitor", "2026-12-01T13:30:00Z")
        );
        assert_eq!(pass.policy.quota, "");
        let pass = request("", " ", "0.5").plan(&[], &HashMap::new(), now, &mut random).unwrap();
        assert_eq!(
            (pass.policy.expires.as_str(), pass.policy.quota.as_str()),
            ("", "0.5 GB/total")
        );
        let quota: proxy_core::access::Quota = pass.policy.quota.parse().unwrap();
        assert_eq!(quota.bytes, 500_000_000);
    }

    #[test]
    fn a_generated_name_is_not_taken() {
        // A generator whose draws are all a's, then all b's, then all c's.
        let mut calls = 0u8;
        let mut random = |buf: &mut [u8]| {
            buf.fill(calls);
            calls += 1;
            Ok(())
        };
        let taken = [UserEntry::new("guest-aaaa")];
        let counted = HashMap::from([("guest-bbbb".to_owned(), 0)]);
        let name = generate_name(&taken, &counted, &mut random).unwrap();
        assert_eq!(name, "guest-cccc", "neither a user's name nor one counted before");
    }

    #[test]
    fn a_name_that_used_bytes_before_is_refused_for_a_new_pass() {
        let used = HashMap::from([("visitor".to_owned(), 1_200_000_000), ("idle".to_owned(), 0)]);
        let now = at("2026-12-01T12:00:00Z");
        let mut random = seeded(3);
        let errors = request("visitor", "1", "").plan(&[], &used, now, &mut random).unwrap_err();
        assert_eq!(errors[0].field, "guest.name");
        assert!(
            errors[0].message.starts_with("\"visitor\" has used 1.2 GB through this proxy before"),
            "{}",
            errors[0].message
        );
        assert!(
            request("idle", "1", "").plan(&[], &used, now, &mut random).is_ok(),
            "no bytes: fine"
        );
    }

    #[test]
    fn bad_numbers_and_names_are_named_by_their_field() {
        let users = [UserEntry::new("alice")];
        let fields = |r: GuestPassRequest| -> Vec<(String, String)> {
            r.check(&users).into_iter().map(|e| (e.field, e.message)).collect()
        };
        assert_eq!(
            fields(request("alice", "", "")),
            [
                ("guest.name".to_owned(), "There is already a user named \"alice\".".to_owned()),
                ("guest.hours".to_owned(), NO_END.to_owned()),
            ]
        );
        let long = "x".repeat(256);
        assert_eq!(fields(request(&long, "1", ""))[0].0, "guest.name");
        assert_eq!(fields(request("bob", "0", "abc")).len(), 2);
    }

    /// The cases the page's tests read too (ui/tests/guest.test.ts): the
    /// dialog and the app say the same of each.
    const SHARED_CASES: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ui/tests/fixtures/guest-pass-inputs.json"
    ));

    #[test]
    fn the_dialog_and_the_app_say_the_same_of_each_number() {
        let cases: serde_json::Value = serde_json::from_str(SHARED_CASES).unwrap();
        let mut checked = 0;
        for case in cases["cases"].as_array().unwrap() {
            let (hours, gigabytes) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
            let errors = request("", hours, gigabytes).check(&[]);
            let said: Vec<(String, String)> =
                errors.into_iter().map(|e| (e.field, e.message)).collect();
            let wanted: Vec<(String, String)> = case[2]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (format!("guest.{}", e[0].as_str().unwrap()), e[1].as_str().unwrap().to_owned())
                })
                .collect();
            assert_eq!(said, wanted, "hours {hours:?}, GB {gigabytes:?}");
            checked += 1;
        }
        assert!(checked >= 15, "only {checked} cases");
    }
}
