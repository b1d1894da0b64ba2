//! Rates and quotas as people write them: `"2 MB/s"`, `"512 KiB/s"`,
//! `"10 Mbit/s"`, `"5 GB/day"`, `"100 GiB/month"`, `"10 GB/total"` (a
//! budget that never starts again, as a guest pass has).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A byte count with its unit: B, kB/KB, MB, GB, TB (powers of 1000),
/// KiB, MiB, GiB, TiB (powers of 1024), or kbit, Mbit, Gbit (bits).
fn parse_amount(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 =
        number.parse().map_err(|_| format!("{text:?} does not start with a number"))?;
    let factor: f64 = match unit.trim() {
        "B" | "" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "kbit" | "Kbit" => 1e3 / 8.0,
        "Mbit" => 1e6 / 8.0,
        "Gbit" => 1e9 / 8.0,
        other => {
            return Err(format!(
                "{other:?} is not a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, kbit, Mbit, Gbit)"
            ))
        }
    };
    let bytes = number * factor;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is not a positive amount"));
    }
    Ok(bytes.round() as u64)
}

/// Writes a byte count in the largest decimal unit that keeps it exact.
fn write_amount(f: &mut fmt::Formatter<'_>, bytes: u64) -> fmt::Result {
    for (factor, unit) in
        [(1_000_000_000_000, "TB"), (1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")]
    {
        if bytes % factor == 0 {
            return write!(f, "{} {unit}", bytes / factor);
        }
    }
    write!(f, "{bytes} B")
}

/// Bytes per second, each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate(pub u64);

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let amount = text
            .trim()
            .strip_suffix("/s")
            .ok_or_else(|| format!("{text:?} is not a rate (such as \"2 MB/s\")"))?;
        parse_amount(amount).map(Rate)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_amount(f, self.0)?;
        f.write_str("/s")
    }
}

/// The calendar period a quota counts over, in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// From midnight to midnight.
    Day,
    /// From Monday's midnight.
    Week,
    /// From the first of the month.
    Month,
    /// Never starts again: a budget for the owner's whole life.
    Total,
}

impl Period {
    /// "day", "week" or "month".
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Total => "total",
        }
    }
}

/// Bytes, up and down together, per calendar period (or in all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// The bytes allowed in one period.
    pub bytes: u64,
    /// The period.
    pub period: Period,
}

impl FromStr for Quota {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (amount, period) = text
            .rsplit_once('/')
            .ok_or_else(|| format!("{text:?} is not a quota (such as \"5 GB/day\")"))?;
        let period = match period.trim() {
            "day" => Period::Day,
            "week" => Period::Week,
            "month" => Period::Month,
            "total" => Period::Total,
            other => return Err(format!("{other:?} is not a period (day, week, month or total)")),
        };
        Ok(Quota { bytes: parse_amount(amount)?, period })
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_amount(f, self.bytes)?;
        write!(f, "/{}", self.period.as_str())
    }
}

macro_rules! text_serde {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_serde!(Rate);
text_serde!(Quota);
pub(crate) use text_serde;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_in_every_unit() {
        let rate = |s: &str| s.parse::<Rate>().map(|r| r.0);
        assert_eq!(rate("50 MB/s"), Ok(50_000_000));
        assert_eq!(rate("2MB/s"), Ok(2_000_000));
        assert_eq!(rate("1.5 MB/s"), Ok(1_500_000));
        assert_eq!(rate("512 KiB/s"), Ok(524_288));
        assert_eq!(rate("10 Mbit/s"), Ok(1_250_000));
        assert_eq!(rate("800 B/s"), Ok(800));
        for bad in ["50 MB", "fast/s", "0 MB/s", "-1 MB/s", "5 parsecs/s", "1e400 B/s", ""] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        assert!("5 parsecs/s".parse::<Rate>().unwrap_err().contains("parsecs"));
    }

    #[test]
    fn quotas_read_with_their_period() {
        let quota: Quota = "5 GB/day".parse().unwrap();
        assert_eq!(quota, Quota { bytes: 5_000_000_000, period: Period::Day });
        assert_eq!("100 GiB/month".parse::<Quota>().unwrap().period, Period::Month);
        assert_eq!("1 TB/week".parse::<Quota>().unwrap().bytes, 1_000_000_000_000);
        assert_eq!("10 GB/total".parse::<Quota>().unwrap().period, Period::Total);
        assert!("5 GB/year".parse::<Quota>().unwrap_err().contains("year"));
        assert!("5 GB".parse::<Quota>().is_err());
    }

    #[test]
    fn they_write_back_as_they_read() {
        for text in ["50 MB/s", "800 B/s", "1500 KB/s"] {
            assert_eq!(text.parse::<Rate>().unwrap().to_string(), text);
        }
        assert_eq!("5 GB/day".parse::<Quota>().unwrap().to_string(), "5 GB/day");
        assert_eq!("10 GB/total".parse::<Quota>().unwrap().to_string(), "10 GB/total");
        let odd: Rate = "512 KiB/s".parse().unwrap();
        assert_eq!(odd.to_string().parse::<Rate>().unwrap(), odd);
    }
}
