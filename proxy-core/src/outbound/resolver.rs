//! Name resolution without threads: an asynchronous resolver (hickory) with
//! the system's configuration (/etc/resolv.conf and the hosts file) or the
//! DNS servers the configuration names. A lookup that runs out of time is
//! dropped, so a slow DNS server can stall only the lookups that wait on
//! it; lookups at once are bounded, so stuck ones cannot pile up; and
//! `localhost` names and addresses never reach it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::DnsConfig;
use crate::policy::TargetPolicy;
use crate::protocol::TargetAddr;
use crate::refusal::{Refusal, RefusalKind};

/// Resolves names for the server and its upstream hops.
pub struct Resolver {
    inner: TokioResolver,
    permits: Semaphore,
    timeout: Duration,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl Resolver {
    /// A resolver as `config` says: its servers, or the system's.
    pub fn new(config: &DnsConfig) -> Resolver {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if config.servers.is_empty() {
            match TokioResolver::builder(provider.clone()) {
                Ok(builder) => builder,
                Err(e) => {
                    // No readable resolv.conf: the hosts file still answers.
                    tracing::warn!("cannot read the system's DNS configuration ({e}); names resolve from the hosts file only");
                    TokioResolver::builder_with_config(
                        ResolverConfig::from_name_servers(Vec::new()),
                        provider,
                    )
                }
            }
        } else {
            let servers = config
                .servers
                .iter()
                .map(|server| {
                    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
                    for connection in &mut ns.connections {
                        connection.port = server.port();
                    }
                    ns
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.use_hosts_file = ResolveHosts::Always;
        // A before AAAA: most shared connections are IPv4, and every
        // address is tried in turn anyway.
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        options.timeout = config.timeout;
        options.attempts = 1;
        let inner = match builder.build() {
            Ok(resolver) => resolver,
            Err(e) => {
                tracing::warn!(
                    "cannot set up the DNS resolver ({e}); names resolve from the hosts file only"
                );
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(Vec::new()),
                    TokioRuntimeProvider::default(),
                )
                .build()
                .expect("a resolver without servers always builds")
            }
        };
        Resolver { inner, permits: Semaphore::new(config.max_lookups), timeout: config.timeout }
    }

    /// The resolver of the system's configuration with the default limits,
    /// shared by the tools that have no configuration of their own (the
    /// upstream check).
    pub fn system() -> Arc<Resolver> {
        static SYSTEM: OnceLock<Arc<Resolver>> = OnceLock::new();
        Arc::clone(SYSTEM.get_or_init(|| Arc::new(Resolver::new(&DnsConfig::default()))))
    }

    /// Resolves `target` and keeps the addresses the destination policy
    /// admits for a client at `client`, in the resolver's order.
    pub async fn resolve(
        &self,
        target: &TargetAddr,
        client: IpAddr,
        policy: &TargetPolicy,
        limit: Duration,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        let addrs = self.lookup(target, limit).await?;
        let admitted: Vec<SocketAddr> =
            addrs.iter().copied().filter(|a| policy.admits(client, a.ip())).collect();
        if admitted.is_empty() {
            return Err(Refusal::not_allowed(format!(
                "{target} ({}) is not allowed by the destination policy",
                addrs[0].ip()
            )));
        }
        Ok(admitted)
    }

    /// The addresses of `target`, in the resolver's order, with no policy
    /// applied (for the administrator's own upstream hops): an address is
    /// itself, `localhost` names are this machine's loopback addresses,
    /// other names are looked up within `limit` (and the resolver's own
    /// time limit). Never an empty list.
    pub async fn lookup(
        &self,
        target: &TargetAddr,
        limit: Duration,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        let (name, port) = match target {
            TargetAddr::Ip(addr) => return Ok(vec![*addr]),
            TargetAddr::Domain(name, port) if super::is_localhost(name) => {
                // RFC 6761 section 6.3: "localhost" names are this machine's
                // loopback addresses, whatever /etc/hosts lists (many list
                // only 127.0.0.1), and are never sent to a DNS server.
                return Ok(vec![
                    SocketAddr::new(Ipv6Addr::LOCALHOST.into(), *port),
                    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), *port),
                ]);
            }
            TargetAddr::Domain(name, port) => (name, *port),
        };
        let limit = limit.min(self.timeout);
        let deadline = Instant::now() + limit;
        let timed_out = || {
            Refusal::new(
                RefusalKind::TimedOut,
                format!("resolving {name} took longer than {limit:?}"),
            )
        };
        let _permit = tokio::time::timeout_at(deadline, self.permits.acquire())
            .await
            .map_err(|_| timed_out())?
            .map_err(|_| Refusal::general("the resolver is closed"))?;
        let found = tokio::time::timeout_at(deadline, self.inner.lookup_ip(name.as_str()))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| {
                Refusal::new(RefusalKind::HostUnreachable, format!("cannot resolve {name}: {e}"))
            })?;
        let addrs: Vec<SocketAddr> = found.iter().map(|ip| SocketAddr::new(ip, port)).collect();
        if addrs.is_empty() {
            return Err(Refusal::new(
                RefusalKind::HostUnreachable,
                format!("{target} has no address"),
            ));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::RemoteReach;

    fn system() -> Arc<Resolver> {
        Resolver::system()
    }

    #[tokio::test]
    async fn names_resolve_to_every_address() {
        let target = TargetAddr::Domain("localhost".into(), 80);
        let addrs = system()
            .resolve(
                &target,
                "127.0.0.1".parse().unwrap(),
                &TargetPolicy::open(),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80), "{addrs:?}");
    }

    #[tokio::test]
    async fn lookup_applies_no_policy() {
        let target = TargetAddr::Ip("127.0.0.9:80".parse().unwrap());
        let addrs = system().lookup(&target, Duration::from_secs(5)).await.unwrap();
        assert_eq!(addrs, ["127.0.0.9:80".parse().unwrap()]);
    }

    #[tokio::test]
    async fn the_hosts_file_answers() {
        // Every Linux hosts file names localhost; the resolver must read it
        // for names under other spellings too ("localhost." is handled
        // before, so ask for a name the hosts file alone knows).
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let Some(name) = hosts
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split_whitespace().skip(1))
            .find(|n| !n.contains("localhost") && !n.starts_with("ip6-"))
        else {
            return; // a hosts file with localhost alone: nothing else to ask
        };
        let target = TargetAddr::Domain(name.to_owned(), 1);
        let addrs = system().lookup(&target, Duration::from_secs(5)).await.unwrap();
        assert!(!addrs.is_empty(), "{name}");
    }

