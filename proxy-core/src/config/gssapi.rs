//! `[gssapi]`: the GSS-API method of SOCKS5 (RFC 1961), single sign-on
//! with Kerberos. The section turns the method on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{invalid, ConfigError};
use crate::protocol::gssapi::Protection;

/// The GSS-API method's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GssapiConfig {
    /// The service principal clients name (`rcmd/proxy.example.org@REALM`,
    /// RFC 1961's and curl's service, or `host/...`); none: any principal
    /// whose key is in the keytab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The keytab holding the service principal's key; none: the system's
    /// (`KRB5_KTNAME`, else `default_keytab_name` of krb5.conf, else
    /// `/etc/krb5.keytab`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keytab: Option<PathBuf>,
    /// The per-message protection levels the server accepts. It answers
    /// "none" when that is among them (curl and every program built on
    /// libcurl can do nothing else), else the client's proposal when
    /// acceptable, else the strongest listed.
    pub protection: Vec<Protection>,
    /// Which client principals may use the proxy: `"alice@EXAMPLE.ORG"`,
    /// `"@EXAMPLE.ORG"` (all of a realm) or `"*"`; empty: those of the
    /// service principal's own realm.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
}

impl Default for GssapiConfig {
    fn default() -> Self {
        GssapiConfig {
            principal: None,
            keytab: None,
            protection: Protection::ALL.to_vec(),
            allow: Vec::new(),
        }
    }
}

impl GssapiConfig {
    /// Whether `client` ("alice@EXAMPLE.ORG"), authenticated to the service
    /// principal `service` ("rcmd/proxy@EXAMPLE.ORG"), may use the proxy.
    pub fn allows(&self, client: &str, service: &str) -> bool {
        let realm_of = |name: &str| name.rsplit_once('@').map(|(_, realm)| realm.to_owned());
        if self.allow.is_empty() {
            return realm_of(client).is_some() && realm_of(client) == realm_of(service);
        }
        self.allow.iter().any(|entry| match entry.strip_prefix('@') {
            _ if entry == "*" => true,
            Some(realm) => realm_of(client).as_deref() == Some(realm),
            None => entry == client,
        })
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !cfg!(feature = "gssapi") {
            return Err(invalid(
                "gssapi",
                "(section)",
                "this build has no GSS-API support (built without the gssapi feature)",
            ));
        }
        if self.protection.is_empty() {
            return Err(invalid("gssapi.protection", "[]", "at least one level is needed"));
        }
        if let Some(principal) = &self.principal {
            if principal.is_empty() || principal.chars().any(char::is_control) {
                return Err(invalid(
                    "gssapi.principal",
                    format!("{principal:?}"),
                    "not a principal name",
                ));
            }
        }
        if let Some(keytab) = &self.keytab {
            if keytab.as_os_str().is_empty() {
                return Err(invalid("gssapi.keytab", "\"\"", "not a file name"));
            }
        }
        for entry in &self.allow {
            let bad = entry.is_empty()
                || entry.chars().any(|c| c.is_control() || c.is_whitespace())
                || (entry != "*" && !entry.contains('@'))
                || entry.ends_with('@');
            if bad {
                return Err(invalid(
                    "gssapi.allow",
                    format!("{entry:?}"),
                    "must be a principal (\"alice@EXAMPLE.ORG\"), a realm (\"@EXAMPLE.ORG\") or \"*\"",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_allowed_by_name_by_realm_or_by_the_services_realm() {
        let service = "rcmd/localhost@SOCKSBOX.TEST";
        let default = GssapiConfig::default();
        assert!(default.allows("alice@SOCKSBOX.TEST", service));
        assert!(!default.allows("mallory@ELSEWHERE.TEST", service));
        assert!(!default.allows("alice", service), "a name without a realm");
        let listed = GssapiConfig {
            allow: vec!["bob@SOCKSBOX.TEST".into(), "@PARTNER.TEST".into()],
            ..GssapiConfig::default()
        };
        assert!(listed.allows("bob@SOCKSBOX.TEST", service));
        assert!(!listed.allows("alice@SOCKSBOX.TEST", service));
        assert!(listed.allows("carol@PARTNER.TEST", service));
        assert!(!listed.allows("carol@PARTNER.TEST.EVIL", service));
        let all = GssapiConfig { allow: vec!["*".into()], ..GssapiConfig::default() };
        assert!(all.allows("anyone@ANYWHERE", service));
    }

    #[test]
    #[cfg(feature = "gssapi")]
    fn bad_values_name_their_field() {
        let with = |f: fn(&mut GssapiConfig)| {
            let mut config = GssapiConfig::default();
            f(&mut config);
            config.validate().unwrap_err().to_string()
        };
        assert!(with(|c| c.protection.clear()).starts_with("gssapi.protection = []"));
        assert!(with(|c| c.allow = vec!["alice".into()]).starts_with("gssapi.allow = \"alice\""));
        assert!(with(|c| c.allow = vec!["@".into()]).contains("gssapi.allow"));
        assert!(with(|c| c.principal = Some(String::new())).contains("gssapi.principal"));
        assert!(GssapiConfig::default().validate().is_ok());
    }
}
