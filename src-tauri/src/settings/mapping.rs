//! Port mappings as the app keeps them: proxy-core's `[[mappings]]`, with
//! the listening address and the target as the user typed them, so that a
//! bad one is refused naming its field (`mappings.listen`) rather than
//! failing the whole call. Checked here, converted in `to_config`.

use std::net::SocketAddr;

use proxy_core::config::{Mapping, MappingProtocol, MappingRoute};
use proxy_core::protocol::TargetAddr;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::FieldError;

/// The longest name a mapping may have, in characters (proxy-core's).
pub const NAME_MAX: usize = 64;

/// One port mapping: a port of this machine that always leads to one
/// destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MappingEntry {
    /// Shown in the live view and the log; none: `LISTEN/PROTOCOL`.
    #[serde(default)]
    pub name: Option<String>,
    /// Where it listens: `ADDRESS:PORT`.
    pub listen: String,
    /// Where it leads: `HOST:PORT`.
    pub target: String,
    /// TCP, UDP or both on the same port.
    #[serde(default)]
    #[ts(type = "\"tcp\" | \"udp\" | \"both\"")]
    pub protocol: MappingProtocol,
    /// As the routing rules say, through the upstream chain, or direct.
    #[serde(default)]
    #[ts(type = "\"rules\" | \"chain\" | \"direct\"")]
    pub route: MappingRoute,
    /// Off: kept, but not listening.
    #[serde(default = "on")]
    pub enabled: bool,
}

fn on() -> bool {
    true
}

impl MappingEntry {
    /// Its name: the one given, or `LISTEN/PROTOCOL` as proxy-core names it
    /// ([`Mapping::name`]), which is what the server's statuses carry.
    pub fn name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => {
                let listen = self
                    .listen
                    .trim()
                    .parse::<SocketAddr>()
                    .map_or_else(|_| self.listen.trim().to_owned(), |addr| addr.to_string());
                format!("{listen}/{}", self.protocol)
            }
        }
    }

    /// The same mapping as it is saved: the name trimmed (a blank one is
    /// no name), the listening address written as the server writes it,
    /// the target trimmed.
    pub fn normalized(self) -> MappingEntry {
        let name = self.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let listen = match self.listen.trim().parse::<SocketAddr>() {
            Ok(addr) => addr.to_string(),
            Err(_) => self.listen.trim().to_owned(),
        };
        MappingEntry { name, listen, target: self.target.trim().to_owned(), ..self }
    }

    /// proxy-core's mapping, or `None` when the address or the target does
    /// not parse (validation names those).
    pub fn to_mapping(&self) -> Option<Mapping> {
        Some(Mapping {
            name: self.name.clone(),
            listen: self.listen.trim().parse().ok()?,
            target: self.target.parse().ok()?,
            protocol: self.protocol,
            route: self.route,
            enabled: self.enabled,
        })
    }
}

/// What a mapping is checked against: the proxy's own port and whether an
/// upstream chain is set.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings {
    pub proxy_port: u16,
    pub chain_set: bool,
}

/// Every problem with `entry`, each naming its field, alone and beside
/// `others` (the rest of the mappings).
pub fn check(
    entry: &MappingEntry,
    others: &[MappingEntry],
    around: Surroundings,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| {
        errors.push(FieldError { field: field.to_owned(), message });
    };
    let name = entry.name();
    if let Some(given) = &entry.name {
        if !name_is_good(given) {
            err(
                "mappings.name",
                format!(
                    "A mapping's name has 1 to {NAME_MAX} characters, without line breaks or other control characters."
                ),
            );
        }
    }
    if others.iter().any(|o| o.name() == name) {
        err("mappings.name", format!("There is already a mapping named \"{name}\"."));
    }
    if let Some(message) = listen_problem(entry, others, around, &name) {
        err("mappings.listen", message);
    }
    match entry.target.trim().parse::<TargetAddr>() {
        Err(_) => err(
            "mappings.target",
            format!(
                "\"{}\" is not a destination: enter a host and a port, such as build.corp.example:22.",
                entry.target.trim()
            ),
        ),
        Ok(target) if target.port() == 0 => err(
            "mappings.target",
            "The destination's port cannot be 0: enter one between 1 and 65535.".to_owned(),
        ),
        Ok(_) => {}
    }
    if entry.route == MappingRoute::Chain && !around.chain_set {
        err(
            "mappings.route",
            format!("Mapping \"{name}\" goes through the upstream chain, and none is set: add one in Settings, or choose another route."),
        );
    }
    errors
}

