//! Each user's and device's use as the window shows it: what proxy-core's
//! `Server::usage` says (bytes today, this week, this month and in all,
//! the quota and the bytes counted against it, the rate limit, why a new
//! request would be refused now), with the current rate, which the sampler
//! works out from the change of the total between two of its readings, and
//! the refusal's kind (expired, outside its hours, over its quota).

use std::collections::HashMap;
use std::time::Instant;

use proxy_core::OwnerUse;
use serde::Serialize;
use ts_rs::TS;

use crate::format::rate;

/// One user's or device's use, for the Users page and the Connections view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRow {
    /// What the server counts it as: "user alice", "device tv".
    pub owner: String,
    pub kind: OwnerKind,
    /// The user's name, or the device's (its address when it has none).
    pub name: String,
    /// Bytes up and down together today (local time).
    pub today: u64,
    /// This week, from Monday.
    pub this_week: u64,
    /// This month.
    pub this_month: u64,
    /// Since it was first counted.
    pub total: u64,
    /// Its quota and the bytes counted against it.
    pub quota: Option<QuotaRow>,
    /// Its rate limit, bytes a second each way.
    pub rate_limit: Option<u64>,
    /// Bytes a second, up and down together, between the sampler's last two
    /// readings (0 at the first).
    pub rate: u64,
    /// Whether a new request of it is admitted now, and if not, why not.
    pub state: OwnerState,
    /// The server's reason, in its words ("outside its access hours
    /// (Mon-Fri 16:00-20:00)"), when it refuses it now.
    pub refused: Option<String>,
}

/// A user or a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OwnerKind {
    User,
    Device,
}

/// A quota, with what was counted against it in its current period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuotaRow {
    /// Bytes allowed in one period.
    pub bytes: u64,
    #[ts(type = "\"day\" | \"week\" | \"month\" | \"total\"")]
    pub period: &'static str,
    /// Bytes counted in the current period.
    pub used: u64,
}

/// Whether the server admits a new request of an owner now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OwnerState {
    /// Admitted (its other rules permitting).
    Active,
    /// Its expiry has passed.
    Expired,
    /// Outside its access hours.
    OutsideHours,
    /// Its quota is used up for this period (or, for a /total quota, for
    /// good).
    OverQuota,
    /// Refused for another reason (the text says which).
    Refused,
}

impl OwnerState {
    /// The kind of a refusal in proxy-core's words (`Policy::refuses_now`,
    /// its quota check), or `Active` for none.
    pub fn of(refused: Option<&str>) -> OwnerState {
        match refused {
            None => OwnerState::Active,
            Some(why) if why.starts_with("expired") => OwnerState::Expired,
            Some(why) if why.starts_with("outside its access hours") => OwnerState::OutsideHours,
            Some(why) if why.starts_with("over its quota") => OwnerState::OverQuota,
            Some(_) => OwnerState::Refused,
        }
    }
}

/// Turns the server's readings into rows, with each owner's rate since its
/// previous reading.
#[derive(Debug, Default)]
pub struct UsageMeter {
    /// Per owner, when its total was last read and what it was.
    last: HashMap<String, (Instant, u64)>,
}

impl UsageMeter {
    /// The rows of a reading taken at `at`.
    pub fn sample(&mut self, uses: Vec<OwnerUse>, at: Instant) -> Vec<OwnerRow> {
        let mut last = HashMap::with_capacity(uses.len());
        let rows = uses
            .into_iter()
            .map(|u| {
                let total = u.usage.total;
                let rate = self.last.get(&u.owner).map_or(0, |&(then, before)| {
                    rate(before, total, at.saturating_duration_since(then))
                });
                last.insert(u.owner.clone(), (at, total));
                row(u, rate)
            })
            .collect();
        self.last = last;
        rows
    }

    /// Forgets the readings (the server stopped): rates start at 0 again.
    pub fn clear(&mut self) {
        self.last.clear();
    }
}

