//! Logs: `tracing` to stderr and to files in the app's data folder, and the
//! tail of those files for the window's logs view.
//!
//! The files are one a day, `socksbox.YYYY-MM-DD.log` (UTC dates), and a day
//! that reaches [`LIMITS`]`.file` goes on in `socksbox.YYYY-MM-DD.1.log`,
//! `.2.log` and so on. Each time a file is opened the oldest files are
//! removed until the folder would hold at most `LIMITS.total` with the new
//! file full, and so do the files of days before the last `LIMITS.days`. A
//! client that makes the server log without end (a hostile LAN) fills
//! 50 MiB at most. The folder is 0700 and the files 0600 (see `private`).
//!
//! The view reads the newest files from their end, [`SCAN_LIMIT`] bytes at
//! most, so a large file costs it no more than a small one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::private;

/// How many lines the logs view gets at most.
const VIEW_LINES: usize = 500;
/// The most the view reads, from the end of the newest files: 500 lines are
/// some 100 kB; the rest is room for a level that is rare among them.
const SCAN_LIMIT: u64 = 4 * 1024 * 1024;
/// The files are read from the end in pieces of this size.
const CHUNK: usize = 64 * 1024;
/// A longer line is none of ours (a file damaged, or not a log): skipped.
const MAX_LINE: usize = 64 * 1024;

const PREFIX: &str = "socksbox.";
const SUFFIX: &str = ".log";

/// How much the log folder may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one file; a longer record is cut to fit.
    pub file: u64,
    /// Bytes in all the files, the one being written counted as full.
    pub total: u64,
    /// Days kept, today included.
    pub days: usize,
}

/// The app's limits: 10 MiB a file, 50 MiB in all, a week.
pub const LIMITS: Limits = Limits { file: 10 * 1024 * 1024, total: 50 * 1024 * 1024, days: 7 };

/// Sets up logging into `dir`; the guard must live as long as the app, or
/// the last lines are lost.
pub fn init(dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer().with_writer(io::stderr);
    match LogFiles::open(dir, LIMITS) {
        Ok(files) => {
            let (writer, guard) = tracing_appender::non_blocking(files);
            let file_layer = fmt::layer().with_ansi(false).with_writer(writer);
            tracing_subscriber::registry().with(filter).with(stderr).with(file_layer).init();
            Some(guard)
        }
        Err(e) => {
            tracing_subscriber::registry().with(filter).with(stderr).init();
            tracing::warn!("cannot write log files in {}: {e}", dir.display());
            None
        }
    }
}

/// A log file's place in the order: its day, then its number in the day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LogName {
    /// `YYYY-MM-DD`.
    day: String,
    index: u32,
}

impl LogName {
    fn parse(file_name: &str) -> Option<LogName> {
        let rest = file_name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let (day, index) = match rest.split_once('.') {
            Some((day, index)) if index.bytes().all(|b| b.is_ascii_digit()) => {
                (day, index.parse().ok()?)
            }
            Some(_) => return None,
            None => (rest, 0),
        };
        let b = day.as_bytes();
        let date_like = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        date_like.then(|| LogName { day: day.to_owned(), index })
    }

    fn file_name(&self) -> String {
        match self.index {
            0 => format!("{PREFIX}{}{SUFFIX}", self.day),
            n => format!("{PREFIX}{}.{n}{SUFFIX}", self.day),
        }
    }
}

struct LogFile {
    name: LogName,
    path: PathBuf,
    size: u64,
}

/// The log files in `dir`, oldest first. Other files are not listed.
fn log_files(dir: &Path) -> Vec<LogFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<LogFile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = LogName::parse(entry.file_name().to_str()?)?;
            let meta = entry.metadata().ok().filter(std::fs::Metadata::is_file)?;
            Some(LogFile { name, path: entry.path(), size: meta.len() })
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// The UTC date of `t` as `YYYY-MM-DD`.
fn utc_day(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        // Before 1970: whole seconds rounded down.
        Err(e) => -(e.duration().as_secs() as i64) - i64::from(e.duration().subsec_nanos() > 0),
    };
    // Howard Hinnant's civil_from_days.
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The file being written.
struct Current {
    name: LogName,
    file: File,
    size: u64,
}

