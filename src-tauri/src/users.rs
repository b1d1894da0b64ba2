//! Users and upstream passwords in the OS keyring (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows), and the changes to the
//! user list. The settings file holds user names only. When the keyring
//! cannot be reached, every call says so and nothing is written anywhere
//! else.

use std::collections::HashMap;
use std::sync::Arc;

use proxy_core::access::Expiry;
use proxy_core::config::User;
use proxy_core::outbound::UpstreamHop;
use proxy_core::{Authenticator, UserTable};
use serde::Serialize;
use ts_rs::TS;

use crate::settings::{FieldError, PolicyEntry, UserEntry};

/// The keyring service name under which every secret is stored.
const SERVICE: &str = "socksbox";

/// A keyring failure, in words for the user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("The system keyring cannot be reached ({0}); nothing was saved.")]
pub struct KeyringError(String);

/// Why a change to the users was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Keyring(#[from] KeyringError),
    #[error("There is no user named \"{0}\".")]
    UnknownUser(String),
    #[error("There is already a user named \"{0}\".")]
    DuplicateName(String),
    #[error("\"{0}\" is not a guest pass: delete it instead.")]
    NotAGuest(String),
    #[error("The keyring holds no password for \"{0}\".")]
    NoPassword(String),
    #[error("A user name is 1 to 255 bytes long.")]
    BadName,
    #[error("A password has at least 8 characters and at most 255 bytes.")]
    BadPassword,
    #[error("The users could not be saved: {0}")]
    NotSaved(String),
}

/// What the window can tell apart in a refusal of a change to the users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum UserErrorKind {
    /// The keyring cannot be reached or is locked.
    Keyring,
    UnknownUser,
    DuplicateName,
    NotAGuest,
    NoPassword,
    BadName,
    BadPassword,
    NotSaved,
}

/// A refused change to the users, as the window gets it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UserRefusal {
    pub kind: UserErrorKind,
    pub message: String,
}

impl From<UserError> for UserRefusal {
    fn from(error: UserError) -> Self {
        let kind = match &error {
            UserError::Keyring(_) => UserErrorKind::Keyring,
            UserError::UnknownUser(_) => UserErrorKind::UnknownUser,
            UserError::DuplicateName(_) => UserErrorKind::DuplicateName,
            UserError::NotAGuest(_) => UserErrorKind::NotAGuest,
            UserError::NoPassword(_) => UserErrorKind::NoPassword,
            UserError::BadName => UserErrorKind::BadName,
            UserError::BadPassword => UserErrorKind::BadPassword,
            UserError::NotSaved(_) => UserErrorKind::NotSaved,
        };
        UserRefusal { kind, message: error.to_string() }
    }
}

/// A user as the Users page lists it: the entry, and what it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ListedUser {
    /// The name the client sends.
    pub name: String,
    /// Whether the user may log in.
    pub enabled: bool,
    /// What the user may do.
    pub policy: PolicyEntry,
    /// Whether it can log in now.
    pub state: UserState,
    /// Made as a guest pass: revoked rather than deleted.
    pub guest: bool,
}

/// Whether a user can log in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum UserState {
    /// Enabled, and not expired.
    Active,
    /// Turned off in the list.
    Disabled,
    /// Enabled, but its expiry has passed: the server refuses it, and has
    /// ended its sessions.
    Expired,
}

/// The users as the page lists them, judged at `now`.
pub fn listed(list: &[UserEntry], now: Expiry) -> Vec<ListedUser> {
    list.iter()
        .map(|user| {
            let state = if !user.enabled {
                UserState::Disabled
            } else if user.policy.expired_at(now) {
                UserState::Expired
            } else {
                UserState::Active
            };
            ListedUser {
                name: user.name.clone(),
                enabled: user.enabled,
                policy: user.policy.clone(),
                state,
                guest: user.guest,
            }
        })
        .collect()
}

/// Gives the user named `name` a policy, once it is good; the problems
/// name their fields (`policy.rateLimit`, ...).
pub fn set_policy(
    list: &mut [UserEntry],
    name: &str,
    policy: PolicyEntry,
) -> Result<(), Vec<FieldError>> {
    let policy = policy.normalized();
    FieldError::refuse_any(policy.check())?;
    let user = find(list, name).map_err(|e| vec![FieldError::general(e.to_string())])?;
    user.policy = policy;
    Ok(())
}

/// The users whose passwords are to be forgotten once the changed list is
/// saved: never before, so a failed save leaves no listed user without
/// its password.
#[must_use = "forget the passwords once the list is saved"]
pub struct Forget(Vec<String>);

impl Forget {
    /// Nothing to forget.
    const NOTHING: Forget = Forget(Vec::new());