fn row(u: OwnerUse, rate: u64) -> OwnerRow {
    let (kind, name) = match u.owner.split_once(' ') {
        Some(("device", name)) => (OwnerKind::Device, name.to_owned()),
        Some((_, name)) => (OwnerKind::User, name.to_owned()),
        None => (OwnerKind::User, u.owner.clone()),
    };
    OwnerRow {
        kind,
        name,
        today: u.usage.today,
        this_week: u.usage.this_week,
        this_month: u.usage.this_month,
        total: u.usage.total,
        quota: u.quota.map(|q| QuotaRow {
            bytes: q.bytes,
            period: q.period.as_str(),
            used: q.used,
        }),
        rate_limit: u.rate_limit,
        rate,
        state: OwnerState::of(u.refused.as_deref()),
        refused: u.refused,
        owner: u.owner,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proxy_core::access::{Expiry, Hours, LocalMoment, Now, Period, Policy};
    use proxy_core::quota::QuotaUsage;
    use proxy_core::QuotaUse;

    use super::*;

    fn used(owner: &str, total: u64) -> OwnerUse {
        OwnerUse {
            owner: owner.into(),
            usage: QuotaUsage {
                owner: owner.into(),
                today: total,
                this_week: total,
                this_month: total,
                total,
            },
            quota: None,
            rate_limit: None,
            refused: None,
        }
    }

    #[test]
    fn the_rate_is_the_change_of_the_total_between_two_readings() {
        let mut meter = UsageMeter::default();
        let t0 = Instant::now();
        let first = meter.sample(vec![used("user alice", 1_000), used("device tv", 0)], t0);
        assert_eq!(first.iter().map(|r| r.rate).collect::<Vec<_>>(), [0, 0], "no earlier reading");

        // Two seconds later: alice moved 4 MB, the tv 1 kB.
        let t2 = t0 + Duration::from_secs(2);
        let rows = meter.sample(vec![used("user alice", 4_001_000), used("device tv", 1_000)], t2);
        assert_eq!((rows[0].rate, rows[1].rate), (2_000_000, 500));

        // A reading skipped (the state was busy): the rate is over the whole gap.
        let t5 = t2 + Duration::from_secs(3);
        let rows = meter.sample(vec![used("user alice", 10_001_000), used("user bob", 50)], t5);
        assert_eq!(rows[0].rate, 2_000_000);
        assert_eq!(rows[1].rate, 0, "bob is new: no rate yet");

        // A total that went back (a fresh state file) is no negative rate.
        let t6 = t5 + Duration::from_secs(1);
        let rows = meter.sample(vec![used("user alice", 10)], t6);
        assert_eq!(rows[0].rate, 0);
        meter.clear();
        let rows = meter.sample(vec![used("user alice", 5_000)], t6 + Duration::from_secs(1));
        assert_eq!(rows[0].rate, 0, "after a stop rates start again");
    }

    #[test]
    fn a_row_names_its_owner_and_carries_its_quota_and_cap() {
        let mut meter = UsageMeter::default();
        let mut alice = used("user alice", 3);
        alice.quota = Some(QuotaUse { bytes: 5_000_000_000, period: Period::Total, used: 3 });
        alice.rate_limit = Some(2_000_000);
        let rows = meter.sample(vec![alice, used("device kids tablet", 9)], Instant::now());
        assert_eq!((rows[0].kind, rows[0].name.as_str()), (OwnerKind::User, "alice"));
        assert_eq!((rows[1].kind, rows[1].name.as_str()), (OwnerKind::Device, "kids tablet"));
        let json = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(
            json["quota"],
            serde_json::json!({ "bytes": 5_000_000_000u64, "period": "total", "used": 3 })
        );
        assert_eq!(json["rateLimit"], 2_000_000);
        assert_eq!(json["thisMonth"], 3);
        assert_eq!(json["state"], "active");
        assert_eq!(json["kind"], "user");
    }

    /// The kinds are read from proxy-core's own words: its refusals are
    /// made here by proxy-core, so a change of wording fails this test.
    #[test]
    fn each_refusal_of_proxy_core_has_its_kind() {
        let now = Now {
            moment: LocalMoment { weekday: 1, minute: 12 * 60 },
            timestamp: "2026-12-01T12:00:00Z".parse::<Expiry>().unwrap().0,
        };
        let expired =
            Policy { expires: Some("2026-01-01T00:00:00Z".parse().unwrap()), ..Policy::default() };
        let why = expired.refuses_now(&now);
        assert_eq!(OwnerState::of(why.as_deref()), OwnerState::Expired, "{why:?}");
        let hours: Hours = "Mon 16:00-20:00".parse().unwrap();
        let evenings = Policy { hours: vec![hours], ..Policy::default() };
        let why = evenings.refuses_now(&now);
        assert_eq!(OwnerState::of(why.as_deref()), OwnerState::OutsideHours, "{why:?}");
        assert_eq!(
            OwnerState::of(Policy::default().refuses_now(&now).as_deref()),
            OwnerState::Active
        );
        // The quota's refusal is the server's (server/access.rs): the actions'
        // test reads one from a running server.
        assert_eq!(
            OwnerState::of(Some("over its quota of 1 KB/total (0.0 MB used in all)")),
            OwnerState::OverQuota
        );
        assert_eq!(OwnerState::of(Some("something new")), OwnerState::Refused);
    }
}