/// The writer behind the log files: daily files, each at most
/// `limits.file`, the folder at most `limits.total` (see the module).
pub struct LogFiles {
    dir: PathBuf,
    limits: Limits,
    clock: Box<dyn Fn() -> SystemTime + Send>,
    current: Option<Current>,
}

impl LogFiles {
    /// Opens today's file in `dir` (made 0700 if missing), going on with
    /// the day's last file unless it is full.
    pub fn open(dir: &Path, limits: Limits) -> io::Result<LogFiles> {
        LogFiles::with_clock(dir, limits, Box::new(SystemTime::now))
    }

    fn with_clock(
        dir: &Path,
        limits: Limits,
        clock: Box<dyn Fn() -> SystemTime + Send>,
    ) -> io::Result<LogFiles> {
        private::create_dir(dir)?;
        // Files an older version left readable to others.
        for file in log_files(dir) {
            private::restrict_path(&file.path)?;
        }
        let mut files = LogFiles { dir: dir.to_owned(), limits, clock, current: None };
        let day = utc_day((files.clock)());
        files.roll(day, 0)?;
        Ok(files)
    }

    /// Opens the file to write `day`'s lines in: the day's last file, or a
    /// later one when that is full or numbered below `at_least`; then
    /// removes what the limits no longer leave room for.
    fn roll(&mut self, day: String, at_least: u32) -> io::Result<()> {
        self.current = None;
        let last = log_files(&self.dir).into_iter().rfind(|f| f.name.day == day);
        let index = match last {
            Some(last) if last.name.index >= at_least && last.size >= self.limits.file => {
                last.name.index.saturating_add(1)
            }
            Some(last) if last.name.index >= at_least => last.name.index,
            _ => at_least,
        };
        let name = LogName { day, index };
        let file =
            private::options().create(true).append(true).open(self.dir.join(name.file_name()))?;
        private::restrict(&file)?;
        let size = file.metadata()?.len();
        self.current = Some(Current { name, file, size });
        self.prune();
        Ok(())
    }

    /// Removes the oldest files until the others and a full current file
    /// fit in `limits.total`, and every file of a day before the last
    /// `limits.days`.
    fn prune(&self) {
        let Some(current) = &self.current else {
            return;
        };
        let others: Vec<LogFile> =
            log_files(&self.dir).into_iter().filter(|f| f.name != current.name).collect();
        let mut days: Vec<&str> = others
            .iter()
            .map(|f| f.name.day.as_str())
            .filter(|day| *day < current.name.day.as_str())
            .collect();
        days.dedup();
        let old_days = &days[..days.len().saturating_sub(self.limits.days.saturating_sub(1))];
        let mut total = others.iter().map(|f| f.size).sum::<u64>() + self.limits.file;
        for file in &others {
            if total > self.limits.total || old_days.contains(&file.name.day.as_str()) {
                match std::fs::remove_file(&file.path) {
                    Ok(()) => total -= file.size,
                    Err(e) => eprintln!("cannot remove the old log {}: {e}", file.path.display()),
                }
            }
        }
    }
}

impl Write for LogFiles {
    /// Writes one record (the non-blocking writer hands over one event per
    /// call), in a new file when it would not fit in this one.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let day = utc_day((self.clock)());
        let len = buf.len() as u64;
        let roll = match &self.current {
            None => Some(0),
            Some(c) if c.name.day != day => Some(0),
            Some(c) if c.size > 0 && c.size + len > self.limits.file => Some(c.name.index + 1),
            Some(_) => None,
        };
        if let Some(at_least) = roll {
            self.roll(day, at_least)?;
        }
        let Some(current) = self.current.as_mut() else {
            return Err(io::Error::other("no log file is open"));
        };
        if len <= self.limits.file {
            current.file.write_all(buf)?;
            current.size += len;
        } else {
            // Longer than a whole file: cut, and still one line.
            let keep = usize::try_from(self.limits.file.saturating_sub(1)).unwrap_or(usize::MAX);
            current.file.write_all(&buf[..keep])?;
            current.file.write_all(b"\n")?;
            current.size += keep as u64 + 1;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.current.as_mut().map_or(Ok(()), |c| c.file.flush())
    }
}

