//! Users and devices with their policies: `[[auth.users]]` (a name, a
//! password and a [`Policy`]) and `[[devices]]` (an address or range and a
//! [`Policy`]), the policy's keys written beside the others.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{invalid, ConfigError};
use crate::access::{CommandName, Expiry, Hours, Policy, Quota, Rate, TargetPattern};
use crate::policy::ClientRule;

/// A user name and password, and what the user may do.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "UserEntry")]
pub struct User {
    /// The name the client sends.
    pub name: String,
    /// The password the client sends.
    pub password: String,
    /// What this user may do (on top of the server's rules).
    #[serde(flatten)]
    pub policy: Policy,
}

impl User {
    /// A user without a policy of its own.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> User {
        User { name: name.into(), password: password.into(), policy: Policy::default() }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"<hidden>")
            .field("policy", &self.policy)
            .finish()
    }
}

/// What a user whose password the server does not hold may do: the
/// desktop app keeps passwords in the OS keyring, checks them with its own
/// authenticator, and gives the server only this (`[[auth.policies]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "UserPolicyEntry")]
pub struct UserPolicy {
    /// The user's name.
    pub name: String,
    /// What the user may do.
    #[serde(flatten)]
    pub policy: Policy,
}

/// A device (or every device of a range) and what it may do, whoever logs
/// in from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "DeviceEntry")]
pub struct Device {
    /// Shown in the log and the app; by default the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The device's address, a range (`"192.168.1.0/24"`), or `"lan"`.
    pub address: ClientRule,
    /// What it may do.
    #[serde(flatten)]
    pub policy: Policy,
}

impl Device {
    /// Its name, or its address.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.address.to_string())
    }
}

/// A policy's keys, written beside the entry's own (serde's `flatten`
/// would lose the key and the line of a bad value, and could not refuse an
/// unknown key), so each entry lists them.
macro_rules! policy_entry {
    ($(#[$meta:meta])* struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $type:ty,)* }) => {
        $(#[$meta])*
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            $($(#[$fmeta])* $field: $type,)*
            #[serde(default)]
            rate_limit: Option<Rate>,
            #[serde(default)]
            quota: Option<Quota>,
            #[serde(default)]
            hours: Vec<Hours>,
            #[serde(default)]
            commands: Option<Vec<CommandName>>,
            #[serde(default)]
            allow_targets: Option<Vec<TargetPattern>>,
            #[serde(default)]
            deny_targets: Vec<TargetPattern>,
            #[serde(default)]
            max_sessions: Option<usize>,
            #[serde(default)]
            expires: Option<Expiry>,
        }

        impl $name {
            fn policy(&self) -> Policy {
                Policy {
                    rate_limit: self.rate_limit,
                    quota: self.quota,
                    hours: self.hours.clone(),
                    commands: self.commands.clone(),
                    allow_targets: self.allow_targets.clone(),
                    deny_targets: self.deny_targets.clone(),
                    max_sessions: self.max_sessions,
                    expires: self.expires,
                }
            }
        }
    };
}

policy_entry! {
    /// What a `[[auth.users]]` table holds.
    struct UserEntry {
        name: String,
        password: String,
    }
}

impl From<UserEntry> for User {
    fn from(entry: UserEntry) -> Self {
        let policy = entry.policy();
        User { name: entry.name, password: entry.password, policy }
    }
}

policy_entry! {
    /// What a `[[auth.policies]]` table holds.
    struct UserPolicyEntry {
        name: String,
    }
}

impl From<UserPolicyEntry> for UserPolicy {
    fn from(entry: UserPolicyEntry) -> Self {
        let policy = entry.policy();
        UserPolicy { name: entry.name, policy }
    }
}

policy_entry! {
    /// What a `[[devices]]` table holds.
    struct DeviceEntry {
        #[serde(default)]
        name: Option<String>,
        address: ClientRule,
    }
}

impl From<DeviceEntry> for Device {
    fn from(entry: DeviceEntry) -> Self {
        let policy = entry.policy();
        Device { name: entry.name, address: entry.address, policy }
    }
}

/// Checks what a policy's types cannot: at least one session, commands and
/// allowed destinations not listed empty (which would refuse everything;
/// say so with `max_sessions` or `expires` instead).
/// `fields` names the table's `max_sessions`, `commands` and
/// `allow_targets`.
pub(super) fn validate_policy(
    whose: &str,
    fields: [&'static str; 3],
    policy: &Policy,
) -> Result<(), ConfigError> {
    // Parsed and checked, but not applied yet: refused rather than
    // ignored, so that nobody counts on a limit that does not hold.
    if policy.max_sessions == Some(0) {
        return Err(invalid(fields[0], format!("0 (of {whose})"), "must be at least 1"));
    }
    if policy.commands.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid(fields[1], format!("[] (of {whose})"), "would allow no command"));
    }
    if policy.allow_targets.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid(
            fields[2],
            format!("[] (of {whose})"),
            "would allow no destination; leave it out to allow every one",
        ));
    }
    Ok(())
}

/// Checks the policies given by name: names of 1 to 255 bytes, each once,
/// and none that is also in `auth.users` (which would say two things).
pub(super) fn validate_user_policies(
    policies: &[UserPolicy],
    users: &[&str],
) -> Result<(), ConfigError> {
    for (i, entry) in policies.iter().enumerate() {
        let name = &entry.name;
        if name.is_empty() || name.len() > 255 {
            return Err(invalid("auth.policies.name", name, "must be 1 to 255 bytes"));
        }
        if users.contains(&name.as_str()) {
            return Err(invalid(
                "auth.policies.name",
                name,
                "is also in auth.users: give its policy there",
            ));
        }
        if policies[..i].iter().any(|p| p.name == *name) {
            return Err(invalid("auth.policies.name", name, "the name is listed twice"));
        }
        let fields =
            ["auth.policies.max_sessions", "auth.policies.commands", "auth.policies.allow_targets"];
        validate_policy(&format!("user {name}"), fields, &entry.policy)?;
    }
    Ok(())
}

