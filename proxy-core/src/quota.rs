//! Traffic use and quotas: the bytes each owner (a user, a device) has
//! moved, up and down together, today, this week (from Monday), this month
//! (local time) and in all, counted as its sessions move them and kept in
//! a state file (`quota.toml` in the state directory). A quota counts
//! against one of those; the app shows the others beside it.
//!
//! The file is written atomically (a new file beside it, flushed to disk,
//! then renamed over the old one, and the directory flushed), every
//! [`SAVE_EVERY`] when something changed, and when the server stops: a
//! crash or a power loss loses at most that much counting, never the file.
//! A file that cannot be read is set aside (`quota.toml.unreadable`) with a
//! warning, never overwritten.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::access::Period;

/// How often changed counts are written.
pub const SAVE_EVERY: Duration = Duration::from_secs(10);

const FILE: &str = "quota.toml";

/// The calendar periods every meter counts, in this order.
const CALENDAR: [Period; 3] = [Period::Day, Period::Week, Period::Month];

/// One calendar period of a meter: its name and what the meter's total
/// was when it began (the period's bytes are the total since).
#[derive(Debug)]
struct Count {
    /// Which period it is ("2026-12-01", "week of 2026-11-30", "2026-12").
    period: Mutex<String>,
    /// The meter's total when the period began.
    start: AtomicU64,
}

/// The bytes one owner has moved: in all, and from that, in each calendar
/// period. Counting is one atomic addition, whatever the periods.
#[derive(Debug)]
pub struct QuotaMeter {
    total: AtomicU64,
    /// Today, this week, this month (as [`CALENDAR`]).
    calendar: [Count; 3],
    /// The total as last written, to tell whether there is news.
    written: AtomicU64,
    /// Whether a period began (or the form of the file changed) since the
    /// last write.
    rolled: AtomicBool,
}

impl QuotaMeter {
    /// A meter with the saved counts, each of the period it was saved in
    /// (the next [`QuotaMeter::roll`] starts those of an earlier one again).
    fn new(saved: &Saved) -> QuotaMeter {
        // An older file's one count is at least what was moved in all.
        let total = saved.total.max(saved.used.unwrap_or(0));
        let calendar = CALENDAR.map(|period| {
            let (name, used) =
                saved.count(period).map_or((String::new(), 0), |c| (c.period, c.used));
            Count { period: Mutex::new(name), start: AtomicU64::new(total.saturating_sub(used)) }
        });
        QuotaMeter {
            total: AtomicU64::new(total),
            calendar,
            written: AtomicU64::new(total),
            rolled: AtomicBool::new(false),
        }
    }

    /// Counts bytes moved.
    #[inline]
    pub fn add(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }

    /// Bytes moved in the current `period` (as of the meter's last
    /// [`Quotas::meter`] or [`Quotas::usage`]), or in all.
    pub fn used(&self, period: Period) -> u64 {
        let total = self.total.load(Ordering::Relaxed);
        match CALENDAR.iter().position(|p| *p == period) {
            Some(i) => total.saturating_sub(self.calendar[i].start.load(Ordering::Relaxed)),
            None => total,
        }
    }

