//! Access hours: `"Mon-Fri 16:00-20:00"`, `"Sat,Sun 09:00-21:00"`,
//! `"Fri 22:00-02:00"` (into the next morning), in local time.

use std::fmt;
use std::str::FromStr;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAY_MINUTES: u16 = 24 * 60;

/// One window of access hours on some days of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hours {
    /// Monday first.
    days: [bool; 7],
    /// Minutes after midnight.
    start: u16,
    /// Minutes after midnight, up to 24:00; at or before `start`, the
    /// window runs into the next day.
    end: u16,
}

/// A moment in local time, as access hours see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMoment {
    /// 0 for Monday to 6 for Sunday.
    pub weekday: u8,
    /// Minutes after midnight.
    pub minute: u16,
}

impl LocalMoment {
    /// Now, in the system's time zone (`TZ` where it is set).
    pub fn now() -> LocalMoment {
        LocalMoment::of(&jiff::ZonedDateTime::now())
    }

    /// The moment of `time`.
    pub fn of(time: &jiff::ZonedDateTime) -> LocalMoment {
        LocalMoment {
            weekday: time.weekday().to_monday_zero_offset() as u8,
            minute: time.hour() as u16 * 60 + time.minute() as u16,
        }
    }
}

impl Hours {
    /// Whether `moment` is inside the window.
    pub fn contains(&self, moment: LocalMoment) -> bool {
        let day = usize::from(moment.weekday % 7);
        let yesterday = (day + 6) % 7;
        if self.start < self.end {
            self.days[day] && (self.start..self.end).contains(&moment.minute)
        } else {
            (self.days[day] && moment.minute >= self.start)
                || (self.days[yesterday] && moment.minute < self.end)
        }
    }
}

fn parse_day(text: &str) -> Result<usize, String> {
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| format!("{text:?} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"))
}

fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (parse_day(first)?, parse_day(last)?);
                let mut day = first;
                loop {
                    days[day] = true;
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days[parse_day(part)?] = true,
        }
    }
    Ok(days)
}

fn parse_time(text: &str, end: bool) -> Result<u16, String> {
    let bad = || format!("{text:?} is not a time (HH:MM)");
    let (hours, minutes) = text.trim().split_once(':').ok_or_else(bad)?;
    // Digits only (u16's parser would take "+5"), and few enough that the
    // arithmetic below cannot overflow.
    let digits =
        |part: &str| (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) || minutes.len() != 2 {
        return Err(bad());
    }
    let (hours, minutes): (u16, u16) =
        (hours.parse().map_err(|_| bad())?, minutes.parse().map_err(|_| bad())?);
    let total = hours * 60 + minutes;
    if minutes >= 60 || total > DAY_MINUTES || (total == DAY_MINUTES && !end) {
        return Err(bad());
    }
    Ok(total)
}

impl FromStr for Hours {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (days, times) = text.trim().split_once(' ').ok_or_else(|| {
            format!("{text:?} is not DAYS HH:MM-HH:MM (such as \"Mon-Fri 16:00-20:00\")")
        })?;
        let (start, end) =
            times.split_once('-').ok_or_else(|| format!("{times:?} is not HH:MM-HH:MM"))?;
        let (start, end) = (parse_time(start, false)?, parse_time(end, true)?);
        if start == end {
            return Err(format!("{times:?} is an empty window"));
        }
        Ok(Hours { days: parse_days(days)?, start, end })
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut day = 0;
        while day < 7 {
            if !self.days[day] {
                day += 1;
                continue;
            }
            let mut last = day;
            while last + 1 < 7 && self.days[last + 1] {
                last += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            match last - day {
                0 => f.write_str(DAYS[day])?,
                _ => write!(f, "{}-{}", DAYS[day], DAYS[last])?,
            }
            day = last + 1;
        }
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, " {}-{}", hm(self.start), hm(self.end))
    }
}

super::units::text_serde!(Hours);

#[cfg(test)]
mod tests {
    use super::*;

    fn at(weekday: u8, time: &str) -> LocalMoment {
        LocalMoment { weekday, minute: parse_time(time, false).unwrap() }
    }

    #[test]
    fn windows_hold_on_their_days_and_hours() {
        let weekdays: Hours = "Mon-Fri 16:00-20:00".parse().unwrap();
        assert!(weekdays.contains(at(0, "16:00")));
        assert!(weekdays.contains(at(4, "19:59")));
        assert!(!weekdays.contains(at(4, "20:00")), "the end is outside");
        assert!(!weekdays.contains(at(2, "15:59")));
        assert!(!weekdays.contains(at(5, "17:00")), "Saturday");
        let weekend: Hours = "Sat,Sun 09:00-21:00".parse().unwrap();
        assert!(weekend.contains(at(6, "09:00")) && !weekend.contains(at(0, "10:00")));
        let all_day: Hours = "Mon-Sun 00:00-24:00".parse().unwrap();
        assert!(all_day.contains(at(3, "23:59")) && all_day.contains(at(3, "00:00")));
    }

    #[test]
    fn a_window_can_run_past_midnight_and_days_can_wrap() {
        let late: Hours = "Fri 22:00-02:00".parse().unwrap();
        assert!(late.contains(at(4, "23:30")));
        assert!(late.contains(at(5, "01:59")), "Saturday morning is Friday's night");
        assert!(!late.contains(at(5, "02:00")));
        assert!(!late.contains(at(4, "01:00")), "Friday morning is Thursday's night");
        let wrap: Hours = "Sat-Mon 10:00-11:00".parse().unwrap();
        assert!(wrap.contains(at(0, "10:30")) && wrap.contains(at(6, "10:30")));
        assert!(!wrap.contains(at(1, "10:30")));
    }

    #[test]
    fn bad_windows_are_named() {
        for bad in [
            "",
            "Mon-Fri",
            "Mon-Fri 16:00",
            "Someday 10:00-11:00",
            "Mon 25:00-26:00",
            "Mon 10:00-10:00",
            "Mon 10:0-11:00",
            "Mon 24:00-01:00",
            "Mon 1093:00-20:00",
            "Mon 10:+5-11:00",
            "Mon +1:00-02:00",
        ] {
            assert!(bad.parse::<Hours>().is_err(), "{bad}");
        }
        assert!("Someday 10:00-11:00".parse::<Hours>().unwrap_err().contains("Someday"));
    }

    #[test]
    fn windows_write_back_as_they_read() {
        for text in [
            "Mon-Fri 16:00-20:00",
            "Sat-Sun 09:00-21:00",
            "Mon,Wed,Fri 22:00-02:00",
            "Mon-Sun 00:00-24:00",
        ] {
            assert_eq!(text.parse::<Hours>().unwrap().to_string(), text);
        }
    }
}
