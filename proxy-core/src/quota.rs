//! Traffic quotas: the bytes each owner of a quota (a user, a device) has
//! moved, up and down together, in the current calendar period (a day, a
//! week from Monday, a month; local time), counted as its sessions move
//! them and kept in a state file (`quota.toml` in the state directory).
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

/// The bytes one owner has moved in its current period.
#[derive(Debug)]
pub struct QuotaMeter {
    used: AtomicU64,
    /// Which period `used` counts ("2026-12-01", "week of 2026-11-30",
    /// "2026-12").
    period: Mutex<String>,
    changed: AtomicBool,
}

impl QuotaMeter {
    /// Counts bytes moved.
    #[inline]
    pub fn add(&self, n: u64) {
        self.used.fetch_add(n, Ordering::Relaxed);
        self.changed.store(true, Ordering::Relaxed);
    }

    /// Bytes moved in the current period.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Starts counting `period` afresh if it is not the one counted.
    fn roll(&self, period: &str) {
        let mut current = self.period.lock().unwrap_or_else(PoisonError::into_inner);
        if *current != period {
            *current = period.to_owned();
            self.used.store(0, Ordering::Relaxed);
            self.changed.store(true, Ordering::Relaxed);
        }
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
    }
}

/// What one owner of a quota has used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// "user NAME" or "device NAME".
    pub owner: String,
    /// The period counted ("2026-12-01", "week of 2026-11-30", "2026-12").
    pub period: String,
    /// Bytes up and down together in it.
    pub used: u64,
}

/// What the state file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    /// Owner ("user guest", "device tv") to its count.
    #[serde(default)]
    quota: BTreeMap<String, Saved>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    period: String,
    used: u64,
}

/// Every owner's meter, and where they are kept.
#[derive(Debug, Default)]
pub struct Quotas {
    meters: Mutex<HashMap<String, Arc<QuotaMeter>>>,
    /// Counts read from the file for owners not met yet.
    saved: Mutex<BTreeMap<String, Saved>>,
    file: Option<PathBuf>,
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
        Quotas { meters: Mutex::default(), saved: Mutex::new(saved), file: Some(file) }
    }

    /// Whether counts are kept across restarts.
    pub fn kept(&self) -> bool {
        self.file.is_some()
    }

    /// The meter of `owner`, counting `period` from `now`.
    pub fn meter(&self, owner: &str, period: Period, now: &jiff::ZonedDateTime) -> Arc<QuotaMeter> {
        let current = period_of(period, now);
        let mut meters = self.meters.lock().unwrap_or_else(PoisonError::into_inner);
        let meter = meters.entry(owner.to_owned()).or_insert_with(|| {
            let saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner).remove(owner);
            let used = saved.as_ref().filter(|s| s.period == current).map_or(0, |s| s.used);
            Arc::new(QuotaMeter {
                used: AtomicU64::new(used),
                period: Mutex::new(current.clone()),
                changed: AtomicBool::new(false),
            })
        });
        meter.roll(&current);
        Arc::clone(meter)
    }

    /// What each owner has used in the period it last counted, by owner
    /// ("user guest", "device tv"), whether met since the start or only
    /// read from the state file.
    pub fn usage(&self) -> Vec<QuotaUsage> {
        let meters = self.meters.lock().unwrap_or_else(PoisonError::into_inner);
        let mut usage: Vec<QuotaUsage> = meters
            .iter()
            .map(|(owner, meter)| QuotaUsage {
                owner: owner.clone(),
                period: meter.period.lock().unwrap_or_else(PoisonError::into_inner).clone(),
                used: meter.used(),
            })
            .collect();
        drop(meters);
        // Counts read from the file for owners not met since the start.
        let saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        usage.extend(saved.iter().map(|(owner, saved)| QuotaUsage {
            owner: owner.clone(),
            period: saved.period.clone(),
            used: saved.used,
        }));
        usage.sort_by(|a, b| a.owner.cmp(&b.owner));
        usage
    }

    /// Writes the counts if any changed since the last write.
    pub fn save_if_changed(&self) -> io::Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let mut state =
            StateFile { quota: self.saved.lock().unwrap_or_else(PoisonError::into_inner).clone() };
        let mut changed = false;
        for (owner, meter) in self.meters.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            changed |= meter.changed.swap(false, Ordering::Relaxed);
            let period = meter.period.lock().unwrap_or_else(PoisonError::into_inner).clone();
            state.quota.insert(owner.clone(), Saved { period, used: meter.used() });
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
            quotas.meter("user guest", Period::Day, &day).add(1234);
            quotas.meter("device tv", Period::Month, &day).add(99);
            quotas.save_if_changed().unwrap();
        }
        let quotas = Quotas::open(Some(&dir));
        assert_eq!(quotas.meter("user guest", Period::Day, &day).used(), 1234);
        assert_eq!(quotas.meter("device tv", Period::Month, &at("2026-12-30T10:00:00")).used(), 99);
        let tomorrow = at("2026-12-03T00:00:01");
        assert_eq!(quotas.meter("user guest", Period::Day, &tomorrow).used(), 0, "a new day");
        let usage = quotas.usage();
        assert_eq!(usage.len(), 2);
        assert_eq!(
            usage[1],
            QuotaUsage { owner: "user guest".into(), period: "2026-12-03".into(), used: 0 }
        );
        // A file that cannot be read is set aside, not overwritten.
        std::fs::write(dir.join(FILE), "not [toml").unwrap();
        let quotas = Quotas::open(Some(&dir));
        assert_eq!(quotas.meter("user guest", Period::Day, &day).used(), 0);
        assert!(dir.join("quota.toml.unreadable").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
