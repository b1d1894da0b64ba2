//! Checking usernames and passwords (RFC 1929).

use std::collections::HashMap;
use std::fmt;

use subtle::ConstantTimeEq;

use crate::config::User;

/// Answers "is this username and password valid?".
///
/// The server calls it on its runtime threads once per authenticating
/// client, so an implementation must answer without blocking: one backed by
/// a slow store (the OS keyring) keeps its users in memory and refreshes them
/// when they change.
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// Whether `password` is the password of `username`.
    fn verify(&self, username: &[u8], password: &[u8]) -> bool;
}

/// An in-memory table of users.
#[derive(Default, Clone)]
pub struct UserTable {
    users: HashMap<Vec<u8>, Vec<u8>>,
}

impl UserTable {
    /// A table of these users.
    pub fn new<'a>(users: impl IntoIterator<Item = &'a User>) -> Self {
        UserTable {
            users: users
                .into_iter()
                .map(|u| (u.name.as_bytes().to_vec(), u.password.as_bytes().to_vec()))
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
    fn verify(&self, username: &[u8], password: &[u8]) -> bool {
        // The comparison of the password takes the same time whatever its
        // content, so timing does not reveal how much of a guess was right.
        match self.users.get(username) {
            Some(expected) => bool::from(expected.as_slice().ct_eq(password)),
            None => {
                let _ = password.ct_eq(password);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_pair() {
        let users = [
            User { name: "alice".into(), password: "wonder".into() },
            User { name: "bob".into(), password: "builder".into() },
        ];
        let table = UserTable::new(&users);
        assert_eq!(table.len(), 2);
        assert!(table.verify(b"alice", b"wonder"));
        assert!(table.verify(b"bob", b"builder"));
        assert!(!table.verify(b"alice", b"builder"));
        assert!(!table.verify(b"alice", b"wonde"));
        assert!(!table.verify(b"alice", b""));
        assert!(!table.verify(b"carol", b"wonder"));
        assert!(!table.verify(b"", b""));
    }

    #[test]
    fn debug_shows_no_secrets() {
        let users = [User { name: "alice".into(), password: "wonder".into() }];
        let shown = format!("{:?}", UserTable::new(&users));
        assert!(!shown.contains("wonder") && !shown.contains("alice"), "{shown}");
    }
}
