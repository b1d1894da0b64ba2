//! Checking usernames and passwords (RFC 1929).
//!
//! Passwords are compared as digests of equal length (SHA-256 of a secret
//! salt of this process and the password), in constant time, so timing
//! tells a guesser neither how much of a guess was right nor how long the
//! password is. A successful check yields a [`Credential`]: what the user
//! proved, so the server can end the sessions of a user who is removed,
//! disabled or given a new password.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::User;

/// What a successful login proved: a fingerprint of the user's password at
/// the time, equal across authenticators for the same password (within
/// this process), different after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Credential(u64);

/// Answers "is this username and password valid?".
///
/// The server calls it on its runtime threads once per authenticating
/// client, so an implementation must answer without blocking: one backed by
/// a slow store (the OS keyring) keeps its users in memory and refreshes them
/// when they change.
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// The credential `password` proves for `username`, or `None` when it
    /// is not the user's password.
    fn verify(&self, username: &[u8], password: &[u8]) -> Option<Credential>;

    /// Whether `credential` still holds for `username`: the user exists,
    /// may log in, and has the same password.
    fn still_valid(&self, username: &[u8], credential: Credential) -> bool;
}

/// An in-memory table of users.
#[derive(Default, Clone)]
pub struct UserTable {
    users: HashMap<Vec<u8>, PasswordDigest>,
}

impl UserTable {
    /// A table of these users.
    pub fn new<'a>(users: impl IntoIterator<Item = &'a User>) -> Self {
        UserTable {
            users: users
                .into_iter()
                .map(|u| (u.name.as_bytes().to_vec(), PasswordDigest::of(u.password.as_bytes())))
                .collect(),
        }
    }

    /// The number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl fmt::Debug for UserTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserTable").field("users", &self.users.len()).finish()
    }
}

impl Authenticator for UserTable {
    fn verify(&self, username: &[u8], password: &[u8]) -> Option<Credential> {
        let given = PasswordDigest::of(password);
        // An unknown user is compared too, against a digest nobody has, so
        // the time taken does not tell which names exist.
        let (expected, known) = match self.users.get(username) {
            Some(expected) => (*expected, true),
            None => (PasswordDigest::NONE, false),
        };
        let equal = bool::from(expected.0.ct_eq(&given.0));
        (equal && known).then(|| expected.credential())
    }

    fn still_valid(&self, username: &[u8], credential: Credential) -> bool {
        self.users.get(username).is_some_and(|digest| digest.credential() == credential)
    }
}

/// SHA-256 of the process's salt and a password.
#[derive(Clone, Copy, PartialEq, Eq)]
struct PasswordDigest([u8; 32]);

impl PasswordDigest {
    /// A digest no password has (the salt makes a match impossible in
    /// practice).
    const NONE: PasswordDigest = PasswordDigest([0; 32]);

    fn of(password: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(salt());
        hasher.update(password);
        PasswordDigest(hasher.finalize().into())
    }

    fn credential(self) -> Credential {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        Credential(u64::from_le_bytes(first))
    }
}

/// A random salt, made once per process: digests of passwords kept in
/// memory say nothing outside it.
fn salt() -> &'static [u8; 16] {
    static SALT: OnceLock<[u8; 16]> = OnceLock::new();
    SALT.get_or_init(|| {
        let mut salt = [0u8; 16];
        if getrandom::fill(&mut salt).is_err() {
            // No randomness from the system: still a salt of this process.
            let fallback = format!("{:?}{:?}", std::time::SystemTime::now(), std::process::id());
            let digest = Sha256::digest(fallback.as_bytes());
            salt.copy_from_slice(&digest[..16]);
        }
        salt
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> UserTable {
        let users = [User::new("alice", "wonder"), User::new("bob", "builder")];
        UserTable::new(&users)
    }

    #[test]
    fn verifies_only_the_right_pair() {
        let table = table();
        assert_eq!(table.len(), 2);
        assert!(table.verify(b"alice", b"wonder").is_some());
        assert!(table.verify(b"bob", b"builder").is_some());
        assert!(table.verify(b"alice", b"builder").is_none());
        assert!(table.verify(b"alice", b"wonde").is_none());
        assert!(table.verify(b"alice", b"wonderland").is_none());
        assert!(table.verify(b"alice", b"").is_none());
        assert!(table.verify(b"carol", b"wonder").is_none());
        assert!(table.verify(b"", b"").is_none());
    }

    #[test]
    fn credentials_hold_until_the_password_changes() {
        let credential = table().verify(b"alice", b"wonder").unwrap();
        // The same users read again (the app rebuilds its table): still good.
        assert!(table().still_valid(b"alice", credential));
        let changed = UserTable::new(&[User::new("alice", "other")]);
        assert!(!changed.still_valid(b"alice", credential));
        let removed = UserTable::new(&[User::new("bob", "builder")]);
        assert!(!removed.still_valid(b"alice", credential));
        assert_ne!(credential, table().verify(b"bob", b"builder").unwrap());
    }

    #[test]
    fn digests_have_one_length_whatever_the_password() {
        assert_eq!(PasswordDigest::of(b"").0.len(), PasswordDigest::of(&[b'x'; 255]).0.len());
        assert!(PasswordDigest::of(b"a") != PasswordDigest::of(b"b"));
    }

    #[test]
    fn debug_shows_no_secrets() {
        let users = [User::new("alice", "wonder")];
        let shown = format!("{:?}", UserTable::new(&users));
        assert!(!shown.contains("wonder") && !shown.contains("alice"), "{shown}");
    }
}
