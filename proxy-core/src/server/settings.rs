//! The configuration in force, with the parts derived from it once: the
//! policies, the upstream chain, the router and where passwords are
//! checked. A session loads it when it is accepted and keeps that copy, so
//! [`super::Server::apply`] changes new sessions only.

use std::sync::Arc;

use crate::auth::{Authenticator, UserTable};
use crate::config::Config;
use crate::monitor::Route;
use crate::outbound::{Resolver, RouteAction, Router, UpstreamChain};
use crate::policy::{ClientPolicy, TargetPolicy};
use crate::protocol::socks5::Command;
use crate::protocol::TargetAddr;

/// Where the users whose passwords the server checks come from.
#[derive(Debug, Clone)]
pub(super) enum Users {
    /// `config.auth.users`, rebuilt whenever a configuration is applied.
    FromConfig(Arc<UserTable>),
    /// Given by the program that embeds the server (the desktop app, from
    /// the OS keyring); kept when a configuration is applied.
    Supplied(Arc<dyn Authenticator>),
}

impl Users {
    /// The users of `config`, or the supplied ones kept.
    fn for_config(&self, config: &Config) -> Users {
        match self {
            Users::FromConfig(_) => Users::FromConfig(Arc::new(UserTable::new(&config.auth.users))),
            Users::Supplied(authenticator) => Users::Supplied(Arc::clone(authenticator)),
        }
    }
}

/// The configuration in force, with its derived parts.
#[derive(Debug)]
pub(super) struct Settings {
    pub config: Config,
    pub clients: ClientPolicy,
    pub targets: TargetPolicy,
    pub chain: UpstreamChain,
    pub router: Router,
    pub resolver: Arc<Resolver>,
    /// Whether any rate limit is set (else no session looks for one).
    pub shaped: bool,
    users: Users,
    /// The GSS-API method's credentials (`[gssapi]`), or why they could
    /// not be read.
    pub gssapi: Gssapi,
}

/// The GSS-API method's credentials, when `[gssapi]` is set, or why they
/// could not be read.
#[cfg(feature = "gssapi")]
pub(super) type Gssapi = Option<Result<Arc<crate::gssapi::Acceptor>, String>>;
/// A build without GSS-API: nothing to hold.
#[cfg(not(feature = "gssapi"))]
#[derive(Debug, Clone)]
pub(super) struct Gssapi;

/// Reads the credentials `config`'s `[gssapi]` names (its keytab).
fn read_gssapi(config: &Config) -> Gssapi {
    #[cfg(feature = "gssapi")]
    return config.gssapi.as_ref().map(|g| crate::gssapi::Acceptor::new(g).map(Arc::new));
    #[cfg(not(feature = "gssapi"))]
    {
        let _ = config;
        Gssapi
    }
}

impl Settings {
    pub fn new(config: Config, users: Users) -> Self {
        let resolver = Arc::new(Resolver::new(&config.dns));
        let gssapi = read_gssapi(&config);
        Settings::with_resolver(config, users, resolver, gssapi)
    }

    fn with_resolver(
        config: Config,
        users: Users,
        resolver: Arc<Resolver>,
        gssapi: Gssapi,
    ) -> Self {
        let shaped = config.limits.rate_limit.is_some()
            || config.auth.users.iter().any(|u| u.policy.rate_limit.is_some())
            || config.auth.policies.iter().any(|p| p.policy.rate_limit.is_some())
            || config.devices.iter().any(|d| d.policy.rate_limit.is_some());
        Settings {
            gssapi,
            shaped,
            clients: ClientPolicy::new(config.clients.allow.clone()),
            targets: TargetPolicy::new(config.targets.deny.clone(), config.targets.remote_reach()),
            chain: UpstreamChain::with_resolver(
                config.upstream.chain.clone(),
                Arc::clone(&resolver),
            )
            .with_udp_relay_anywhere(config.upstream.udp_relay_anywhere),
            router: Router::new(
                config.routing.rules.clone(),
                config.routing.private_direct,
                config.routing.default,
            ),
            config,
            resolver,
            users,
        }
    }

    /// Settings for a new configuration, keeping where users come from (and
    /// the resolver, with its cache, while the DNS settings stay the same).
    pub fn with_config(&self, config: Config) -> Self {
        let users = self.users.for_config(&config);
        if config.dns == self.config.dns {
            let resolver = Arc::clone(&self.resolver);
            // The keytab is read again: a new configuration may name
            // another, or its keys may have been renewed.
            let gssapi = read_gssapi(&config);
            Settings::with_resolver(config, users, resolver, gssapi)
        } else {
            Settings::new(config, users)
        }
    }

    /// Settings with passwords checked by `authenticator` from now on.
    pub fn with_users(&self, authenticator: Arc<dyn Authenticator>) -> Self {
        let users = Users::Supplied(authenticator);
        let resolver = Arc::clone(&self.resolver);
        // The same configuration: the credentials read for it still hold.
        let gssapi = self.gssapi.clone();
        Settings::with_resolver(self.config.clone(), users, resolver, gssapi)
    }

    /// Whether the GSS-API method is offered.
    pub fn gssapi_on(&self) -> bool {
        #[cfg(feature = "gssapi")]
        return matches!(self.gssapi, Some(Ok(_)));
        #[cfg(not(feature = "gssapi"))]
        false
    }

    /// Why the GSS-API method cannot run as configured, if it cannot.
    pub fn gssapi_error(&self) -> Option<String> {
        #[cfg(feature = "gssapi")]
        if let Some(Err(e)) = &self.gssapi {
            return Some(e.clone());
        }
        None
    }

    /// What checks passwords.
    pub fn authenticator(&self) -> &dyn Authenticator {
        match &self.users {
            Users::FromConfig(table) => table.as_ref(),
            Users::Supplied(authenticator) => authenticator.as_ref(),
        }
    }

    /// How the routing rules send `target` (through the chain only when
    /// one is set).
    pub fn route(&self, target: &TargetAddr) -> RouteAction {
        self.router.route(target, !self.chain.is_empty())
    }

    /// How a request is carried, decided once per session: CONNECT and BIND
    /// as the rules say for their target; a UDP association through the
    /// chain when one is set and the rules may send any datagram through it
    /// (each datagram is then routed on its own).
    pub fn route_request(&self, command: Command, target: &TargetAddr) -> RouteAction {
        match command {
            Command::UdpAssociate if !self.chain.is_empty() && self.router.may_use_chain() => {
                RouteAction::Chain
            }
            Command::UdpAssociate => RouteAction::Direct,
            _ => self.route(target),
        }
    }

    /// How a session carried as `action` shows in the monitor (the chain's
    /// hops without credentials).
    pub fn shown_route(&self, action: RouteAction) -> Route {
        match action {
            RouteAction::Direct => Route::Direct,
            RouteAction::Chain => {
                Route::Chain(self.chain.hops().iter().map(ToString::to_string).collect())
            }
            RouteAction::Refuse => Route::Refused,
        }
    }
}
