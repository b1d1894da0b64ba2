//! Users and upstream passwords in the OS keyring (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows). The settings file holds
//! user names only. When the keyring cannot be reached, every call says so
//! and nothing is written anywhere else.

use std::sync::Arc;

use proxy_core::config::User;
use proxy_core::outbound::UpstreamHop;
use proxy_core::{Authenticator, UserTable};

use crate::settings::UserEntry;

/// The keyring service name under which every secret is stored.
const SERVICE: &str = "socksbox";

/// A keyring failure, in words for the user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("The system keyring cannot be reached ({0}); nothing was saved.")]
pub struct KeyringError(String);

/// Stores `password` for user `name`.
pub fn set_user_password(name: &str, password: &str) -> Result<(), KeyringError> {
    entry(&user_account(name))?.set_password(password).map_err(describe)
}

/// The password of user `name`, if one is stored.
pub fn user_password(name: &str) -> Result<Option<String>, KeyringError> {
    read(&user_account(name))
}

/// Forgets the password of user `name`.
pub fn delete_user_password(name: &str) -> Result<(), KeyringError> {
    match entry(&user_account(name))?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(e)),
    }
}

/// Stores the password of an upstream hop (keyed by its user, host and port).
pub fn set_hop_password(hop: &UpstreamHop, password: &str) -> Result<(), KeyringError> {
    entry(&hop_account(hop))?.set_password(password).map_err(describe)
}

/// The stored password of an upstream hop, if any.
pub fn hop_password(hop: &UpstreamHop) -> Result<Option<String>, KeyringError> {
    read(&hop_account(hop))
}

/// An authenticator holding the enabled users' passwords in memory, read
/// from the keyring once, so the server never waits on the keyring.
pub fn authenticator(users: &[UserEntry]) -> Result<Arc<dyn Authenticator>, KeyringError> {
    let mut table = Vec::new();
    for user in users.iter().filter(|u| u.enabled) {
        if let Some(password) = user_password(&user.name)? {
            table.push(User { name: user.name.clone(), password });
        }
    }
    Ok(Arc::new(UserTable::new(&table)))
}

/// Checks that the keyring answers, without changing anything.
pub fn probe() -> Result<(), KeyringError> {
    read("probe").map(|_| ())
}

fn user_account(name: &str) -> String {
    format!("user:{name}")
}

fn hop_account(hop: &UpstreamHop) -> String {
    let user = hop.credentials.user().unwrap_or("");
    format!("upstream:{user}@{hop}")
}

fn entry(account: &str) -> Result<keyring::Entry, KeyringError> {
    keyring::Entry::new(SERVICE, account).map_err(describe)
}

fn read(account: &str) -> Result<Option<String>, KeyringError> {
    match entry(account)?.get_password() {
        Ok(password) => Ok(Some(password)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(describe(e)),
    }
}

fn describe(error: keyring::Error) -> KeyringError {
    KeyringError(error.to_string())
}
