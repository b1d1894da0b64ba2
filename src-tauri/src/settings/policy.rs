//! Per-user and per-device policy as the app keeps it: proxy-core's
//! [`Policy`], each part as the user typed it, so that a bad one is refused
//! naming its field (`policy.rateLimit`) in proxy-core's own words (each
//! part is read with proxy-core's `FromStr`), rather than failing the
//! whole call. Checked here, converted in `to_config`.

use proxy_core::access::{CommandName, Expiry, Hours, Policy, Quota, Rate, TargetPattern};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{FieldError, LIMIT_MAX};

/// What one user or device may do; every part left empty limits nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyEntry {
    /// Bytes a second each way, shared by all its sessions ("2 MB/s");
    /// empty: no limit.
    pub rate_limit: String,
    /// Bytes up and down together per day, week or month ("5 GB/day"), or
    /// in all ("2 GB/total", a budget that never starts again); empty: no
    /// quota.
    pub quota: String,
    /// When it may connect, local time ("Mon-Fri 16:00-20:00"); none: at
    /// any time.
    pub hours: Vec<String>,
    /// The commands it may use; `None`: all of them.
    #[ts(type = "Array<\"connect\" | \"bind\" | \"udp\"> | null")]
    pub commands: Option<Vec<CommandName>>,
    /// When not empty, the only destinations it may reach (".example.org",
    /// "10.1.0.0/16", "*:443").
    pub allow_targets: Vec<String>,
    /// Destinations it may not reach.
    pub deny_targets: Vec<String>,
    /// Sessions at once; `None`: no limit.
    pub max_sessions: Option<usize>,
    /// When it stops being admitted, in RFC 3339 ("2026-12-24T18:00:00Z");
    /// empty: never.
    pub expires: String,
}

impl PolicyEntry {
    /// The same policy as it is saved: each text trimmed, blank lines
    /// dropped, the expiry written as proxy-core writes it (UTC, which the
    /// window reads as it is); what does not parse is kept for its error.
    pub fn normalized(self) -> PolicyEntry {
        let lines = |list: Vec<String>| -> Vec<String> {
            list.into_iter().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect()
        };
        let expires = self.expires.trim();
        let expires = match expires.parse::<Expiry>() {
            Ok(expiry) => expiry.to_string(),
            Err(_) => expires.to_owned(),
        };
        PolicyEntry {
            rate_limit: self.rate_limit.trim().to_owned(),
            quota: self.quota.trim().to_owned(),
            hours: lines(self.hours),
            commands: self.commands,
            allow_targets: lines(self.allow_targets),
            deny_targets: lines(self.deny_targets),
            max_sessions: self.max_sessions,
            expires,
        }
    }

    /// Every problem, each naming its field (`policy.rateLimit`, ...).
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(FieldError { field: format!("policy.{field}"), message });
        };
        if let Some(Err(e)) = optional(&self.rate_limit, str::parse::<Rate>) {
            err("rateLimit", sentence(&e));
        }
        if let Some(Err(e)) = optional(&self.quota, str::parse::<Quota>) {
            err("quota", sentence(&e));
        }
        for line in nonblank(&self.hours) {
            if let Err(e) = parse_hours(line) {
                err("hours", sentence(&e));
            }
        }
        if self.commands.as_ref().is_some_and(Vec::is_empty) {
            err("commands", NO_COMMAND.to_owned());
        }
        for (field, list) in
            [("allowTargets", &self.allow_targets), ("denyTargets", &self.deny_targets)]
        {
            for line in nonblank(list) {
                if let Err(e) = line.parse::<TargetPattern>() {
                    err(field, sentence(&e));
                }
            }
        }
        if let Some(n) = self.max_sessions.filter(|&n| n == 0 || n > LIMIT_MAX) {
            err(
                "maxSessions",
                format!("{n} is out of range: enter a number from 1 to {LIMIT_MAX}, or nothing for no limit."),
            );
        }
        if let Some(Err(e)) = optional(&self.expires, str::parse::<Expiry>) {
            err("expires", sentence(&e));
        }
        errors
    }

    /// proxy-core's policy, or `None` when a part does not parse (the
    /// check names it).
    pub fn to_policy(&self) -> Option<Policy> {
        let parse_all = |list: &[String]| -> Option<Vec<TargetPattern>> {
            nonblank(list).map(|line| line.parse().ok()).collect()
        };
        let allow_targets = parse_all(&self.allow_targets)?;
        Some(Policy {
            rate_limit: optional(&self.rate_limit, str::parse).transpose().ok()?,
            quota: optional(&self.quota, str::parse).transpose().ok()?,
            hours: nonblank(&self.hours).map(|h| parse_hours(h).ok()).collect::<Option<_>>()?,
            commands: self.commands.clone(),
            allow_targets: (!allow_targets.is_empty()).then_some(allow_targets),
            deny_targets: parse_all(&self.deny_targets)?,
            max_sessions: self.max_sessions,
            expires: optional(&self.expires, str::parse).transpose().ok()?,
        })
    }

    /// Whether it has expired by `now`.
    pub fn expired_at(&self, now: Expiry) -> bool {
        matches!(optional(&self.expires, str::parse::<Expiry>), Some(Ok(expiry)) if expiry <= now)
    }
}

