//! How figures are written for people, in the tray and the notifications:
//! sizes and rates in decimal units (kB = 1000 B, as the window's
//! `ui/src/format.ts` writes them, with tests for the same cases), counts
//! with their noun, and times as the window reads them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::i18n::{self, Lang};

/// A size in decimal units, in the language in force: "0 B", "950 B",
/// "1.2 kB", "34 MB" ("1,2 МБ" in Russian).
pub fn format_bytes(bytes: u64) -> String {
    size_text(i18n::lang(), bytes, false)
}

/// A quota or a budget, as a size without a needless ".0": "5 GB", "1.5 GB",
/// "500 MB" (the window's `formatAmount` writes the same).
pub fn format_amount(bytes: u64) -> String {
    size_text(i18n::lang(), bytes, true)
}

/// A size per second: "2 MB/s" ("2 МБ/с").
pub fn format_rate(bytes_per_second: u64) -> String {
    i18n::t("format.rate", &[("size", format_bytes(bytes_per_second).as_str().into())])
}

fn size_text(lang: Lang, bytes: u64, drop_tenth: bool) -> String {
    const UNITS: [&str; 5] = ["format.kB", "format.MB", "format.GB", "format.TB", "format.PB"];
    let (value, unit) = if bytes < 1000 {
        (bytes.to_string(), "format.B")
    } else {
        let mut value = bytes as f64 / 1000.0;
        let mut unit = 0;
        while value >= 999.5 && unit + 1 < UNITS.len() {
            value /= 1000.0;
            unit += 1;
        }
        let mut text = if value < 9.95 { format!("{value:.1}") } else { format!("{value:.0}") };
        if drop_tenth {
            if let Some(whole) = text.strip_suffix(".0") {
                text = whole.to_owned();
            }
        }
        (text.replace('.', &lang.decimal_sign().to_string()), UNITS[unit])
    };
    let unit = unit_text(lang, unit);
    i18n::t_in(
        lang,
        "format.size",
        &[("value", value.as_str().into()), ("unit", unit.as_str().into())],
    )
}

/// A unit's word ("kB", "кБ"), by its catalogue key.
fn unit_text(lang: Lang, key: &str) -> String {
    match key {
        "format.B" => i18n::t_in(lang, "format.B", &[]),
        "format.kB" => i18n::t_in(lang, "format.kB", &[]),
        "format.MB" => i18n::t_in(lang, "format.MB", &[]),
        "format.GB" => i18n::t_in(lang, "format.GB", &[]),
        "format.TB" => i18n::t_in(lang, "format.TB", &[]),
        _ => i18n::t_in(lang, "format.PB", &[]),
    }
}

/// "1 connection", "3 connections" ("22 соединения").
pub fn connections(count: u64) -> String {
    i18n::t("format.connections", &[("count", count.into())])
}

/// The bytes-per-second rate of a counter that went from `before` to
/// `after` in `elapsed`; 0 when no time passed or the counter went back.
pub fn rate(before: u64, after: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return 0;
    }
    (after.saturating_sub(before) as f64 / seconds).round() as u64
}

/// Milliseconds since the Unix epoch, as the window's clocks count.
pub fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_decimal_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1_000), "1.0 kB");
        assert_eq!(format_bytes(1_260), "1.3 kB");
        assert_eq!(format_bytes(34_000_000), "34 MB");
        assert_eq!(format_bytes(999_999), "1.0 MB");
        assert_eq!(format_bytes(5_000_000_000_000_000_000), "5000 PB");
    }

    #[test]
    fn amounts_drop_a_needless_tenth() {
        assert_eq!(format_amount(5_000_000_000), "5 GB");
        assert_eq!(format_amount(1_500_000_000), "1.5 GB");
        assert_eq!(format_amount(500_000_000), "500 MB");
        assert_eq!(format_amount(1_000), "1 kB");
        assert_eq!(format_amount(999), "999 B");
        assert_eq!(format_amount(10_000_000_000), "10 GB");
    }

    #[test]
    fn rates_divide_by_the_real_interval() {
        assert_eq!(rate(0, 3_000, Duration::from_millis(1_500)), 2_000);
        assert_eq!(rate(100, 100, Duration::from_secs(1)), 0);
        assert_eq!(rate(500, 100, Duration::from_secs(1)), 0, "a counter never goes back");
        assert_eq!(rate(0, 100, Duration::ZERO), 0);
    }

    #[test]
    fn counts_take_their_noun() {
        assert_eq!(connections(1), "1 connection");
        assert_eq!(connections(0), "0 connections");
        assert_eq!(connections(12), "12 connections");
    }

    #[test]
    fn russian_sizes_take_a_comma_and_their_units() {
        assert_eq!(size_text(Lang::Ru, 1_260, false), "1,3 кБ");
        assert_eq!(size_text(Lang::Ru, 999, false), "999 Б");
        assert_eq!(size_text(Lang::Ru, 5_000_000_000, true), "5 ГБ");
        assert_eq!(size_text(Lang::Ru, 1_500_000_000, true), "1,5 ГБ");
        assert_eq!(size_text(Lang::ZhCn, 1_500_000_000, true), "1.5 GB");
        assert_eq!(format_rate(2_000_000), "2.0 MB/s");
    }

    #[test]
    fn epoch_milliseconds() {
        assert_eq!(epoch_ms(UNIX_EPOCH + Duration::from_millis(1_234)), 1_234);
        assert_eq!(epoch_ms(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
