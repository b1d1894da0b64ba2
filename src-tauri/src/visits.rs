//! The devices that recently opened the setup page or fetched the PAC file
//! (proxy-core's `Monitor::visits`), as the Status view's LAN sharing
//! section lists them: the answer to "does my phone reach it?".

use proxy_core::monitor::{Page, Visit};
use serde::Serialize;
use ts_rs::TS;

use crate::format::epoch_ms;

/// What a device fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum VisitPage {
    /// The setup page, `/`.
    Setup,
    /// The PAC file, `/proxy.pac` or `/wpad.dat`.
    Pac,
}

/// A device and a page it fetched, for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitRow {
    /// The device's address (an IPv4-mapped IPv6 address as IPv4).
    pub client: String,
    pub page: VisitPage,
    /// What the device says it is (its `User-Agent`, control characters
    /// replaced): untrusted text, which the window shows as text only.
    pub agent: String,
    /// When it first fetched the page, in milliseconds since the Unix epoch.
    pub first_at: u64,
    /// When it last did.
    pub last_at: u64,
    /// How many times.
    pub count: u64,
}

/// The rows of these visits, in their order (the most recent first).
pub fn visit_rows(visits: &[Visit]) -> Vec<VisitRow> {
    visits.iter().map(visit_row).collect()
}

fn visit_row(visit: &Visit) -> VisitRow {
    VisitRow {
        client: visit.client.to_canonical().to_string(),
        page: match visit.page {
            Page::Setup => VisitPage::Setup,
            Page::Pac => VisitPage::Pac,
        },
        agent: visit.agent.clone(),
        first_at: epoch_ms(visit.first_at),
        last_at: epoch_ms(visit.last_at),
        count: visit.count,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Duration, UNIX_EPOCH};

    use proxy_core::Monitor;

    use super::*;

    #[test]
    fn each_visit_becomes_a_row_with_its_page_times_and_count() {
        let monitor = Monitor::new();
        let phone: IpAddr = "::ffff:192.168.1.20".parse().unwrap();
        let laptop: IpAddr = "fd00::7".parse().unwrap();
        let before = epoch_ms(std::time::SystemTime::now());
        monitor.record_visit(phone, Page::Setup, "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile");
        monitor.record_visit(laptop, Page::Pac, "WinHttp-Autoproxy-Service/5.1");
        monitor.record_visit(phone, Page::Setup, "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile");
        let rows = visit_rows(&monitor.visits());
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].client.as_str(), rows[0].page, rows[0].count),
            ("192.168.1.20", VisitPage::Setup, 2),
            "the latest first, a mapped address as IPv4"
        );
        assert!(rows[0].first_at >= before && rows[0].last_at >= rows[0].first_at);
        assert_eq!((rows[1].client.as_str(), rows[1].page), ("fd00::7", VisitPage::Pac));
        assert_eq!(rows[1].agent, "WinHttp-Autoproxy-Service/5.1");
    }

    #[test]
    fn a_row_is_camel_case_with_the_page_in_lowercase() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let visit = Visit {
            client: "10.0.0.9".parse().unwrap(),
            page: Page::Pac,
            agent: "<b>not markup</b>".into(),
            first_at: at,
            last_at: at + Duration::from_secs(2),
            count: 3,
        };
        assert_eq!(
            serde_json::to_value(visit_rows(&[visit])).unwrap(),
            serde_json::json!([{
                "client": "10.0.0.9",
                "page": "pac",
                "agent": "<b>not markup</b>",
                "firstAt": 1_700_000_000_123_u64,
                "lastAt": 1_700_000_002_123_u64,
                "count": 3,
            }])
        );
    }
}