/// What is wrong with where `entry` listens, if anything.
fn listen_problem(
    entry: &MappingEntry,
    others: &[MappingEntry],
    around: Surroundings,
    name: &str,
) -> Option<String> {
    let Ok(listen) = entry.listen.trim().parse::<SocketAddr>() else {
        return Some(format!(
            "\"{}\" is not a listening address: enter an address and a port, such as 127.0.0.1:2222.",
            entry.listen.trim()
        ));
    };
    if listen.port() == 0 {
        return Some(
            "Enter a port between 1 and 65535 after the address, such as 127.0.0.1:2222."
                .to_owned(),
        );
    }
    if entry.protocol.tcp() && listen.port() == around.proxy_port {
        return Some(format!(
            "Mapping \"{name}\" listens on port {} for TCP, the proxy's own port: the two cannot share it.",
            listen.port()
        ));
    }
    others.iter().find_map(|other| {
        let theirs = other.listen.trim().parse::<SocketAddr>().ok()?;
        let shared = shared_protocols(entry.protocol, other.protocol)?;
        overlap(listen, theirs).then(|| {
            format!("Mapping \"{}\" listens on {theirs} for {shared} already.", other.name())
        })
    })
}

/// Whether two listening addresses would take the same port: the same
/// address, or one of them every address of the same family (IPv6 sockets
/// serve IPv6 only, so `0.0.0.0` and `[::]` do not meet).
fn overlap(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port()
        && (a.ip() == b.ip()
            || (a.is_ipv4() == b.is_ipv4() && (a.ip().is_unspecified() || b.ip().is_unspecified())))
}

/// The protocols two mappings both carry, in words; `None` when none.
fn shared_protocols(a: MappingProtocol, b: MappingProtocol) -> Option<&'static str> {
    match (a.tcp() && b.tcp(), a.udp() && b.udp()) {
        (true, true) => Some("TCP and UDP"),
        (true, false) => Some("TCP"),
        (false, true) => Some("UDP"),
        (false, false) => None,
    }
}

