//! Desktop notifications, when the user wants them. A desktop without a
//! notification service (or without a D-Bus session) only gets a log line.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::i18n;

/// At most one notice about refused logins this often.
const AUTH_NOTICE_EVERY: Duration = Duration::from_secs(60);

/// The notice of refused logins: a password or a Kerberos login.
fn refused_login_notice() -> String {
    i18n::t("notice.refusedLogin", &[])
}

/// Shows notifications while the setting allows them.
pub struct Notifier {
    enabled: AtomicBool,
    last_auth_notice: Mutex<Option<Instant>>,
}

impl Notifier {
    /// A notifier, on or off.
    pub fn new(enabled: bool) -> Self {
        Notifier { enabled: AtomicBool::new(enabled), last_auth_notice: Mutex::new(None) }
    }

    /// Follows the user's setting.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Shows `message` when notifications are on.
    pub fn show(&self, message: &str) {
        if self.enabled.load(Ordering::Relaxed) {
            show(message);
        }
    }

    /// Clients' logins were refused, a wrong password or a GSS-API
    /// (Kerberos) login that failed or is not allowed (the count rose to
    /// `failures`): logged always, notified at most once a minute.
    pub fn refused_logins(&self, failures: u64) {
        tracing::warn!(failures, "clients' logins refused");
        let Ok(mut last) = self.last_auth_notice.lock() else {
            return;
        };
        let quiet = last.is_none_or(|t| t.elapsed() > AUTH_NOTICE_EVERY);
        if quiet && self.enabled.load(Ordering::Relaxed) {
            *last = Some(Instant::now());
            show(&refused_login_notice());
        }
    }
}

/// Shows `message` off the calling thread (D-Bus calls block); failures
/// are logged.
fn show(message: &str) {
    let message = message.to_owned();
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("SocksBox")
            .summary("SocksBox")
            .body(&message)
            .show();
        if let Err(e) = shown {
            tracing::info!("notification not shown ({e}): {message}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refused_login_notice_speaks_of_logins_not_passwords_alone() {
        let notice = refused_login_notice();
        assert!(notice.contains("login"), "{notice}");
        assert!(notice.contains("Kerberos"), "{notice}");
    }
}
