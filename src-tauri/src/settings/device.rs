//! Devices as the app keeps them: proxy-core's `[[devices]]` (an address or
//! a range, a name, a policy), with the address as the user typed it, so
//! that a bad one is refused naming its field (`devices.address`). Checked
//! here, converted in `to_config`.

use proxy_core::config::Device;
use proxy_core::policy::ClientRule;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::policy::PolicyEntry;
use super::FieldError;

/// The longest name a device may have, in characters (proxy-core's).
pub const NAME_MAX: usize = 64;

/// A device (or every device of a range) and what it may do, whoever uses
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceEntry {
    /// Shown in the log and the app; none: the address.
    #[serde(default)]
    pub name: Option<String>,
    /// An address ("192.168.1.23"), a range ("192.168.1.0/24") or "lan".
    pub address: String,
    /// What it may do.
    #[serde(default)]
    pub policy: PolicyEntry,
}

impl DeviceEntry {
    /// How the commands and proxy-core name it: its name, or its address
    /// as proxy-core writes it (`192.168.1.23/32`).
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => match self.address.trim().parse::<ClientRule>() {
                Ok(rule) => rule.to_string(),
                Err(_) => self.address.trim().to_owned(),
            },
        }
    }

    /// The same device as it is saved: the name trimmed (a blank one is no
    /// name), the address written as proxy-core writes it, the policy
    /// normalized.
    pub fn normalized(self) -> DeviceEntry {
        let name = self.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let address = match self.address.trim().parse::<ClientRule>() {
            Ok(rule) => rule.to_string(),
            Err(_) => self.address.trim().to_owned(),
        };
        DeviceEntry { name, address, policy: self.policy.normalized() }
    }

    /// proxy-core's device, or `None` when a part does not parse (the check
    /// names it).
    pub fn to_device(&self) -> Option<Device> {
        Some(Device {
            name: self.name.clone(),
            address: self.address.trim().parse().ok()?,
            policy: self.policy.to_policy()?,
        })
    }
}

/// Every problem with `entry`, each naming its field (`devices.name`,
/// `devices.address`, `policy.rateLimit`...), alone and beside `others`
/// (the rest of the devices).
pub fn check(entry: &DeviceEntry, others: &[DeviceEntry]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| {
        errors.push(FieldError { field: field.to_owned(), message });
    };
    if let Some(name) = &entry.name {
        if name.trim().is_empty()
            || name.chars().count() > NAME_MAX
            || name.chars().any(char::is_control)
        {
            err(
                "devices.name",
                format!("A device's name has 1 to {NAME_MAX} characters, without line breaks or other control characters."),
            );
        }
    }
    let label = entry.label();
    if others.iter().any(|o| o.label() == label) {
        err("devices.name", format!("There is already a device named \"{label}\"."));
    }
    if let Err(e) = entry.address.trim().parse::<ClientRule>() {
        err("devices.address", format!("{e}."));
    }
    errors.extend(entry.policy.check());
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: Option<&str>, address: &str) -> DeviceEntry {
        DeviceEntry {
            name: name.map(str::to_owned),
            address: address.into(),
            policy: PolicyEntry::default(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_device_goes_by_its_name_or_its_address() {
        assert_eq!(device(None, " 192.168.1.23 ").label(), "192.168.1.23/32");
        assert_eq!(device(None, "lan").label(), "lan");
        assert_eq!(device(Some("tv"), "192.168.1.23").label(), "tv");
        let proxy_cores = device(None, "192.168.1.0/24").to_device().unwrap();
        assert_eq!(proxy_cores.label(), device(None, "192.168.1.0/24").label());
    }

    #[test]
    fn normalizing_writes_the_address_as_proxy_core_does() {
        let d = DeviceEntry {
            name: Some("  ".into()),
            address: " 10.1.2.3 ".into(),
            policy: PolicyEntry { rate_limit: " 1 MB/s ".into(), ..PolicyEntry::default() },
        }
        .normalized();
        assert_eq!((d.name, d.address.as_str()), (None, "10.1.2.3/32"));
        assert_eq!(d.policy.rate_limit, "1 MB/s");
        assert_eq!(device(None, " nowhere ").normalized().address, "nowhere");
    }

    #[test]
    fn each_bad_field_is_named() {
        assert!(check(&device(Some("tv"), "192.168.1.23"), &[]).is_empty());
        let errors = check(&device(None, "nowhere"), &[]);
        assert_eq!(fields(&errors), ["devices.address"]);
        assert_eq!(
            errors[0].message,
            "\"nowhere\" is not \"loopback\", \"lan\", \"any\" or an address range like 192.168.1.0/24."
        );
        for name in ["a\nb", &"x".repeat(65), " "] {
            let errors = check(&device(Some(name), "lan"), &[]);
            assert_eq!(fields(&errors), ["devices.name"], "{name:?}");
        }
        let tv = device(Some("tv"), "192.168.1.23");
        assert_eq!(fields(&check(&device(Some("tv"), "192.168.1.24"), &[tv])), ["devices.name"]);
        let same = device(None, "192.168.1.23/32");
        let errors = check(&device(None, "192.168.1.23"), &[same]);
        assert_eq!(errors[0].message, "There is already a device named \"192.168.1.23/32\".");
        let limited = DeviceEntry {
            policy: PolicyEntry { quota: "lots".into(), ..PolicyEntry::default() },
            ..device(None, "lan")
        };
        assert_eq!(fields(&check(&limited, &[])), ["policy.quota"]);
        assert_eq!(limited.to_device(), None);
    }
}
