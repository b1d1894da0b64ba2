//! The GSS-API section (Kerberos single sign-on, RFC 1961) as the app keeps
//! it: proxy-core's `[gssapi]` with an on/off switch, the keytab and the
//! service principal as typed (empty: the system's), so the section keeps
//! its values while off. No secret is here: a keytab is a file's path.
//! proxy-core's own check (`Config::validate`, through
//! `AppSettings::refusals`) names a bad value's field (`gssapi.allow`).

use std::path::PathBuf;

use proxy_core::config::GssapiConfig;
use proxy_core::protocol::gssapi::Protection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::FieldError;

/// The GSS-API method's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct GssapiSettings {
    /// Offer the GSS-API method (and then require a login).
    pub enabled: bool,
    /// The keytab with the service principal's key; empty: the system's
    /// (`KRB5_KTNAME`, else krb5.conf's, else `/etc/krb5.keytab`).
    pub keytab: String,
    /// The service principal clients ask for (`rcmd/HOST@REALM`); empty:
    /// any principal whose key is in the keytab.
    pub principal: String,
    /// The per-message protection levels accepted.
    pub protection: Vec<ProtectionLevel>,
    /// The client principals (`alice@REALM`), realms (`@REALM`) or `*` that
    /// may log in; empty: those of the service's own realm.
    pub allow: Vec<String>,
}

impl Default for GssapiSettings {
    fn default() -> Self {
        GssapiSettings {
            enabled: false,
            keytab: String::new(),
            principal: String::new(),
            protection: ProtectionLevel::ALL.to_vec(),
            allow: Vec::new(),
        }
    }
}

/// A per-message protection level (RFC 1961 section 4.3, and none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ProtectionLevel {
    /// Authentication only: what curl and libcurl's programs can do.
    None,
    /// Every message sealed for integrity.
    Integrity,
    /// Every message sealed for integrity and confidentiality.
    Confidentiality,
    /// Integrity or confidentiality, the sender's choice per message.
    Selective,
}

impl ProtectionLevel {
    /// Every level, weakest first (proxy-core's default).
    pub const ALL: [ProtectionLevel; 4] = [
        ProtectionLevel::None,
        ProtectionLevel::Integrity,
        ProtectionLevel::Confidentiality,
        ProtectionLevel::Selective,
    ];

    fn protection(self) -> Protection {
        match self {
            ProtectionLevel::None => Protection::None,
            ProtectionLevel::Integrity => Protection::Integrity,
            ProtectionLevel::Confidentiality => Protection::Confidentiality,
            ProtectionLevel::Selective => Protection::Selective,
        }
    }
}

impl GssapiSettings {
    /// proxy-core's section, when the method is on: texts trimmed, an empty
    /// keytab or principal the system's, each level once.
    pub fn to_config(&self) -> Option<GssapiConfig> {
        if !self.enabled {
            return None;
        }
        let text = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        let mut protection: Vec<Protection> =
            self.protection.iter().map(|p| p.protection()).collect();
        protection.sort();
        protection.dedup();
        Some(GssapiConfig {
            principal: text(&self.principal),
            keytab: text(&self.keytab).map(PathBuf::from),
            protection,
            allow: self.allow.iter().filter_map(|a| text(a)).collect(),
        })
    }
}

/// What the app checks before proxy-core does: a section turned on in a
/// build without GSS-API (its own field, rather than proxy-core's words
/// about cargo features).
pub fn check(settings: &GssapiSettings) -> Vec<FieldError> {
    if settings.enabled && !proxy_core::GSSAPI_AVAILABLE {
        return vec![FieldError {
            field: "gssapi.enabled".to_owned(),
            message: "This build of the app has no GSS-API (Kerberos) support.".to_owned(),
        }];
    }
    Vec::new()
}