/// What a policy that allows no command is told.
pub const NO_COMMAND: &str =
    "Allow at least one command: with none, nothing could be done through the proxy.";

/// `text` read with `parse`, or `None` when it is blank.
fn optional<'a, T, E>(
    text: &'a str,
    parse: impl FnOnce(&'a str) -> Result<T, E>,
) -> Option<Result<T, E>> {
    let text = text.trim();
    (!text.is_empty()).then(|| parse(text))
}

fn nonblank(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter().map(|l| l.trim()).filter(|l| !l.is_empty())
}

/// proxy-core's message as a sentence.
fn sentence(message: &str) -> String {
    format!("{message}.")
}

/// Access hours as proxy-core reads them.
fn parse_hours(text: &str) -> Result<Hours, String> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    fn full() -> PolicyEntry {
        PolicyEntry {
            rate_limit: "2 MB/s".into(),
            quota: "5 GB/day".into(),
            hours: vec!["Mon-Fri 16:00-20:00".into(), "Sat-Sun 09:00-21:00".into()],
            commands: Some(vec![CommandName::Connect]),
            allow_targets: vec!["example.org".into(), ".example.org".into(), "*:443".into()],
            deny_targets: vec!["192.168.1.1".into()],
            max_sessions: Some(16),
            expires: "2026-12-24T18:00:00Z".into(),
        }
    }

    #[test]
    fn every_part_reaches_proxy_cores_policy() {
        let policy = full().to_policy().unwrap();
        assert_eq!(policy.rate_limit, Some(Rate(2_000_000)));
        assert_eq!(policy.quota.map(|q| q.to_string()).as_deref(), Some("5 GB/day"));
        let hours: Vec<String> = policy.hours.iter().map(ToString::to_string).collect();
        assert_eq!(hours, ["Mon-Fri 16:00-20:00", "Sat-Sun 09:00-21:00"]);
        assert_eq!(policy.commands, Some(vec![CommandName::Connect]));
        let allow: Vec<String> =
            policy.allow_targets.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(allow, ["example.org", ".example.org", "*:443"]);
        assert_eq!(policy.deny_targets[0].to_string(), "192.168.1.1");
        assert_eq!(policy.max_sessions, Some(16));
        assert_eq!(policy.expires.unwrap().to_string(), "2026-12-24T18:00:00Z");
        assert!(full().check().is_empty(), "{:?}", full().check());
    }

    #[test]
    fn an_empty_policy_limits_nothing() {
        assert_eq!(PolicyEntry::default().to_policy(), Some(Policy::default()));
        // Blank text and lines are nothing, and no list of destinations is
        // "any destination", not "none".
        let blank = PolicyEntry {
            rate_limit: "  ".into(),
            hours: vec![String::new()],
            allow_targets: vec![" ".into()],
            ..PolicyEntry::default()
        };
        assert!(blank.check().is_empty());
        assert_eq!(blank.to_policy().unwrap().allow_targets, None);
        assert!(blank.to_policy().unwrap().is_empty());
        assert!(!full().to_policy().unwrap().is_empty());
    }

    #[test]
    fn each_bad_part_is_named_in_proxy_cores_words() {
        let bad = PolicyEntry {
            rate_limit: "fast".into(),
            quota: "5 GB/year".into(),
            hours: vec!["Mon-Fri 16:00-20:00".into(), "Someday 10:00-11:00".into()],
            commands: Some(Vec::new()),
            allow_targets: vec!["[::1".into()],
            deny_targets: vec!["bad name!".into()],
            max_sessions: Some(0),
            expires: "tomorrow".into(),
        };
        let errors = bad.check();
        let pairs: Vec<(&str, &str)> =
            errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("policy.rateLimit", "\"fast\" is not a rate (such as \"2 MB/s\")."),
                ("policy.quota", "\"year\" is not a period (day, week, month or total)."),
                (
                    "policy.hours",
                    "\"Someday\" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)."
                ),
                ("policy.commands", NO_COMMAND),
                ("policy.allowTargets", "\"[::1\" lacks its closing ']'."),
                ("policy.denyTargets", "\"bad name!\" is not a name, an address or a range."),
                (
                    "policy.maxSessions",
                    "0 is out of range: enter a number from 1 to 1000000, or nothing for no limit."
                ),
                (
                    "policy.expires",
                    "\"tomorrow\" is not a date and time (RFC 3339, such as \"2026-12-24T18:00:00Z\")."
                ),
            ]
        );
        assert_eq!(bad.to_policy(), None);
        let over = PolicyEntry { max_sessions: Some(LIMIT_MAX + 1), ..PolicyEntry::default() };
        assert_eq!(fields(&over.check()), ["policy.maxSessions"]);
        // Each part is read as proxy-core reads it: the message is its own.
        for (text, parsed) in [("2 GB/s", "2 GB/s".parse::<Rate>()), ("5", "5".parse::<Rate>())] {
            let entry = PolicyEntry { rate_limit: text.into(), ..PolicyEntry::default() };
            let ours = entry.check().first().map(|e| e.message.clone());
            assert_eq!(ours, parsed.err().map(|e| format!("{e}.")), "{text}");
        }
    }

    /// The texts the window's tests read too (ui/tests/policy.test.ts): the
    /// page and the app say the same of each.
    const SHARED_TEXTS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ui/tests/fixtures/policy-texts.json"
    ));

    #[test]
    fn the_window_and_the_app_say_the_same_of_each_text() {
        let cases: serde_json::Value = serde_json::from_str(SHARED_TEXTS).unwrap();
        let mut checked = 0;
        for (field, list) in cases.as_object().unwrap().iter().filter(|(k, _)| *k != "about") {
            for case in list.as_array().unwrap() {
                let text = case[0].as_str().unwrap().to_owned();
                let mut entry = PolicyEntry::default();
                match field.as_str() {
                    "rateLimit" => entry.rate_limit = text.clone(),
                    "quota" => entry.quota = text.clone(),
                    "hours" => entry.hours = vec![text.clone()],
                    "denyTargets" => entry.deny_targets = vec![text.clone()],
                    "expires" => entry.expires = text.clone(),
                    other => panic!("no field {other} in the shared texts' cases"),
                }
                let errors = entry.check();
                let said = errors.first().map(|e| e.message.as_str());
                assert_eq!(said, case[1].as_str(), "{field} {text:?}");
                if let Some(e) = errors.first() {
                    assert_eq!(e.field, format!("policy.{field}"));
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} texts");
    }

    #[test]
    fn an_hour_too_big_for_proxy_core_is_refused_in_its_words() {
        for (text, piece) in [
            ("Mon 1093:00-20:00", "1093:00"),
            ("Mon 10:00-99999999999:00", "99999999999:00"),
            ("Mon 10:00- +1092:59", " +1092:59"),
        ] {
            let entry = PolicyEntry { hours: vec![text.into()], ..PolicyEntry::default() };
            let errors = entry.check();
            assert_eq!(fields(&errors), ["policy.hours"], "{text}");
            assert_eq!(errors[0].message, format!("{piece:?} is not a time (HH:MM)."), "{text}");
        }
        // Hours proxy-core refuses on its own say so in its words too.
        let late = PolicyEntry { hours: vec!["Mon 25:00-26:00".into()], ..PolicyEntry::default() };
        assert_eq!(late.check()[0].message, "\"25:00\" is not a time (HH:MM).");
        let fine = PolicyEntry { hours: vec!["Fri 22:00-02:00".into()], ..PolicyEntry::default() };
        assert!(fine.check().is_empty());
    }

    #[test]
    fn normalizing_trims_and_writes_the_expiry_in_utc() {
        let entry = PolicyEntry {
            rate_limit: " 2 MB/s ".into(),
            hours: vec![" Mon-Fri 16:00-20:00 ".into(), "  ".into()],
            deny_targets: vec!["".into(), " 10.0.0.0/8".into()],
            expires: " 2026-12-24T19:00:00+01:00 ".into(),
            ..PolicyEntry::default()
        }
        .normalized();
        assert_eq!(entry.rate_limit, "2 MB/s");
        assert_eq!(entry.hours, ["Mon-Fri 16:00-20:00"]);
        assert_eq!(entry.deny_targets, ["10.0.0.0/8"]);
        assert_eq!(entry.expires, "2026-12-24T18:00:00Z");
        let kept = PolicyEntry { expires: " soon ".into(), ..PolicyEntry::default() }.normalized();
        assert_eq!(kept.expires, "soon", "what does not parse is kept for its error");
    }

    #[test]
    fn expiry_is_judged_against_the_instant_given() {
        let at = |t: &str| t.parse::<Expiry>().unwrap();
        let entry =
            PolicyEntry { expires: "2026-12-24T18:00:00Z".into(), ..PolicyEntry::default() };
        assert!(!entry.expired_at(at("2026-12-24T17:59:59Z")));
        assert!(
            entry.expired_at(at("2026-12-24T18:00:00Z")),
            "expired at the instant, as proxy-core says"
        );
        assert!(!PolicyEntry::default().expired_at(at("2099-01-01T00:00:00Z")));
    }

    #[test]
    fn it_is_camel_case_and_a_partial_one_loads() {
        let json = serde_json::to_value(full()).unwrap();
        assert_eq!(json["rateLimit"], "2 MB/s");
        assert_eq!(json["commands"], serde_json::json!(["connect"]));
        assert_eq!(json["allowTargets"][1], ".example.org");
        assert_eq!(json["maxSessions"], 16);
        let back: PolicyEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, full());
        let partial: PolicyEntry = serde_json::from_str(r#"{"quota": "1 GB/week"}"#).unwrap();
        assert_eq!(partial, PolicyEntry { quota: "1 GB/week".into(), ..PolicyEntry::default() });
    }
}