/// Checks the devices: names, and a policy each.
pub(super) fn validate_devices(devices: &[Device]) -> Result<(), ConfigError> {
    for (i, device) in devices.iter().enumerate() {
        if let Some(name) = &device.name {
            if name.trim().is_empty()
                || name.chars().count() > 64
                || name.chars().any(char::is_control)
            {
                return Err(invalid(
                    "devices.name",
                    name.escape_debug(),
                    "must be 1 to 64 characters, without control characters",
                ));
            }
        }
        if devices[..i].iter().any(|d| d.label() == device.label()) {
            return Err(invalid("devices.name", device.label(), "two devices have this name"));
        }
        let fields = ["devices.max_sessions", "devices.commands", "devices.allow_targets"];
        validate_policy(&format!("device {}", device.label()), fields, &device.policy)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::access::CommandName;
    use crate::Config;

    #[test]
    fn users_and_devices_read_with_their_policies() {
        let config = Config::from_toml(
            r#"
            [[auth.users]]
            name = "guest"
            password = "guest password"
            commands = ["connect"]
            max_sessions = 16

            [[auth.users]]
            name = "alice"
            password = "alice password"

            [[devices]]
            address = "192.168.1.23/32"
            hours = ["Mon-Sun 07:00-22:00"]

            [[devices]]
            name = "guests"
            address = "lan"
            "#,
        )
        .unwrap();
        let guest = &config.auth.users[0];
        assert_eq!(guest.policy.commands, Some(vec![CommandName::Connect]));
        assert!(config.auth.users[1].policy.is_empty());
        assert_eq!(config.devices[0].label(), "192.168.1.23/32");
        assert_eq!(config.devices[1].label(), "guests");
        assert!(config.auth.required, "users listed make passwords required");
        assert_eq!(Config::from_toml(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn every_bad_policy_value_names_its_key_and_value() {
        for (key, value, shown) in [
            ("rate_limit", "\"fast\"", "fast"),
            ("quota", "\"5 GB/year\"", "year"),
            ("hours", "[\"Someday 10:00-11:00\"]", "Someday"),
            ("commands", "[\"jump\"]", "jump"),
            ("allow_targets", "[\"exa mple.org\"]", "exa mple.org"),
            ("deny_targets", "[\"[::1\"]", "[::1"),
            ("max_sessions", "-1", "-1"),
            ("expires", "\"tomorrow\"", "tomorrow"),
        ] {
            for table in
                ["[[auth.users]]\nname = \"a\"\npassword = \"b\"", "[[devices]]\naddress = \"lan\""]
            {
                let text = format!("{table}\n{key} = {value}\n");
                let error = Config::from_toml(&text).unwrap_err().to_string();
                assert!(error.contains(key), "{text}: {error}");
                assert!(error.contains(shown), "{text}: {error}");
                assert!(error.contains("line 3") || error.contains("line 4"), "{text}: {error}");
            }
        }
    }

    #[test]
    fn policies_by_name_read_and_are_checked() {
        let config =
            Config::from_toml("[[auth.policies]]\nname = \"guest\"\ncommands = [\"connect\"]\n")
                .unwrap();
        assert_eq!(config.auth.policies[0].name, "guest");
        assert_eq!(config.auth.policies[0].policy.commands, Some(vec![CommandName::Connect]));
        assert!(!config.auth.required, "policies alone do not require passwords");
        assert_eq!(Config::from_toml(&config.to_toml()).unwrap(), config);
        for (text, field) in [
            ("[[auth.policies]]\nname = \"\"\n", "auth.policies.name"),
            (
                "[[auth.policies]]\nname = \"a\"\n[[auth.policies]]\nname = \"a\"\n",
                "auth.policies.name",
            ),
            (
                "[[auth.users]]\nname = \"a\"\npassword = \"b\"\n[[auth.policies]]\nname = \"a\"\n",
                "auth.policies.name",
            ),
            ("[[auth.policies]]\nname = \"a\"\nmax_sessions = 0\n", "auth.policies.max_sessions"),
        ] {
            let error = Config::from_toml(text).unwrap_err().to_string();
            assert!(error.contains(field), "{text}: {error}");
        }
    }

    #[test]
    fn passwords_stay_optional_when_the_file_says_so() {
        let config = Config::from_toml(
            "[auth]\nrequired = false\n[[auth.users]]\nname = \"a\"\npassword = \"b\"\n",
        )
        .unwrap();
        assert!(!config.auth.required);
        assert!(!Config::from_toml("[auth]\n").unwrap().auth.required, "no users, no passwords");
    }

    #[test]
    fn unknown_and_bad_policy_keys_are_named() {
        let error = Config::from_toml(
            "[[auth.users]]\nname = \"a\"\npassword = \"b\"\nrate_limt = \"1 MB/s\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("rate_limt"), "{error}");
        let error = Config::from_toml(
            "[[auth.users]]\nname = \"a\"\npassword = \"b\"\nhours = [\"Someday 10:00-11:00\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("Someday"), "{error}");
        let error = Config::from_toml("[[devices]]\naddress = \"lan\"\nmax_sessions = 0\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("devices.max_sessions"), "{error}");
        let error =
            Config::from_toml("[[devices]]\naddress = \"nowhere\"\n").unwrap_err().to_string();
        assert!(error.contains("nowhere"), "{error}");
    }
}