    /// Forgets the passwords, now that the list without their users is
    /// saved.
    pub fn now(self) {
        for name in self.0 {
            if let Err(e) = delete_user_password(&name) {
                tracing::warn!(user = %name, "an unused password stays in the keyring: {e}");
            }
        }
    }

    /// The users whose passwords go.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// Which guest passes to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// The guest pass of this name.
    One(String),
    /// Every guest pass.
    All,
}

/// Adds a user with its password.
pub fn add(list: &mut Vec<UserEntry>, name: &str, password: &str) -> Result<Forget, UserError> {
    check_name(name)?;
    check_password(password)?;
    if list.iter().any(|u| u.name == name) {
        return Err(UserError::DuplicateName(name.to_owned()));
    }
    set_user_password(name, password)?;
    list.push(UserEntry::new(name));
    Ok(Forget::NOTHING)
}

/// Adds a guest pass: a user marked as one, with its password and policy
/// (its expiry and budget).
pub fn add_guest(
    list: &mut Vec<UserEntry>,
    name: &str,
    password: &str,
    policy: PolicyEntry,
) -> Result<Forget, UserError> {
    check_new_name(list, name)?;
    check_password(password)?;
    set_user_password(name, password)?;
    list.push(UserEntry { policy, guest: true, ..UserEntry::new(name) });
    Ok(Forget::NOTHING)
}

/// Removes guest passes (one by name, which must be a guest pass, or all
/// of them); their passwords go once the list is saved. Once in force,
/// the server ends their sessions (their credentials no longer hold).
pub fn revoke(list: &mut Vec<UserEntry>, which: &Revoke) -> Result<Forget, UserError> {
    if let Revoke::One(name) = which {
        if !find(list, name)?.guest {
            return Err(UserError::NotAGuest(name.clone()));
        }
    }
    let (gone, kept): (Vec<UserEntry>, Vec<UserEntry>) =
        std::mem::take(list).into_iter().partition(|u| match which {
            Revoke::One(name) => &u.name == name,
            Revoke::All => u.guest,
        });
    *list = kept;
    Ok(Forget(gone.into_iter().map(|u| u.name).collect()))
}

/// Forgets a password stored for a user the list never kept (a change
/// that failed after it was stored).
pub fn forget_stored(name: &str) {
    Forget(vec![name.to_owned()]).now();
}

/// Renames a user: its password is stored under the new name; the old
/// name's goes once the list is saved.
pub fn rename(list: &mut [UserEntry], from: &str, to: &str) -> Result<Forget, UserError> {
    check_name(to)?;
    if list.iter().any(|u| u.name == to) {
        return Err(UserError::DuplicateName(to.to_owned()));
    }
    let user = find(list, from)?;
    let password = user_password(from)?.ok_or_else(|| UserError::NoPassword(from.to_owned()))?;
    set_user_password(to, &password)?;
    user.name = to.to_owned();
    Ok(Forget(vec![from.to_owned()]))
}

/// Changes a user's password.
pub fn change_password(
    list: &mut [UserEntry],
    name: &str,
    password: &str,
) -> Result<Forget, UserError> {
    check_password(password)?;
    find(list, name)?;
    set_user_password(name, password)?;
    Ok(Forget::NOTHING)
}

/// Lets a user log in, or not.
pub fn set_enabled(list: &mut [UserEntry], name: &str, enabled: bool) -> Result<Forget, UserError> {
    find(list, name)?.enabled = enabled;
    Ok(Forget::NOTHING)
}

/// Deletes a user; its password goes once the list is saved.
pub fn delete(list: &mut Vec<UserEntry>, name: &str) -> Result<Forget, UserError> {
    let before = list.len();
    list.retain(|u| u.name != name);
    if list.len() == before {
        return Err(UserError::UnknownUser(name.to_owned()));
    }
    Ok(Forget(vec![name.to_owned()]))
}

/// Moves the passwords typed into upstream URLs to the keyring: the URLs
/// come back without them, as the settings file keeps them.
pub fn store_hop_passwords(urls: &[String]) -> Result<Vec<String>, FieldError> {
    let refused = |message: String| FieldError { field: "upstream".into(), message };
    urls.iter()
        .map(|url| {
            let mut hop: UpstreamHop = url
                .trim()
                .parse()
                .map_err(|e: proxy_core::outbound::hop::HopParseError| refused(e.to_string()))?;
            let (credentials, secret) = hop.credentials.clone().take_password();
            hop.credentials = credentials;
            if let Some(secret) = secret {
                set_hop_password(&hop, &secret).map_err(|e| refused(e.to_string()))?;
            }
            Ok(hop.to_url_with_secret())
        })
        .collect()
}

