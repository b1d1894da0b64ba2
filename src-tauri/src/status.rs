//! The server's status: one typed value, published on a watch channel by
//! the actions and read by the window, the tray and the sampler; and the
//! summary line the tray shows for it.

use serde::Serialize;
use ts_rs::TS;

use crate::format::{connections, format_rate};
use crate::i18n;

/// What the server is doing, as the window, the tray and the sampler see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum ServerStatus {
    /// Not running.
    Stopped,
    /// Serving.
    Running {
        /// The addresses it listens on.
        listening: Vec<String>,
        /// The addresses other devices use, while sharing on the LAN.
        share_addresses: Vec<String>,
        /// Sharing on the LAN without passwords.
        open_warning: bool,
        /// HTTP is served on the same port: the HTTP proxy, and the setup
        /// page and PAC file the LAN sharing section offers.
        serves_http: bool,
    },
    /// It could not start, or failed while running.
    Failed {
        /// Why, in words.
        error: String,
    },
}

impl ServerStatus {
    /// Whether the server serves.
    pub fn is_running(&self) -> bool {
        matches!(self, ServerStatus::Running { .. })
    }

    /// The address to give a program: the first LAN address while sharing,
    /// else the first listening address.
    pub fn proxy_address(&self) -> Option<&str> {
        match self {
            ServerStatus::Running { listening, share_addresses, .. } => {
                share_addresses.first().or(listening.first()).map(String::as_str)
            }
            _ => None,
        }
    }

    /// The state in one word, for the log.
    pub fn word(&self) -> &'static str {
        match self {
            ServerStatus::Stopped => "stopped",
            ServerStatus::Running { .. } => "running",
            ServerStatus::Failed { .. } => "failed",
        }
    }
}

/// How much of a failure's reason the tray's line shows (the tooltip, where
/// there is one, has it all).
pub const FAILED_LINE_CHARS: usize = 60;

/// What the tray says about the server.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    pub status: &'a ServerStatus,
    pub connections: u64,
    /// Bytes per second.
    pub rate_up: u64,
    pub rate_down: u64,
}

impl Summary<'_> {
    /// One line, the state in words first: "Running on 127.0.0.1:1080 ·
    /// 3 connections · ↓ 1.2 MB/s ↑ 40 kB/s" (the address programs use, as
    /// the tray's Copy gives it), "Stopped", "Failed: why" (at most
    /// [`FAILED_LINE_CHARS`] characters of why).
    pub fn line(&self) -> String {
        match self.status {
            ServerStatus::Running { .. } => i18n::t(
                "tray.status.running",
                &[
                    ("address", self.status.proxy_address().unwrap_or("?").into()),
                    ("connections", connections(self.connections).as_str().into()),
                    ("down", format_rate(self.rate_down).as_str().into()),
                    ("up", format_rate(self.rate_up).as_str().into()),
                ],
            ),
            ServerStatus::Failed { error } => {
                let mut chars = error.chars();
                let shown: String = chars.by_ref().take(FAILED_LINE_CHARS).collect();
                let more = if chars.next().is_some() { "…" } else { "" };
                i18n::t(
                    "tray.status.failed",
                    &[("error", format!("{shown}{more}").as_str().into())],
                )
            }
            ServerStatus::Stopped => i18n::t("tray.status.stopped", &[]),
        }
    }

    /// The tooltip: the line, and where it listens or why it failed.
    pub fn tooltip(&self) -> String {
        match self.status {
            ServerStatus::Running { listening, .. } => i18n::t(
                "tray.status.tooltipRunning",
                &[
                    ("line", self.line().as_str().into()),
                    ("addresses", listening.join(", ").as_str().into()),
                ],
            ),
            ServerStatus::Failed { error } => {
                i18n::t("tray.status.tooltipFailed", &[("error", error.into())])
            }
            ServerStatus::Stopped => i18n::t("tray.status.tooltipStopped", &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> ServerStatus {
        ServerStatus::Running {
            listening: vec!["127.0.0.1:1080".into()],
            share_addresses: vec![],
            open_warning: false,
            serves_http: true,
        }
    }

    #[test]
    fn the_summary_names_state_connections_and_rates() {
        let running = running();
        let summary =
            Summary { status: &running, connections: 3, rate_up: 40_000, rate_down: 1_200_000 };
        assert_eq!(
            summary.line(),
            "Running on 127.0.0.1:1080 · 3 connections · ↓ 1.2 MB/s ↑ 40 kB/s"
        );
        assert!(summary.tooltip().ends_with("Listening on 127.0.0.1:1080"));
        let one = Summary { connections: 1, rate_up: 0, rate_down: 0, ..summary };
        assert_eq!(one.line(), "Running on 127.0.0.1:1080 · 1 connection · ↓ 0 B/s ↑ 0 B/s");
        let failed =
            ServerStatus::Failed { error: "Port 1080 is in use by another program.".into() };
        let summary = Summary { status: &failed, ..one };
        assert_eq!(summary.line(), "Failed: Port 1080 is in use by another program.");
        assert_eq!(summary.tooltip(), "SocksBox: failed: Port 1080 is in use by another program.");
        let long = ServerStatus::Failed { error: "x".repeat(FAILED_LINE_CHARS + 1) };
        let line = Summary { status: &long, ..one }.line();
        assert_eq!(line, format!("Failed: {}…", "x".repeat(FAILED_LINE_CHARS)));
        let stopped = ServerStatus::Stopped;
        assert_eq!(Summary { status: &stopped, ..one }.line(), "Stopped");
        assert_eq!(Summary { status: &stopped, ..one }.tooltip(), "SocksBox: stopped");
    }

    #[test]
    fn the_status_is_tagged_by_its_state() {
        let json = serde_json::to_value(running()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "state": "running",
                "listening": ["127.0.0.1:1080"],
                "shareAddresses": [],
                "openWarning": false,
                "servesHttp": true,
            })
        );
        let json = serde_json::to_value(ServerStatus::Failed { error: "x".into() }).unwrap();
        assert_eq!(json, serde_json::json!({ "state": "failed", "error": "x" }));
        assert_eq!(serde_json::to_value(ServerStatus::Stopped).unwrap()["state"], "stopped");
    }

    #[test]
    fn the_proxy_address_prefers_the_lan() {
        assert_eq!(running().proxy_address(), Some("127.0.0.1:1080"));
        let sharing = ServerStatus::Running {
            listening: vec!["0.0.0.0:1080".into()],
            share_addresses: vec!["192.168.1.5:1080".into()],
            open_warning: true,
            serves_http: false,
        };
        assert_eq!(sharing.proxy_address(), Some("192.168.1.5:1080"));
        assert_eq!(ServerStatus::Stopped.proxy_address(), None);
    }
}