fn name_is_good(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().count() <= NAME_MAX
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(listen: &str, target: &str) -> MappingEntry {
        MappingEntry {
            name: None,
            listen: listen.into(),
            target: target.into(),
            protocol: MappingProtocol::Tcp,
            route: MappingRoute::Rules,
            enabled: true,
        }
    }

    const AROUND: Surroundings = Surroundings { proxy_port: 1080, chain_set: false };

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_mapping_without_a_name_goes_by_its_address_and_protocol() {
        let mut m = entry(" 127.0.0.1:2222 ", "a:22");
        assert_eq!(m.name(), "127.0.0.1:2222/tcp");
        m.protocol = MappingProtocol::Both;
        assert_eq!(
            m.name(),
            m.to_mapping().unwrap().name(),
            "the name the server's statuses carry"
        );
        m.name = Some("ssh".into());
        assert_eq!(m.name(), "ssh");
    }

    #[test]
    fn normalizing_trims_and_writes_the_address_as_the_server_does() {
        let m = MappingEntry {
            name: Some("  ".into()),
            listen: " [0:0::1]:53 ".into(),
            target: " dns.example:53 ".into(),
            ..entry("", "")
        }
        .normalized();
        assert_eq!(
            (m.name, m.listen.as_str(), m.target.as_str()),
            (None, "[::1]:53", "dns.example:53")
        );
        let named = MappingEntry { name: Some(" ssh ".into()), ..entry("x", "y") }.normalized();
        assert_eq!(named.name.as_deref(), Some("ssh"));
        assert_eq!(named.listen, "x", "what does not parse is kept for its error");
    }

    #[test]
    fn each_bad_field_is_named() {
        assert!(check(&entry("127.0.0.1:2222", "a.example:22"), &[], AROUND).is_empty());
        let cases = [
            (entry("2222", "a:22"), "mappings.listen", "\"2222\" is not a listening address"),
            (entry("127.0.0.1:0", "a:22"), "mappings.listen", "Enter a port between 1 and 65535"),
            (entry("127.0.0.1:1080", "a:22"), "mappings.listen", "the proxy's own port"),
            (
                entry("127.0.0.1:2222", "a.example"),
                "mappings.target",
                "\"a.example\" is not a destination",
            ),
            (entry("127.0.0.1:2222", "a:0"), "mappings.target", "cannot be 0"),
            (
                MappingEntry { name: Some("a\nb".into()), ..entry("127.0.0.1:2222", "a:22") },
                "mappings.name",
                "without line breaks",
            ),
            (
                MappingEntry { name: Some("x".repeat(65)), ..entry("127.0.0.1:2222", "a:22") },
                "mappings.name",
                "1 to 64 characters",
            ),
            (
                MappingEntry { route: MappingRoute::Chain, ..entry("127.0.0.1:2222", "a:22") },
                "mappings.route",
                "none is set",
            ),
        ];
        for (m, field, words) in cases {
            let errors = check(&m, &[], AROUND);
            assert_eq!(fields(&errors), [field], "{m:?}");
            assert!(errors[0].message.contains(words), "{m:?}: {}", errors[0].message);
        }
        let udp =
            MappingEntry { protocol: MappingProtocol::Udp, ..entry("127.0.0.1:1080", "a:53") };
        assert!(check(&udp, &[], AROUND).is_empty(), "the proxy's port is TCP only");
        let chained =
            MappingEntry { route: MappingRoute::Chain, ..entry("127.0.0.1:2222", "a:22") };
        assert!(check(&chained, &[], Surroundings { chain_set: true, ..AROUND }).is_empty());
    }

    #[test]
    fn two_mappings_cannot_share_a_name_or_a_socket() {
        let ssh = MappingEntry { name: Some("ssh".into()), ..entry("0.0.0.0:2222", "a:22") };
        let same_name =
            MappingEntry { name: Some("ssh".into()), ..entry("127.0.0.1:2223", "b:22") };
        assert_eq!(
            fields(&check(&same_name, std::slice::from_ref(&ssh), AROUND)),
            ["mappings.name"]
        );

        let inside = entry("127.0.0.1:2222", "b:22");
        let errors = check(&inside, std::slice::from_ref(&ssh), AROUND);
        assert_eq!(fields(&errors), ["mappings.listen"]);
        assert_eq!(errors[0].message, "Mapping \"ssh\" listens on 0.0.0.0:2222 for TCP already.");

        let udp = MappingEntry { protocol: MappingProtocol::Udp, ..inside };
        assert!(
            check(&udp, std::slice::from_ref(&ssh), AROUND).is_empty(),
            "TCP and UDP share a port"
        );
        let v6 = entry("[::]:2222", "b:22");
        assert!(
            check(&v6, std::slice::from_ref(&ssh), AROUND).is_empty(),
            "IPv6 sockets serve IPv6 only"
        );
        let both =
            MappingEntry { protocol: MappingProtocol::Both, ..entry("0.0.0.0:2222", "b:22") };
        let errors = check(&both, &[udp], AROUND);
        assert!(errors[0].message.ends_with("for UDP already."), "{}", errors[0].message);
    }
}