/// The stored password of an upstream hop, if any.
pub fn hop_password(hop: &UpstreamHop) -> Result<Option<String>, KeyringError> {
    read(&hop_account(hop))
}

/// The enabled users' passwords, by name, read from the keyring once (for
/// the server's configuration and authenticator, so that the server never
/// waits on the keyring). A user without one is not among them.
pub fn passwords(users: &[UserEntry]) -> Result<HashMap<String, String>, KeyringError> {
    let mut found = HashMap::new();
    for user in users.iter().filter(|u| u.enabled) {
        if let Some(password) = user_password(&user.name)? {
            found.insert(user.name.clone(), password);
        }
    }
    Ok(found)
}

/// An authenticator that admits `users` (the configuration's, read with
/// [`passwords`]) with their passwords, held as digests.
pub fn authenticator(users: &[User]) -> Arc<dyn Authenticator> {
    Arc::new(UserTable::new(users))
}

/// Checks that the keyring answers, without changing anything.
pub fn probe() -> Result<(), KeyringError> {
    read("probe").map(|_| ())
}

fn find<'a>(list: &'a mut [UserEntry], name: &str) -> Result<&'a mut UserEntry, UserError> {
    list.iter_mut().find(|u| u.name == name).ok_or_else(|| UserError::UnknownUser(name.to_owned()))
}

fn check_name(name: &str) -> Result<(), UserError> {
    if name.is_empty() || name.len() > 255 {
        return Err(UserError::BadName);
    }
    Ok(())
}

/// A name a new user may have: 1 to 255 bytes, and no listed user's.
pub fn check_new_name(list: &[UserEntry], name: &str) -> Result<(), UserError> {
    check_name(name)?;
    if list.iter().any(|u| u.name == name) {
        return Err(UserError::DuplicateName(name.to_owned()));
    }
    Ok(())
}

/// The fewest characters a user's password may have: a short one falls to
/// guessing by anyone on the network the proxy is shared with.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A new password (added or changed) has at least [`MIN_PASSWORD_CHARS`]
/// characters and, as RFC 1929 carries it, at most 255 bytes. Passwords
/// stored before the minimum keep working until they are changed.
pub fn check_password(password: &str) -> Result<(), UserError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 255 {
        return Err(UserError::BadPassword);
    }
    Ok(())
}

fn set_user_password(name: &str, password: &str) -> Result<(), KeyringError> {
    entry(&user_account(name))?.set_password(password).map_err(describe)
}

fn user_password(name: &str) -> Result<Option<String>, KeyringError> {
    read(&user_account(name))
}

fn delete_user_password(name: &str) -> Result<(), KeyringError> {
    match entry(&user_account(name))?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(e)),
    }
}