/// The last lines of the log files at `level` or more severe, oldest first.
pub fn tail(dir: &Path, level: &str) -> Vec<String> {
    let tail = read_tail(dir, level);
    tracing::debug!(lines = tail.lines.len(), bytes = tail.bytes_read, "logs read for the view");
    tail.lines
}

/// What the view was sent, and how many bytes reading it took.
struct Tail {
    lines: Vec<String>,
    bytes_read: u64,
}

fn read_tail(dir: &Path, level: &str) -> Tail {
    let wanted = severity(level);
    let keep = |line: &str| line_severity(line).is_some_and(|s| s <= wanted);
    let mut budget = SCAN_LIMIT;
    let mut newest_first = Vec::new();
    let mut bytes_read = 0;
    for file in log_files(dir).iter().rev() {
        if newest_first.len() >= VIEW_LINES || budget == 0 {
            break;
        }
        let Ok(opened) = File::open(&file.path) else {
            continue;
        };
        let mut reader = Counting { inner: opened, read: 0 };
        let more = VIEW_LINES - newest_first.len();
        if let Err(e) = lines_from_end(&mut reader, &keep, more, &mut budget, &mut newest_first) {
            tracing::debug!("reading {}: {e}", file.path.display());
        }
        bytes_read += reader.read;
    }
    newest_first.reverse();
    Tail { lines: newest_first, bytes_read }
}

/// Reads `reader` backwards from its end, pushing onto `out` (newest first)
/// up to `max` lines that `keep` accepts, and reading at most `budget`
/// bytes (less what it read).
fn lines_from_end<R: Read + Seek>(
    reader: &mut R,
    keep: &impl Fn(&str) -> bool,
    max: usize,
    budget: &mut u64,
    out: &mut Vec<String>,
) -> io::Result<()> {
    let goal = out.len() + max;
    let mut pos = reader.seek(SeekFrom::End(0))?;
    // The bytes after `pos` not taken as a line yet: the end of a line
    // that starts further back.
    let mut partial: Vec<u8> = Vec::new();
    // The line `partial` belongs to is longer than MAX_LINE: skip it.
    let mut overlong = false;
    let mut chunk = vec![0u8; CHUNK];
    let take = |bytes: &[u8], out: &mut Vec<String>| {
        if let Ok(line) = std::str::from_utf8(bytes) {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if keep(line) {
                out.push(line.to_owned());
            }
        }
    };
    while pos > 0 && out.len() < goal && *budget > 0 {
        let n = (CHUNK as u64).min(pos).min(*budget);
        pos -= n;
        *budget -= n;
        let piece = &mut chunk[..n as usize];
        reader.seek(SeekFrom::Start(pos))?;
        reader.read_exact(piece)?;
        let mut end = piece.len();
        while let Some(newline) = piece[..end].iter().rposition(|b| *b == b'\n') {
            if overlong {
                overlong = false;
            } else {
                let mut line = piece[newline + 1..end].to_vec();
                line.extend_from_slice(&partial);
                take(&line, out);
            }
            partial.clear();
            end = newline;
            if out.len() >= goal {
                return Ok(());
            }
        }
        if !overlong {
            let mut longer = piece[..end].to_vec();
            longer.extend_from_slice(&partial);
            partial = longer;
            if partial.len() > MAX_LINE {
                partial.clear();
                overlong = true;
            }
        }
    }
    if pos == 0 && !overlong && !partial.is_empty() && out.len() < goal {
        take(&partial, out);
    }
    Ok(())
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn severity(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "error" => 0,
        "warn" => 1,
        "info" => 2,
        "debug" => 3,
        _ => 4,
    }
}

