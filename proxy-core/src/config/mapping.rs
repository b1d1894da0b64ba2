//! Port mappings: a port of this machine that always leads to one
//! destination, for programs and devices that cannot use a proxy.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{invalid, ConfigError};
use crate::protocol::TargetAddr;

/// One mapping: `[[mappings]]` in TOML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Shown in the monitor and the log; by default `LISTEN/PROTOCOL`
    /// (see [`Mapping::name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it listens (port 0: a free port, for tests).
    pub listen: SocketAddr,
    /// Where every connection and datagram flow goes: `HOST:PORT`, a name
    /// resolved when each connection or flow starts.
    pub target: TargetAddr,
    /// TCP, UDP or both on the same port.
    #[serde(default)]
    pub protocol: MappingProtocol,
    /// How the target is reached.
    #[serde(default)]
    pub route: MappingRoute,
    /// Off: the mapping is kept but does not listen.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// What a mapping carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingProtocol {
    /// TCP connections.
    #[default]
    Tcp,
    /// UDP datagrams, one flow per client address and port.
    Udp,
    /// Both, on the same port.
    Both,
}

impl MappingProtocol {
    /// Whether TCP is mapped.
    pub fn tcp(self) -> bool {
        matches!(self, MappingProtocol::Tcp | MappingProtocol::Both)
    }

    /// Whether UDP is mapped.
    pub fn udp(self) -> bool {
        matches!(self, MappingProtocol::Udp | MappingProtocol::Both)
    }

    /// "tcp", "udp" or "both".
    pub fn as_str(self) -> &'static str {
        match self {
            MappingProtocol::Tcp => "tcp",
            MappingProtocol::Udp => "udp",
            MappingProtocol::Both => "both",
        }
    }
}

impl fmt::Display for MappingProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a mapping reaches its target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingRoute {
    /// As the routing rules say for the target, like a SOCKS request.
    #[default]
    Rules,
    /// Always through the upstream chain (TCP by CONNECT, UDP by UDP
    /// ASSOCIATE at every hop).
    Chain,
    /// Always straight from this machine.
    Direct,
}

impl MappingRoute {
    /// "rules", "chain" or "direct".
    pub fn as_str(self) -> &'static str {
        match self {
            MappingRoute::Rules => "rules",
            MappingRoute::Chain => "chain",
            MappingRoute::Direct => "direct",
        }
    }
}

impl Mapping {
    /// The mapping's name: the one given, or `LISTEN/PROTOCOL` (the
    /// command line's spelling, unique among valid mappings).
    pub fn name(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("{}/{}", self.listen, self.protocol),
        }
    }

    /// Whether this mapping and `other` would listen on the same socket.
    fn collides_with(&self, other: &Mapping) -> bool {
        self.listen == other.listen
            && self.listen.port() != 0
            && ((self.protocol.tcp() && other.protocol.tcp())
                || (self.protocol.udp() && other.protocol.udp()))
    }
}

/// Reads `--map LISTEN=TARGET[/tcp|/udp|/both]`: LISTEN is `ADDR:PORT`, or
/// a bare port on 127.0.0.1 (this machine only, the safe default).
impl FromStr for Mapping {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (listen, rest) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?} is not LISTEN=TARGET[/tcp|/udp|/both]"))?;
        let listen = match listen.parse::<u16>() {
            Ok(port) => SocketAddr::from(([127, 0, 0, 1], port)),
            Err(_) => listen.parse().map_err(|_| {
                format!("{listen:?} is not a listening address (ADDR:PORT, or a port)")
            })?,
        };
        let (target, protocol) = match rest.rsplit_once('/') {
            Some((target, "tcp")) => (target, MappingProtocol::Tcp),
            Some((target, "udp")) => (target, MappingProtocol::Udp),
            Some((target, "both")) => (target, MappingProtocol::Both),
            Some((_, other)) => {
                return Err(format!("{other:?} is not a protocol (tcp, udp or both)"));
            }
            None => (rest, MappingProtocol::Tcp),
        };
        let target = target
            .parse()
            .map_err(|_| format!("{target:?} is not a target (HOST:PORT, [IPV6]:PORT)"))?;
        Ok(Mapping {
            name: None,
            listen,
            target,
            protocol,
            route: MappingRoute::Rules,
            enabled: true,
        })
    }
}

