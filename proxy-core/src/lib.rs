//! A SOCKS4, SOCKS4a and SOCKS5 server (RFC 1928, RFC 1929) as a library.
//!
//! - [`protocol`]: the wire formats as pure functions, no I/O.
//! - [`Server`]: the tokio server; start it with a [`Config`], stop it,
//!   apply a new configuration while it runs, and watch its sessions through
//!   its [`Monitor`].
// Unsafe code is refused but where a system call has no safe wrapper; each
// such place allows it, small and commented.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod auth;
pub mod config;
pub mod firewall;
#[cfg(feature = "gssapi")]
pub mod gssapi;
pub mod logsafe;
pub mod monitor;
pub mod outbound;
pub mod policy;
pub mod protect;
pub mod protocol;
pub mod quota;
pub mod refusal;
pub mod relay;
pub mod shaping;

mod server;

/// Whether this build has the GSS-API method (RFC 1961): the `gssapi`
/// feature, on by default, where MIT Kerberos's library is present.
pub const GSSAPI_AVAILABLE: bool = cfg!(feature = "gssapi");

pub use auth::{Authenticator, UserTable};
pub use config::{Config, ConfigError};
pub use monitor::{
    ClosedSession, Monitor, MonitorSnapshot, SessionSnapshot, SessionUser, Totals, UserTotals,
};
pub use refusal::{Refusal, RefusalKind};
pub use server::{
    ApplyError, Load, MappingState, MappingStatus, OwnerUse, QuotaUse, Server, ServerState,
    StartError,
};