    #[tokio::test]
    async fn denied_destinations_are_not_allowed() {
        let policy =
            TargetPolicy::new(vec!["127.0.0.9/32".parse().unwrap()], RemoteReach::default());
        let target = TargetAddr::Ip("127.0.0.9:80".parse().unwrap());
        let err = system()
            .resolve(&target, "127.0.0.1".parse().unwrap(), &policy, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind, RefusalKind::NotAllowed);
        let remote_client = "192.168.1.9".parse().unwrap();
        let target = TargetAddr::Ip("127.0.0.1:80".parse().unwrap());
        let err = system()
            .resolve(&target, remote_client, &policy, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind, RefusalKind::NotAllowed);
    }

    /// A DNS server that reads every query and never answers.
    async fn silent_dns() -> (tokio::net::UdpSocket, SocketAddr) {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        (socket, addr)
    }

    #[tokio::test]
    async fn stuck_lookups_time_out_and_hold_up_nothing_else() {
        let (_silent, addr) = silent_dns().await;
        let config =
            DnsConfig { servers: vec![addr], timeout: Duration::from_secs(3), max_lookups: 256 };
        let resolver = Arc::new(Resolver::new(&config));
        let mut stuck = tokio::task::JoinSet::new();
        for n in 0..600 {
            let resolver = Arc::clone(&resolver);
            stuck.spawn(async move {
                let target = TargetAddr::Domain(format!("slow{n}.example."), 80);
                resolver.lookup(&target, Duration::from_secs(3)).await
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // localhost and addresses never wait for the DNS server.
        let started = Instant::now();
        let local = TargetAddr::Domain("localhost".into(), 80);
        assert_eq!(resolver.lookup(&local, Duration::from_secs(3)).await.unwrap().len(), 2);
        let ip = TargetAddr::Ip("192.0.2.1:80".parse().unwrap());
        assert_eq!(resolver.lookup(&ip, Duration::from_secs(3)).await.unwrap().len(), 1);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        // The stuck ones end within their limit, as time-outs.
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(done) =
            tokio::time::timeout_at(deadline, stuck.join_next()).await.expect("stuck lookups ended")
        {
            let err = done.unwrap().unwrap_err();
            assert_eq!(err.kind, RefusalKind::TimedOut, "{err}");
        }
    }
}
