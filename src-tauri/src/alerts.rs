//! Notices of quotas filling up and guest passes ending: a user's or a
//! device's quota at 80 % and at 100 %, once per owner, quota, period and
//! threshold (not at every reading; a new day, week or month, or a changed
//! quota, starts over), and a guest pass whose time passed or whose budget
//! is used up, once per end. What was said is kept in `notices.json` in the
//! settings folder, written only when something new is said, so a restart
//! within the same period says nothing again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proxy_core::access::Period;
use serde::{Deserialize, Serialize};

use crate::format::{format_amount, format_bytes};
use crate::i18n;
use crate::private;
use crate::usage::{OwnerKind, OwnerRow, OwnerState, QuotaRow};

/// The shares of a quota that are notified, largest first.
const THRESHOLDS: [u8; 2] = [100, 80];

/// What has been notified, and where that is kept.
#[derive(Debug)]
pub struct Notices {
    file: Option<PathBuf>,
    said: Said,
}

/// What the file holds.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Said {
    /// Per owner ("user alice"), the last quota notice.
    #[serde(default)]
    quota: BTreeMap<String, QuotaNotice>,
    /// Per guest pass ("user guest-ab12"), what ended it, once said.
    #[serde(default)]
    ended: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct QuotaNotice {
    /// The quota it was about: "5000000000/day".
    quota: String,
    /// The period it was in ("2026-12-01", "week of 2026-11-30", "2026-12",
    /// "total").
    period: String,
    /// The largest threshold said in that period.
    percent: u8,
}

impl Notices {
    /// The notices said so far, kept in `file` (`None`: in memory only). A
    /// missing or damaged file is a fresh start.
    pub fn load(file: Option<PathBuf>) -> Notices {
        let said = file
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| match serde_json::from_str(&text) {
                Ok(said) => Some(said),
                Err(e) => {
                    tracing::warn!("the notices file cannot be read ({e}); starting afresh");
                    None
                }
            })
            .unwrap_or_default();
        Notices { file, said }
    }

    /// What these rows call for that was not said before: the texts to
    /// notify. `guests` are the names of the guest passes; `period_now`
    /// names the current period of a quota's ("day" -> "2026-12-01").
    pub fn check(
        &mut self,
        rows: &[OwnerRow],
        guests: &[String],
        period_now: &dyn Fn(&str) -> String,
    ) -> Vec<String> {
        let before = self.said.clone();
        let mut texts = Vec::new();
        for row in rows {
            let guest = row.kind == OwnerKind::User && guests.contains(&row.name);
            let ended = if guest { self.guest_ended(row) } else { None };
            let filled = self.quota_filled(row, period_now);
            // A guest pass's budget used up is its end, said once as such.
            let filled =
                filled.filter(|f| !(guest && f.threshold == 100 && f.quota.period == "total"));
            if let Some(filled) = filled {
                texts.push(quota_text(row, guest, &filled));
            }
            texts.extend(ended);
        }
        self.said.ended.retain(|owner, _| {
            owner.strip_prefix("user ").is_some_and(|name| guests.iter().any(|g| g == name))
        });
        self.said.quota.retain(|_, notice| {
            let kind = notice.quota.rsplit_once('/').map_or("", |(_, kind)| kind);
            period_now(kind) == notice.period
        });
        if self.said != before {
            self.save();
        }
        texts
    }

    /// The text of a guest pass's end, when it ended and that was not said.
    fn guest_ended(&mut self, row: &OwnerRow) -> Option<String> {
        let (what, text) = match (row.state, &row.quota) {
            (OwnerState::Expired, _) => (
                format!("time: {}", row.refused.as_deref().unwrap_or("")),
                i18n::t("notice.guest.endedTime", &[("name", (&row.name).into())]),
            ),
            (OwnerState::OverQuota, Some(q)) if q.period == "total" => (
                format!("budget: {}", q.bytes),
                i18n::t(
                    "notice.guest.endedBudget",
                    &[
                        ("name", (&row.name).into()),
                        ("amount", format_amount(q.bytes).as_str().into()),
                    ],
                ),
            ),
            _ => return None,
        };
        let said = self.said.ended.insert(row.owner.clone(), what.clone());
        (said.as_deref() != Some(what.as_str())).then_some(text)
    }

    /// The threshold a row's quota newly reached, if it did.
    fn quota_filled<'a>(
        &mut self,
        row: &'a OwnerRow,
        period_now: &dyn Fn(&str) -> String,
    ) -> Option<Filled<'a>> {
        let quota = row.quota.as_ref().filter(|q| q.bytes > 0)?;
        let share = u128::from(quota.used) * 100 / u128::from(quota.bytes);
        let threshold = THRESHOLDS.into_iter().find(|&t| share >= u128::from(t))?;
        let notice = QuotaNotice {
            quota: format!("{}/{}", quota.bytes, quota.period),
            period: period_now(quota.period),
            percent: threshold,
        };
        let new = match self.said.quota.get(&row.owner) {
            Some(said) => {
                said.quota != notice.quota
                    || said.period != notice.period
                    || said.percent < threshold
            }
            None => true,
        };
        if !new {
            return None;
        }
        self.said.quota.insert(row.owner.clone(), notice);
        Some(Filled { threshold, share: share.min(100) as u8, quota })
    }

    fn save(&self) {
        let Some(path) = &self.file else {
            return;
        };
        let text = serde_json::to_string_pretty(&self.said).expect("notices always serialize");
        if let Err(e) = private::write_atomically(path, text.as_bytes()) {
            tracing::warn!("the notices said could not be kept in {} ({e})", path.display());
        }
    }
}

