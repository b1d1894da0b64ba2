//! The Status page's firewall check: whether the host firewall lets the
//! network reach each listener the server shares, asked of
//! `proxy_core::firewall` (the same check as `socksbox-server
//! --check-firewall`), and its answer as the window shows it: the exact
//! command that opens a blocked port, or what to look at when the firewall
//! could not be read.

use std::net::SocketAddr;

use proxy_core::firewall::{self, Query, Report, State};
use serde::Serialize;
use ts_rs::TS;

use crate::status::ServerStatus;

/// The answers for the listeners beyond loopback (none while stopped or
/// listening on this computer only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirewallCheck {
    /// One per listener, in the server's order.
    pub reports: Vec<FirewallReport>,
}

/// What the firewall says of one listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirewallReport {
    /// The listening address, as the server lists it.
    pub listen: String,
    /// Its port.
    pub port: u16,
    /// The firewall that answered, in words ("ufw", "firewalld"), or
    /// "the firewall" when none was named.
    pub firewall: String,
    /// Its answer.
    pub state: FirewallState,
    /// Why it blocks, in the firewall's terms (while it blocks).
    pub why: Option<String>,
    /// The command line that opens the port (while it blocks).
    pub fix: Option<String>,
    /// What a person can check instead (when the answer is unknown).
    pub what_to_check: Option<String>,
}

/// The firewall's answer, in short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum FirewallState {
    /// Connections are let in (or no firewall filters).
    Admits,
    /// Connections are dropped or refused.
    Blocks,
    /// No answer could be had.
    Unknown,
}

/// Checks every listener of `status` beyond loopback, all at once (each
/// firewall command takes a few hundred milliseconds).
pub async fn check(status: &ServerStatus) -> FirewallCheck {
    let listeners: Vec<SocketAddr> = match status {
        ServerStatus::Running { listening, .. } => listening
            .iter()
            .filter_map(|a| a.parse::<SocketAddr>().ok())
            .filter(|a| !a.ip().is_loopback() && a.port() != 0)
            .collect(),
        ServerStatus::Stopped | ServerStatus::Failed { .. } => Vec::new(),
    };
    let checks: Vec<_> = listeners
        .into_iter()
        .map(|listen| {
            let check =
                tokio::spawn(async move { firewall::check(&Query::for_listener(listen)).await });
            (listen, check)
        })
        .collect();
    let mut reports = Vec::with_capacity(checks.len());
    for (listen, check) in checks {
        reports.push(match check.await {
            Ok(report) => FirewallReport::from_report(&report),
            Err(_) => FirewallReport::unknown(listen, "the check stopped unexpectedly".to_owned()),
        });
    }
    FirewallCheck { reports }
}

impl FirewallReport {
    fn from_report(report: &Report) -> FirewallReport {
        let firewall =
            report.firewall.map_or_else(|| "the firewall".to_owned(), |kind| kind.to_string());
        let mut out = FirewallReport {
            listen: report.listen.to_string(),
            port: report.listen.port(),
            firewall,
            state: FirewallState::Admits,
            why: None,
            fix: None,
            what_to_check: None,
        };
        match &report.state {
            State::Blocks { why, fix } => {
                out.state = FirewallState::Blocks;
                out.why = Some(why.clone());
                out.fix = Some(fix.line.clone());
            }
            State::Unknown { what_to_check } => {
                out.state = FirewallState::Unknown;
                out.what_to_check = Some(what_to_check.clone());
            }
            State::Admits { .. } | State::Inactive | State::NotFound => {}
        }
        out
    }

    fn unknown(listen: SocketAddr, what_to_check: String) -> FirewallReport {
        FirewallReport {
            listen: listen.to_string(),
            port: listen.port(),
            firewall: "the firewall".to_owned(),
            state: FirewallState::Unknown,
            why: None,
            fix: None,
            what_to_check: Some(what_to_check),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_on_loopback_alone_has_nothing_to_check() {
        let status = ServerStatus::Running {
            listening: vec!["127.0.0.1:1080".to_owned(), "[::1]:1080".to_owned()],
            share_addresses: Vec::new(),
            open_warning: false,
            serves_http: true,
        };
        assert_eq!(check(&status).await, FirewallCheck { reports: Vec::new() });
        assert_eq!(check(&ServerStatus::Stopped).await, FirewallCheck { reports: Vec::new() });
    }

    #[test]
    fn a_stopped_check_says_so_in_what_to_check() {
        let report = FirewallReport::unknown("0.0.0.0:1080".parse().unwrap(), "why".to_owned());
        assert_eq!(report.state, FirewallState::Unknown);
        assert_eq!(report.port, 1080);
        assert_eq!(report.what_to_check.as_deref(), Some("why"));
    }
}