/// Checks the mappings of a configuration: names, targets, that no two
/// listen on one socket (nor on one of the SOCKS listening addresses), and
/// that a chain is set where one is asked for.
pub(super) fn validate(
    mappings: &[Mapping],
    listen: &[SocketAddr],
    chain_set: bool,
) -> Result<(), ConfigError> {
    for (i, mapping) in mappings.iter().enumerate() {
        let name = mapping.name();
        if let Some(given) = &mapping.name {
            if given.trim().is_empty()
                || given.chars().count() > 64
                || given.chars().any(char::is_control)
            {
                return Err(invalid(
                    "mappings.name",
                    given.escape_debug(),
                    "must be 1 to 64 characters, without control characters",
                ));
            }
        }
        if mapping.target.port() == 0 {
            return Err(invalid("mappings.target", &mapping.target, "the port cannot be 0"));
        }
        if mapping.protocol.tcp() && mapping.listen.port() != 0 && listen.contains(&mapping.listen)
        {
            return Err(invalid(
                "mappings.listen",
                mapping.listen,
                "the SOCKS and HTTP server listens there already",
            ));
        }
        if mapping.route == MappingRoute::Chain && !chain_set {
            return Err(invalid(
                "mappings.route",
                format!("chain (mapping {name})"),
                "no upstream chain is set (upstream.chain)",
            ));
        }
        for earlier in &mappings[..i] {
            if earlier.name() == name {
                return Err(invalid("mappings.name", name, "two mappings have this name"));
            }
            if earlier.collides_with(mapping) {
                return Err(invalid(
                    "mappings.listen",
                    mapping.listen,
                    "two mappings listen there for the same protocol",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn the_command_line_form_reads() {
        let m: Mapping = "0.0.0.0:2222=build.corp.example:22".parse().unwrap();
        assert_eq!(m.listen, "0.0.0.0:2222".parse().unwrap());
        assert_eq!(m.target, TargetAddr::Domain("build.corp.example".into(), 22));
        assert_eq!(m.protocol, MappingProtocol::Tcp);
        assert_eq!(m.name(), "0.0.0.0:2222/tcp");
        let m: Mapping = "5353=[::1]:53/udp".parse().unwrap();
        assert_eq!(m.listen, "127.0.0.1:5353".parse().unwrap());
        assert_eq!(m.target, TargetAddr::Ip("[::1]:53".parse().unwrap()));
        assert_eq!(m.protocol, MappingProtocol::Udp);
        let m: Mapping = "[::]:3074=10.0.0.5:3074/both".parse().unwrap();
        assert_eq!(m.protocol, MappingProtocol::Both);
        for bad in ["2222", "2222=", "x=a:1", "2222=a", "2222=a:1/sctp", "70000=a:1"] {
            assert!(bad.parse::<Mapping>().is_err(), "{bad}");
        }
        assert!("2222=a:1/sctp".parse::<Mapping>().unwrap_err().contains("sctp"));
    }

    #[test]
    fn toml_mappings_read_with_their_defaults() {
        let config = Config::from_toml(
            r#"
            [upstream]
            chain = ["socks5://127.0.0.1:9050"]
            [[mappings]]
            listen = "0.0.0.0:2222"
            target = "build.corp.example:22"
            protocol = "tcp"
            route = "chain"
            [[mappings]]
            name = "dns"
            listen = "127.0.0.1:5353"
            target = "127.0.0.1:53"
            protocol = "both"
            enabled = false
            "#,
        )
        .unwrap();
        assert_eq!(config.mappings.len(), 2);
        assert_eq!(config.mappings[0].route, MappingRoute::Chain);
        assert!(config.mappings[0].enabled);
        assert_eq!(config.mappings[1].route, MappingRoute::Rules);
        assert_eq!(config.mappings[1].name(), "dns");
        assert!(!config.mappings[1].enabled);
        let again = Config::from_toml(&config.to_toml()).unwrap();
        assert_eq!(again, config);
    }

    fn with(mappings: &[&str]) -> Result<Config, ConfigError> {
        let config = Config {
            mappings: mappings.iter().map(|m| m.parse().unwrap()).collect(),
            ..Config::default()
        };
        config.validate().map(|()| config)
    }

    fn field_of(result: Result<Config, ConfigError>) -> &'static str {
        match result {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn bad_mappings_are_named() {
        assert!(with(&["2222=a:22", "2222=a:53/udp"]).is_ok(), "TCP and UDP share a port");
        let mut zero = Config { mappings: vec!["0=a:22".parse().unwrap(); 2], ..Config::default() };
        assert_eq!(field_of(zero.validate().map(|()| zero.clone())), "mappings.name");
        zero.mappings[1].name = Some("second".into());
        assert!(zero.validate().is_ok(), "port 0 never collides");
        assert_eq!(field_of(with(&["2222=a:22", "2222=b:22/both"])), "mappings.listen");
        assert_eq!(field_of(with(&["1080=a:22"])), "mappings.listen");
        assert!(with(&["1080=a:53/udp"]).is_ok(), "the SOCKS port is TCP only");
        assert_eq!(field_of(with(&["2222=a:0"])), "mappings.target");
        let mut config = with(&["2222=a:22"]).unwrap();
        config.mappings[0].route = MappingRoute::Chain;
        assert_eq!(field_of(config.validate().map(|()| config.clone())), "mappings.route");
        config.mappings[0].route = MappingRoute::Direct;
        config.mappings[0].name = Some("bad\nname".into());
        assert_eq!(field_of(config.validate().map(|()| config.clone())), "mappings.name");
        config.mappings[0].name = Some("2222/tcp".into());
        config.mappings.push("2223=a:22".parse().unwrap());
        config.mappings[1].name = Some("2222/tcp".into());
        assert_eq!(field_of(config.validate().map(|()| config.clone())), "mappings.name");
    }

    #[test]
    fn a_bad_target_in_toml_is_named() {
        let error =
            Config::from_toml("[[mappings]]\nlisten = \"127.0.0.1:1\"\ntarget = \"nope\"\n")
                .unwrap_err()
                .to_string();
        assert!(error.contains("target"), "{error}");
        assert!(error.contains("HOST:PORT"), "{error}");
    }
}