fn line_severity(line: &str) -> Option<u8> {
    let level = line.split_whitespace().nth(1)?;
    ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].iter().position(|l| *l == level).map(|p| p as u8)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn line(i: usize) -> String {
        let level = ["ERROR", "INFO", "DEBUG"][i % 3];
        format!("2026-11-25T10:00:00.000000Z {level:>5} socksbox::server: line {i}\n")
    }

    #[test]
    fn tail_filters_by_level() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("socksbox.2026-11-25.log"),
            "2026-11-25T10:00:00Z  INFO a: started\n2026-11-25T10:00:01Z ERROR a: broke\n\
             2026-11-25T10:00:02Z DEBUG a: detail\n2026-11-25T10:00:03Z  WARN a: careful\n",
        )
        .unwrap();
        assert_eq!(tail(dir.path(), "error").len(), 1);
        assert_eq!(tail(dir.path(), "warn").len(), 2);
        assert_eq!(tail(dir.path(), "info").len(), 3);
        assert_eq!(tail(dir.path(), "debug").len(), 4);
        assert!(tail(dir.path(), "info")[0].ends_with("started"));
    }

    /// A 200 MB file: 200 MB less 3,000 lines of nothing (sparse), then
    /// the lines. The last 500 at a level come from its last few hundred
    /// kilobytes, and only those are read.
    #[test]
    fn the_tail_of_a_200_mb_file_reads_only_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..3000).map(line).collect();
        let size = 200_000_000;
        let mut file = File::create(dir.path().join("socksbox.2026-11-25.log")).unwrap();
        file.set_len(size - text.len() as u64).unwrap();
        file.seek(SeekFrom::End(0)).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        assert_eq!(file.metadata().unwrap().len(), size);

        // ERROR is every third line: the last 500 span 1,500 lines.
        let errors = read_tail(dir.path(), "error");
        assert_eq!(errors.lines.len(), 500);
        assert!(errors.lines[0].ends_with("line 1500"), "{}", errors.lines[0]);
        assert!(errors.lines[499].ends_with("line 2997"), "{}", errors.lines[499]);
        assert!(errors.lines.iter().all(|l| l.contains("ERROR")));
        let needed: u64 = (1500..3000).map(|i| line(i).len() as u64).sum();
        assert!(
            errors.bytes_read <= needed + CHUNK as u64,
            "read {} bytes of a 200 MB file for 500 lines in {needed} bytes",
            errors.bytes_read
        );
        eprintln!("error: {} bytes read of {size}", errors.bytes_read);

        let all = read_tail(dir.path(), "debug");
        assert_eq!(all.lines.len(), 500);
        assert!(all.lines[499].ends_with("line 2999"));
        assert!(all.lines[0].ends_with("line 2500"));
        assert!(all.bytes_read <= CHUNK as u64, "read {} bytes", all.bytes_read);
        eprintln!("debug: {} bytes read of {size}", all.bytes_read);
    }

    /// A level that never occurs: the scan stops at its limit, whatever
    /// the size of the file.
    #[test]
    fn a_level_absent_from_a_200_mb_file_reads_only_the_scan_limit() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (0..3000).map(|i| line(i * 3 + 1)).collect();
        let file = File::create(dir.path().join("socksbox.2026-11-25.log")).unwrap();
        file.set_len(200_000_000 - text.len() as u64).unwrap();
        (&file).seek(SeekFrom::End(0)).unwrap();
        (&file).write_all(text.as_bytes()).unwrap();
        let none = read_tail(dir.path(), "error");
        assert!(none.lines.is_empty());
        assert_eq!(none.bytes_read, SCAN_LIMIT);
    }

    #[test]
    fn the_tail_goes_on_into_older_files_and_skips_others() {
        let dir = tempfile::tempdir().unwrap();
        let older: String = (0..600).map(line).collect();
        std::fs::write(dir.path().join("socksbox.2026-11-24.log"), older).unwrap();
        let newer: String = (600..606).map(line).collect();
        std::fs::write(dir.path().join("socksbox.2026-11-25.1.log"), newer).unwrap();
        std::fs::write(
            dir.path().join("socksbox.2026-11-25.log"),
            "2026-11-25T00:00:00Z  INFO a: first of the day\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), line(7)).unwrap();
        let lines = tail(dir.path(), "debug");
        assert_eq!(lines.len(), 500);
        assert!(lines[499].ends_with("line 605"));
        assert!(lines[494].ends_with("line 600"));
        assert!(lines[493].ends_with("first of the day"), "the day's first file before its second");
        assert!(lines[492].ends_with("line 599"), "the day before");
        assert!(lines[0].ends_with("line 107"));
    }

    #[test]
    fn an_overlong_or_unfinished_line_is_not_shown_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = line(0);
        text.push_str(&format!("2026-11-25T10:00:00Z ERROR {}\n", "x".repeat(MAX_LINE * 3)));
        text.push_str(&line(3));
        text.push_str("2026-11-25T10:00:00Z ERROR unfinished");
        std::fs::write(dir.path().join("socksbox.2026-11-25.log"), text).unwrap();
        let lines = tail(dir.path(), "error");
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].ends_with("line 0"));
        assert!(lines[1].ends_with("line 3"));
        assert!(lines[2].ends_with("unfinished"));
    }

    #[test]
    fn utc_days() {
        let at = |secs: u64| utc_day(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01");
        assert_eq!(at(951_782_400), "2000-02-29");
        assert_eq!(at(1_700_000_000), "2023-11-14");
        assert_eq!(at(1_704_067_199), "2023-12-31");
        assert_eq!(at(1_704_067_200), "2024-01-01");
        assert_eq!(utc_day(UNIX_EPOCH - Duration::from_secs(1)), "1969-12-31");
    }

    #[test]
    fn names_parse_in_order() {
        let name = |s: &str| LogName::parse(s);
        assert_eq!(name("socksbox.2026-11-25.log").unwrap().index, 0);
        assert_eq!(name("socksbox.2026-11-25.12.log").unwrap().index, 12);
        assert!(name("socksbox.2026-11-25.log.tmp").is_none());
        assert!(name("socksbox.2026-1-25.log").is_none());
        assert!(name("socksbox.2026-11-25.x.log").is_none());
        assert!(name("settings.json").is_none());
        assert!(name("socksbox.2026-11-25.2.log") < name("socksbox.2026-11-25.10.log"));
        assert!(name("socksbox.2026-11-25.10.log") < name("socksbox.2026-11-26.log"));
        let n = LogName { day: "2026-11-25".into(), index: 3 };
        assert_eq!(name(&n.file_name()), Some(n));
    }

    fn fixed_clock(secs: &Arc<AtomicU64>) -> Box<dyn Fn() -> SystemTime + Send> {
        let secs = Arc::clone(secs);
        Box::new(move || UNIX_EPOCH + Duration::from_secs(secs.load(Ordering::SeqCst)))
    }

    fn sizes(dir: &Path) -> Vec<(String, u64)> {
        log_files(dir).into_iter().map(|f| (f.name.file_name(), f.size)).collect()
    }

    #[test]
    fn writing_past_the_caps_removes_the_oldest_files() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits { file: 1_000, total: 3_500, days: 7 };
        let now = Arc::new(AtomicU64::new(1_700_000_000));
        let mut files = LogFiles::with_clock(dir.path(), limits, fixed_clock(&now)).unwrap();
        for i in 0..100 {
            // 100 bytes a record: ten to a file.
            files.write_all(format!("{i:099}\n").as_bytes()).unwrap();
        }
        let kept = sizes(dir.path());
        assert!(kept.iter().all(|(_, size)| *size <= limits.file), "{kept:?}");
        let total: u64 = kept.iter().map(|(_, size)| size).sum();
        assert!(total <= limits.total, "{total} bytes: {kept:?}");
        let names: Vec<&str> = kept.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["socksbox.2023-11-14.7.log", "socksbox.2023-11-14.8.log", "socksbox.2023-11-14.9.log"],
            "the newest, oldest gone first"
        );
        let newest = std::fs::read_to_string(dir.path().join(names[2])).unwrap();
        assert!(newest.ends_with(&format!("{:099}\n", 99)));

        // One record longer than a file is cut to one file's worth.
        files.write_all(&[b'y'; 5_000]).unwrap();
        let last = log_files(dir.path()).pop().unwrap();
        assert_eq!(last.size, limits.file);
        assert_eq!(last.name.index, 10);
    }

    #[test]
    fn the_app_limits_hold_after_64_mib() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = LogFiles::open(dir.path(), LIMITS).unwrap();
        let record = [b'z'; 4096];
        for _ in 0..(64 * MIB / 4096) {
            files.write_all(&record).unwrap();
        }
        let kept = sizes(dir.path());
        let total: u64 = kept.iter().map(|(_, size)| size).sum();
        eprintln!("after 64 MiB: {kept:?}, {total} bytes in all");
        assert!(kept.iter().all(|(_, size)| *size <= LIMITS.file), "{kept:?}");
        assert!(total <= LIMITS.total, "{total} bytes");
        assert!(total >= LIMITS.total - LIMITS.file, "no more was removed than needed: {total}");
    }

    #[test]
    fn a_new_day_starts_a_file_and_a_week_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits { file: 1_000, total: 1_000_000, days: 7 };
        let now = Arc::new(AtomicU64::new(1_700_000_000));
        let mut files = LogFiles::with_clock(dir.path(), limits, fixed_clock(&now)).unwrap();
        for _ in 0..10 {
            files.write_all(b"a line\n").unwrap();
            now.fetch_add(86_400, Ordering::SeqCst);
        }
        let names: Vec<String> = sizes(dir.path()).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names.len(), 7, "{names:?}");
        assert_eq!(names[0], "socksbox.2023-11-17.log");
        assert_eq!(names[6], "socksbox.2023-11-23.log");
    }

    #[test]
    fn a_restart_goes_on_with_the_days_last_file_unless_full() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits { file: 100, total: 10_000, days: 7 };
        let now = Arc::new(AtomicU64::new(1_700_000_000));
        let open = || LogFiles::with_clock(dir.path(), limits, fixed_clock(&now)).unwrap();
        open().write_all(b"first\n").unwrap();
        open().write_all(b"second\n").unwrap();
        let first = dir.path().join("socksbox.2023-11-14.log");
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "first\nsecond\n");
        std::fs::write(&first, [b'x'; 100]).unwrap();
        open().write_all(b"third\n").unwrap();
        let next = dir.path().join("socksbox.2023-11-14.1.log");
        assert_eq!(std::fs::read_to_string(next).unwrap(), "third\n");
    }

    #[cfg(unix)]
    #[test]
    fn the_folder_and_files_are_the_users_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("socksbox").join("logs");
        std::fs::create_dir_all(&dir).unwrap();
        // As an older version left them: 0755 and 0644.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = dir.join("socksbox.2020-01-01.log");
        std::fs::write(&old, "old\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();

        let limits = Limits { file: 10, total: 1_000, days: 10_000 };
        let mut files = LogFiles::open(&dir, limits).unwrap();
        files.write_all(b"0123456789").unwrap();
        files.write_all(b"next\n").unwrap();
        assert_eq!(private::mode(&dir), 0o700);
        let all = log_files(&dir);
        assert_eq!(all.len(), 3, "the old file, today's and today's second");
        for file in all {
            assert_eq!(private::mode(&file.path), 0o600, "{}", file.path.display());
        }
        let fresh = root.path().join("fresh").join("logs");
        LogFiles::open(&fresh, limits).unwrap();
        assert_eq!(private::mode(&fresh), 0o700);
        assert_eq!(private::mode(fresh.parent().unwrap()), 0o700);
    }
}