fn set_hop_password(hop: &UpstreamHop, password: &str) -> Result<(), KeyringError> {
    entry(&hop_account(hop))?.set_password(password).map_err(describe)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn users(names: &[&str]) -> Vec<UserEntry> {
        names.iter().map(|n| UserEntry::new(*n)).collect()
    }

    #[test]
    fn list_changes_that_need_no_keyring_are_checked() {
        let mut list = users(&["alice", "bob"]);
        assert!(
            matches!(set_enabled(&mut list, "carol", false), Err(UserError::UnknownUser(n)) if n == "carol")
        );
        set_enabled(&mut list, "bob", false).map(|_| ()).unwrap();
        assert!(!list[1].enabled);
        assert!(matches!(delete(&mut list, "carol"), Err(UserError::UnknownUser(_))));
        let forget = delete(&mut list, "alice").unwrap();
        assert_eq!(forget.names(), ["alice"]);
        assert_eq!(list.len(), 1);
        assert!(matches!(add(&mut list, "", "pw"), Err(UserError::BadName)));
        assert!(matches!(add(&mut list, "x", ""), Err(UserError::BadPassword)));
        assert!(matches!(add(&mut list, "x", "1234567"), Err(UserError::BadPassword)));
        assert!(matches!(change_password(&mut list, "bob", "pw"), Err(UserError::BadPassword)));
        assert!(matches!(add(&mut list, "bob", "long enough"), Err(UserError::DuplicateName(_))));
        assert!(matches!(rename(&mut list, "bob", "bob"), Err(UserError::DuplicateName(_))));
        assert!(matches!(rename(&mut list, "zed", "y"), Err(UserError::UnknownUser(_))));
    }

    #[test]
    fn revoking_takes_guest_passes_only_and_forgets_their_passwords() {
        let mut list = users(&["alice", "guest-a", "guest-b"]);
        list[1].guest = true;
        list[2].guest = true;
        let one = |name: &str| Revoke::One(name.to_owned());
        assert!(
            matches!(revoke(&mut list, &one("alice")), Err(UserError::NotAGuest(n)) if n == "alice")
        );
        assert!(matches!(revoke(&mut list, &one("zed")), Err(UserError::UnknownUser(_))));
        assert_eq!(list.len(), 3, "a refused revocation changes nothing");

        let forget = revoke(&mut list, &one("guest-a")).unwrap();
        assert_eq!(forget.names(), ["guest-a"]);
        let names = |list: &[UserEntry]| list.iter().map(|u| u.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&list), ["alice", "guest-b"]);
        let forget = revoke(&mut list, &Revoke::All).unwrap();
        assert_eq!(forget.names(), ["guest-b"]);
        assert_eq!(names(&list), ["alice"]);
        let forget = revoke(&mut list, &Revoke::All).unwrap();
        assert!(forget.names().is_empty(), "no guest passes: nothing to revoke");
        assert_eq!(
            UserError::NotAGuest("alice".into()).to_string(),
            "\"alice\" is not a guest pass: delete it instead."
        );
    }

    #[test]
    fn a_guest_pass_is_listed_as_one() {
        let mut list = users(&["alice", "guest-a"]);
        list[1].guest = true;
        let now = "2026-12-01T00:00:00Z".parse::<Expiry>().unwrap();
        let listed = listed(&list, now);
        assert_eq!((listed[0].guest, listed[1].guest), (false, true));
        assert_eq!(serde_json::to_value(&listed[1]).unwrap()["guest"], true);
        // A settings file from before guest passes reads as users that are not.
        let old: UserEntry = serde_json::from_str(r#"{ "name": "bob", "enabled": true }"#).unwrap();
        assert!(!old.guest);
    }

    #[test]
    fn a_policy_is_checked_then_set_and_the_state_follows_it() {
        let mut list = users(&["alice", "guest"]);
        let bad = PolicyEntry { rate_limit: "fast".into(), ..PolicyEntry::default() };
        let errors = set_policy(&mut list, "guest", bad).unwrap_err();
        assert_eq!(errors[0].field, "policy.rateLimit");
        assert_eq!(list[1].policy, PolicyEntry::default(), "a refused policy changes nothing");
        let unknown = set_policy(&mut list, "zed", PolicyEntry::default()).unwrap_err();
        assert_eq!(unknown[0].message, "There is no user named \"zed\".");

        let pass =
            PolicyEntry { expires: " 2026-12-24T19:00:00+01:00 ".into(), ..PolicyEntry::default() };
        set_policy(&mut list, "guest", pass).unwrap();
        assert_eq!(list[1].policy.expires, "2026-12-24T18:00:00Z", "saved as proxy-core writes it");
        list[0].enabled = false;
        let at = |t: &str| t.parse::<Expiry>().unwrap();
        let states = |now| listed(&list, now).iter().map(|u| u.state).collect::<Vec<_>>();
        assert_eq!(states(at("2026-12-24T17:00:00Z")), [UserState::Disabled, UserState::Active]);
        assert_eq!(states(at("2026-12-24T18:00:00Z")), [UserState::Disabled, UserState::Expired]);
        let json = serde_json::to_value(&listed(&list, at("2027-01-01T00:00:00Z"))[1]).unwrap();
        assert_eq!(json["state"], "expired");
        assert_eq!(json["policy"]["expires"], "2026-12-24T18:00:00Z");
    }

    #[test]
    fn a_password_has_8_characters_to_255_bytes() {
        for short in ["", "pw", "1234567", "ééééééé", "😀😀😀😀😀😀😀"] {
            assert!(matches!(check_password(short), Err(UserError::BadPassword)), "{short:?}");
        }
        // Characters, not bytes: 8 two-byte characters are enough.
        for fine in ["12345678", "éééééééé", "correct horse", &"p".repeat(255)] {
            assert!(check_password(fine).is_ok(), "{fine:?}");
        }
        assert!(matches!(check_password(&"p".repeat(256)), Err(UserError::BadPassword)));
        assert!(matches!(check_password(&"😀".repeat(64)), Err(UserError::BadPassword)));
        assert_eq!(
            UserError::BadPassword.to_string(),
            "A password has at least 8 characters and at most 255 bytes."
        );
    }

    #[test]
    fn refusals_carry_a_kind_the_window_can_tell_apart() {
        let refusal = UserRefusal::from(UserError::Keyring(KeyringError("locked".into())));
        let json = serde_json::to_value(&refusal).unwrap();
        assert_eq!(json["kind"], "keyring");
        assert!(json["message"].as_str().unwrap().contains("locked"));
        let json =
            serde_json::to_value(UserRefusal::from(UserError::UnknownUser("x".into()))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "kind": "unknownUser", "message": "There is no user named \"x\"." })
        );
    }
}