/// A quota that newly reached a threshold.
struct Filled<'a> {
    /// The threshold reached (80 or 100).
    threshold: u8,
    /// The share used, in percent (at most 100).
    share: u8,
    quota: &'a QuotaRow,
}

/// The name of the period a quota of this kind ("day", "week", "month",
/// "total") is in now, in local time, as proxy-core names it.
pub fn current_period(kind: &str) -> String {
    let period = match kind {
        "day" => Period::Day,
        "week" => Period::Week,
        "month" => Period::Month,
        _ => Period::Total,
    };
    proxy_core::quota::period_of(period, &jiff::ZonedDateTime::now())
}

/// "User alice has used 82% of its quota: 4.1 GB of 5 GB today."
fn quota_text(row: &OwnerRow, guest: bool, filled: &Filled<'_>) -> String {
    let quota = filled.quota;
    let who = match (row.kind, guest) {
        (OwnerKind::Device, _) => i18n::t("notice.quota.device", &[("name", (&row.name).into())]),
        (OwnerKind::User, true) => i18n::t("notice.quota.guest", &[("name", (&row.name).into())]),
        (OwnerKind::User, false) => i18n::t("notice.quota.user", &[("name", (&row.name).into())]),
    };
    let (during, until) = match quota.period {
        "day" => (i18n::t("notice.quota.today", &[]), i18n::t("notice.quota.untilMidnight", &[])),
        "week" => (i18n::t("notice.quota.thisWeek", &[]), i18n::t("notice.quota.untilMonday", &[])),
        "month" => {
            (i18n::t("notice.quota.thisMonth", &[]), i18n::t("notice.quota.untilMonthEnds", &[]))
        }
        _ => (i18n::t("notice.quota.inAll", &[]), i18n::t("notice.quota.fromNowOn", &[])),
    };
    let amount = format_amount(quota.bytes);
    let common = [
        ("who", who.as_str().into()),
        ("amount", amount.as_str().into()),
        ("during", during.as_str().into()),
    ];
    if filled.threshold >= 100 {
        let [who, amount, during] = common;
        i18n::t("notice.quota.full", &[who, amount, during, ("until", until.as_str().into())])
    } else {
        let used = format_bytes(quota.used);
        let [who, amount, during] = common;
        i18n::t(
            "notice.quota.share",
            &[
                who,
                amount,
                during,
                ("share", u64::from(filled.share).into()),
                ("used", used.as_str().into()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(owner: &str, used: u64, bytes: u64, period: &'static str) -> OwnerRow {
        let (kind, name) = match owner.split_once(' ') {
            Some(("device", name)) => (OwnerKind::Device, name),
            Some((_, name)) => (OwnerKind::User, name),
            None => (OwnerKind::User, owner),
        };
        let over = used >= bytes;
        OwnerRow {
            owner: owner.into(),
            kind,
            name: name.into(),
            today: used,
            this_week: used,
            this_month: used,
            total: used,
            quota: Some(QuotaRow { bytes, period, used }),
            rate_limit: None,
            rate: 0,
            state: if over { OwnerState::OverQuota } else { OwnerState::Active },
            refused: over.then(|| "over its quota".to_owned()),
        }
    }

    const GB: u64 = 1_000_000_000;

    fn today(_: &str) -> String {
        "2026-12-01".to_owned()
    }

    fn tomorrow(_: &str) -> String {
        "2026-12-02".to_owned()
    }

    #[test]
    fn each_threshold_is_said_once_per_owner_and_period() {
        let mut notices = Notices::load(None);
        let alice = |used| row("user alice", used, 5 * GB, "day");
        assert!(notices.check(&[alice(GB)], &[], &today).is_empty(), "20% is no news");
        let said = notices.check(&[alice(4 * GB + 100_000_000)], &[], &today);
        assert_eq!(said, ["User alice has used 82% of its quota: 4.1 GB of 5 GB today."]);
        for used in [4 * GB + 200_000_000, 4 * GB + 900_000_000] {
            assert!(notices.check(&[alice(used)], &[], &today).is_empty(), "80% again at {used}");
        }
        let said = notices.check(&[alice(5 * GB)], &[], &today);
        assert_eq!(
            said,
            ["User alice has used all of its 5 GB today: it is refused until midnight."]
        );
        assert!(notices.check(&[alice(6 * GB)], &[], &today).is_empty(), "100% again");

        // The next day starts over.
        assert!(notices.check(&[alice(GB)], &[], &tomorrow).is_empty());
        let said = notices.check(&[alice(4 * GB)], &[], &tomorrow);
        assert_eq!(said.len(), 1, "the next day's 80%: {said:?}");
        assert!(said[0].contains("80%"));
    }

    #[test]
    fn a_jump_past_both_thresholds_says_only_the_larger_and_owners_are_apart() {
        let mut notices = Notices::load(None);
        let said = notices.check(
            &[row("user alice", 6 * GB, 5 * GB, "month"), row("device tv", 900, 1_000, "week")],
            &[],
            &today,
        );
        assert_eq!(
            said,
            [
                "User alice has used all of its 5 GB this month: it is refused until the month ends.",
                "Device tv has used 90% of its quota: 900 B of 1 kB this week.",
            ]
        );
        // A changed quota is a new one.
        let said = notices.check(&[row("user alice", 6 * GB, 7 * GB, "month")], &[], &today);
        assert_eq!(said, ["User alice has used 85% of its quota: 6.0 GB of 7 GB this month."]);
    }

    #[test]
    fn what_was_said_outlives_a_restart_in_the_same_period() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notices.json");
        let mut first = Notices::load(Some(path.clone()));
        assert_eq!(first.check(&[row("user alice", 4 * GB, 5 * GB, "day")], &[], &today).len(), 1);
        #[cfg(unix)]
        assert_eq!(private::mode(&path), 0o600);

        let mut again = Notices::load(Some(path.clone()));
        assert!(again.check(&[row("user alice", 4 * GB, 5 * GB, "day")], &[], &today).is_empty());
        // A day later the old notice is dropped from the file.
        let mut later = Notices::load(Some(path.clone()));
        assert!(later.check(&[row("user alice", GB, 5 * GB, "day")], &[], &tomorrow).is_empty());
        let kept: Said = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(kept.quota.is_empty(), "yesterday's notice kept: {kept:?}");

        std::fs::write(&path, "{ not json").unwrap();
        let mut damaged = Notices::load(Some(path));
        assert_eq!(
            damaged.check(&[row("user alice", 4 * GB, 5 * GB, "day")], &[], &today).len(),
            1
        );
    }

    #[test]
    fn a_guest_pass_that_ends_is_said_once_by_what_ended_it() {
        let mut notices = Notices::load(None);
        let guests = ["guest-ab12".to_owned()];
        let half = row("user guest-ab12", GB, 2 * GB, "total");
        assert!(notices.check(&[half], &guests, &today).is_empty());
        let nearly = row("user guest-ab12", 1_700_000_000, 2 * GB, "total");
        assert_eq!(
            notices.check(&[nearly], &guests, &today),
            ["Guest pass guest-ab12 has used 85% of its quota: 1.7 GB of 2 GB in all."]
        );
        let used_up = row("user guest-ab12", 2 * GB, 2 * GB, "total");
        assert_eq!(
            notices.check(std::slice::from_ref(&used_up), &guests, &today),
            ["Guest pass guest-ab12 has ended: its 2 GB are used up."],
            "the end, not a second quota notice"
        );
        assert!(notices.check(&[used_up], &guests, &today).is_empty());

        let mut expired = row("user visitor", 0, 2 * GB, "total");
        expired.state = OwnerState::Expired;
        expired.refused = Some("expired at 2026-12-01T12:00:00Z".into());
        let guests = ["guest-ab12".to_owned(), "visitor".to_owned()];
        assert_eq!(
            notices.check(std::slice::from_ref(&expired), &guests, &today),
            ["Guest pass visitor has ended: its time is up."]
        );
        assert!(
            notices.check(std::slice::from_ref(&expired), &guests, &today).is_empty(),
            "said once"
        );
        // Given a later expiry, and expired again: a new end.
        expired.refused = Some("expired at 2026-12-02T12:00:00Z".into());
        assert_eq!(notices.check(std::slice::from_ref(&expired), &guests, &today).len(), 1);

        // A user who is no guest pass expires silently (its row says so).
        let mut bob = expired;
        bob.owner = "user bob".into();
        bob.name = "bob".into();
        assert!(notices.check(&[bob], &guests, &today).is_empty());
    }

    #[test]
    fn the_period_is_named_as_proxy_core_names_it() {
        assert_eq!(current_period("total"), "total");
        let day = current_period("day");
        assert_eq!(day.len(), 10, "{day}");
        assert!(current_period("week").starts_with("week of "));
        assert_eq!(current_period("month").len(), 7);
    }
}
