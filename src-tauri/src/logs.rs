//! Logs: `tracing` to a daily-rotated file in the OS data directory (the
//! last seven days kept) and to stderr, and the tail of the newest file for
//! the window's logs view.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// How many lines the logs view gets at most.
const VIEW_LINES: usize = 500;

/// Sets up logging into `dir`; the guard must live as long as the app, or
/// the last lines are lost.
pub fn init(dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer().with_writer(std::io::stderr);
    let file = std::fs::create_dir_all(dir).ok().and_then(|()| {
        Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("socksbox")
            .filename_suffix("log")
            .max_log_files(7)
            .build(dir)
            .ok()
    });
    match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file_layer = fmt::layer().with_ansi(false).with_writer(writer);
            tracing_subscriber::registry().with(filter).with(stderr).with(file_layer).init();
            Some(guard)
        }
        None => {
            tracing_subscriber::registry().with(filter).with(stderr).init();
            tracing::warn!("cannot write log files in {}", dir.display());
            None
        }
    }
}

/// The last lines of the newest log file at `level` or more severe.
pub fn tail(dir: &Path, level: &str) -> Vec<String> {
    let Some(newest) = newest_file(dir) else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(newest) else {
        return Vec::new();
    };
    let wanted = severity(level);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| line_severity(line).is_some_and(|s| s <= wanted))
        .map(str::to_owned)
        .collect();
    let skip = lines.len().saturating_sub(VIEW_LINES);
    lines.drain(..skip);
    lines
}

fn newest_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("socksbox"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
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
    ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
        .iter()
        .position(|l| line.split_whitespace().nth(1) == Some(l))
        .map(|p| p as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