    /// Starts each calendar count afresh whose period `now` is past.
    fn roll(&self, now: &jiff::ZonedDateTime) {
        for (count, period) in self.calendar.iter().zip(CALENDAR) {
            let name = period_of(period, now);
            let mut current = count.period.lock().unwrap_or_else(PoisonError::into_inner);
            if *current != name {
                *current = name;
                count.start.store(self.total.load(Ordering::Relaxed), Ordering::Relaxed);
                self.rolled.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Whether anything changed since the last call.
    fn take_changed(&self) -> bool {
        let total = self.total.load(Ordering::Relaxed);
        let counted = self.written.swap(total, Ordering::Relaxed) != total;
        self.rolled.swap(false, Ordering::Relaxed) | counted
    }

    fn saved(&self) -> Saved {
        let [day, week, month] = std::array::from_fn(|i| {
            let name =
                self.calendar[i].period.lock().unwrap_or_else(PoisonError::into_inner).clone();
            Some(SavedCount { period: name, used: self.used(CALENDAR[i]) })
        });
        Saved { total: self.total.load(Ordering::Relaxed), day, week, month, ..Saved::default() }
    }
}

/// The name of the period `now` is in.
pub fn period_of(period: Period, now: &jiff::ZonedDateTime) -> String {
    let date = now.date();
    match period {
        Period::Day => date.to_string(),
        Period::Week => {
            let mut monday = date;
            for _ in 0..now.weekday().to_monday_zero_offset() {
                monday = monday.yesterday().unwrap_or(monday);
            }
            format!("week of {monday}")
        }
        Period::Month => format!("{:04}-{:02}", now.year(), now.month()),
        Period::Total => "total".to_owned(),
    }
}

/// What one owner has used, as of one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// "user NAME" or "device NAME".
    pub owner: String,
    /// Bytes up and down together today (local time).
    pub today: u64,
    /// This week, from Monday.
    pub this_week: u64,
    /// This month.
    pub this_month: u64,
    /// Since it was first counted.
    pub total: u64,
}

impl QuotaUsage {
    /// The bytes counted in `period`.
    pub fn used(&self, period: Period) -> u64 {
        match period {
            Period::Day => self.today,
            Period::Week => self.this_week,
            Period::Month => self.this_month,
            Period::Total => self.total,
        }
    }
}

/// What the state file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    /// Owner ("user guest", "device tv") to its counts.
    #[serde(default)]
    quota: BTreeMap<String, Saved>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Saved {
    #[serde(default)]
    total: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<SavedCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    week: Option<SavedCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    month: Option<SavedCount>,
    /// Files written before the periods were counted apart held one
    /// period's count (`period`, `used`): read, never written.
    #[serde(default, skip_serializing)]
    period: Option<String>,
    #[serde(default, skip_serializing)]
    used: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedCount {
    period: String,
    used: u64,
}

impl Saved {
    /// The saved count of a calendar `period`, from either form of the file.
    fn count(&self, period: Period) -> Option<SavedCount> {
        let new = match period {
            Period::Day => &self.day,
            Period::Week => &self.week,
            Period::Month => &self.month,
            Period::Total => &None,
        };
        if new.is_some() {
            return new.clone();
        }
        let (name, used) = (self.period.as_deref()?, self.used?);
        let kind = if name.starts_with("week of ") {
            Period::Week
        } else if name.len() == "2026-12".len() {
            Period::Month
        } else {
            Period::Day
        };
        (kind == period).then(|| SavedCount { period: name.to_owned(), used })
    }
}

/// Every owner's meter, and where they are kept.
#[derive(Debug, Default)]
pub struct Quotas {
    meters: Mutex<HashMap<String, Arc<QuotaMeter>>>,
    file: Option<PathBuf>,
    /// Whether an owner was forgotten since the last write.
    forgotten: AtomicBool,
}

impl Quotas {
    /// Reads the counts kept in `dir` (none: counted in memory only).
    pub fn open(dir: Option<&Path>) -> Quotas {
        let Some(dir) = dir else { return Quotas::default() };
        let file = dir.join(FILE);
        let saved = match std::fs::read_to_string(&file) {
            Ok(text) => match toml::from_str::<StateFile>(&text) {
                Ok(state) => state.quota,
                Err(e) => {
                    let aside = file.with_extension("toml.unreadable");
                    warn!(
                        "cannot read the quota counts in {} ({e}); set aside as {} and counting afresh",
                        file.display(),
                        aside.display()
                    );
                    let _ = std::fs::rename(&file, &aside);
                    BTreeMap::new()
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                warn!("cannot read the quota counts in {}: {e}", file.display());
                BTreeMap::new()
            }
        };
        let meters = saved
            .into_iter()
            .map(|(owner, saved)| {
                let meter = QuotaMeter::new(&saved);
                // The file is written again in the current form.
                meter.rolled.store(saved.period.is_some(), Ordering::Relaxed);
                (owner, Arc::new(meter))
            })
            .collect();
        Quotas { meters: Mutex::new(meters), file: Some(file), forgotten: AtomicBool::new(false) }
    }

    /// Whether counts are kept across restarts.
    pub fn kept(&self) -> bool {
        self.file.is_some()
    }

    /// The meter of `owner`, its calendar counts as of `now`.
    pub fn meter(&self, owner: &str, now: &jiff::ZonedDateTime) -> Arc<QuotaMeter> {
        let mut meters = self.meters.lock().unwrap_or_else(PoisonError::into_inner);
        let meter = meters
            .entry(owner.to_owned())
            .or_insert_with(|| Arc::new(QuotaMeter::new(&Saved::default())));
        meter.roll(now);
        Arc::clone(meter)
    }

    /// What each owner counted since the start or read from the state file
    /// has used, as of `now`, by owner ("device tv" before "user guest").
    pub fn usage(&self, now: &jiff::ZonedDateTime) -> Vec<QuotaUsage> {
        let meters = self.meters.lock().unwrap_or_else(PoisonError::into_inner);
        let mut usage: Vec<QuotaUsage> = meters
            .iter()
            .map(|(owner, meter)| {
                meter.roll(now);
                QuotaUsage {
                    owner: owner.clone(),
                    today: meter.used(Period::Day),
                    this_week: meter.used(Period::Week),
                    this_month: meter.used(Period::Month),
                    total: meter.used(Period::Total),
                }
            })
            .collect();
        drop(meters);
        usage.sort_by(|a, b| a.owner.cmp(&b.owner));
        usage
    }

    /// Forgets every count of `owner` (a user removed for good, a guest
    /// pass revoked), here and, at the next write, in the state file; a
    /// later owner of the name starts from nothing. Whether it had any.
    pub fn forget(&self, owner: &str) -> bool {
        let had =
            self.meters.lock().unwrap_or_else(PoisonError::into_inner).remove(owner).is_some();
        if had {
            self.forgotten.store(true, Ordering::Relaxed);
        }
        had
    }

    /// Writes the counts if any changed since the last write.
    pub fn save_if_changed(&self) -> io::Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let mut state = StateFile::default();
        let mut changed = self.forgotten.swap(false, Ordering::Relaxed);
        for (owner, meter) in self.meters.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            changed |= meter.take_changed();
            state.quota.insert(owner.clone(), meter.saved());
        }
        if !changed {
            return Ok(());
        }
        let text = toml::to_string(&state).map_err(io::Error::other)?;
        write_atomically(file, text.as_bytes())
    }
}

/// Replaces `file` with `bytes` so that a crash at any moment leaves either
/// the old file or the new one, whole.
pub fn write_atomically(file: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let temporary = dir.join(format!(".{name}.{}.new", std::process::id()));
    {
        let mut out = std::fs::File::create(&temporary)?;
        out.write_all(bytes)?;
        out.sync_all()?;
    }
    if let Err(e) = std::fs::rename(&temporary, file) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::ZonedDateTime {
        format!("{text}[UTC]").parse().unwrap()
    }

    #[test]
    fn periods_are_calendar_days_weeks_and_months() {
        let wednesday = at("2026-12-02T10:00:00");
        assert_eq!(period_of(Period::Day, &wednesday), "2026-12-02");
        assert_eq!(period_of(Period::Week, &wednesday), "week of 2026-11-30");
        assert_eq!(period_of(Period::Week, &at("2026-11-30T00:00:00")), "week of 2026-11-30");
        assert_eq!(period_of(Period::Week, &at("2026-12-06T23:59:00")), "week of 2026-11-30");
        assert_eq!(period_of(Period::Month, &wednesday), "2026-12");
    }

    #[test]
    fn counts_survive_a_restart_and_start_again_with_the_period() {
        let dir = std::env::temp_dir().join(format!("socksbox-quota-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let day = at("2026-12-02T10:00:00");
        {
            let quotas = Quotas::open(Some(&dir));
            quotas.meter("user guest", &day).add(1234);
            quotas.meter("device tv", &day).add(99);
            quotas.save_if_changed().unwrap();
        }
        let quotas = Quotas::open(Some(&dir));
        assert_eq!(quotas.meter("user guest", &day).used(Period::Day), 1234);
        let later = at("2026-12-30T10:00:00");
        let tv = quotas.meter("device tv", &later);
        assert_eq!((tv.used(Period::Day), tv.used(Period::Month)), (0, 99));
        let tomorrow = at("2026-12-03T00:00:01");
        let guest = quotas.meter("user guest", &tomorrow);
        assert_eq!(guest.used(Period::Day), 0, "a new day");
        assert_eq!(guest.used(Period::Week), 1234, "the same week");
        guest.add(1);
        let usage = quotas.usage(&at("2026-12-04T00:00:00"));
        assert_eq!(usage.len(), 2);
        let friday = QuotaUsage {
            owner: "user guest".into(),
            today: 0,
            this_week: 1235,
            this_month: 1235,
            total: 1235,
        };
        assert_eq!(usage[1], friday);
        let next_year = &quotas.usage(&at("2027-01-01T00:00:00"))[1];
        assert_eq!(next_year, &QuotaUsage { this_week: 0, this_month: 0, ..friday });
        // A forgotten owner starts again from nothing, also after a restart.
        assert!(quotas.forget("device tv"));
        assert!(!quotas.forget("device tv"));
        quotas.save_if_changed().unwrap();
        assert_eq!(Quotas::open(Some(&dir)).meter("device tv", &later).used(Period::Month), 0);
        // A file that cannot be read is set aside, not overwritten.
        std::fs::write(dir.join(FILE), "not [toml").unwrap();
        let quotas = Quotas::open(Some(&dir));
        assert_eq!(quotas.meter("user guest", &day).used(Period::Total), 0);
        assert!(dir.join("quota.toml.unreadable").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_of_one_count_per_owner_is_read_into_its_period() {
        let dir = std::env::temp_dir().join(format!("socksbox-quota-old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let old = "[quota.\"user guest\"]\nperiod = \"2026-12-02\"\nused = 500\n\n\
                   [quota.\"device tv\"]\nperiod = \"2026-12\"\nused = 7\n";
        std::fs::write(dir.join(FILE), old).unwrap();
        let day = at("2026-12-02T10:00:00");
        let quotas = Quotas::open(Some(&dir));
        assert_eq!(quotas.meter("user guest", &day).used(Period::Day), 500);
        assert_eq!(quotas.meter("device tv", &day).used(Period::Month), 7);
        assert_eq!(quotas.meter("device tv", &day).used(Period::Day), 0);
        quotas.save_if_changed().unwrap();
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap();
        assert!(text.contains("[quota.\"user guest\".day]"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
