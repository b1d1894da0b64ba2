//! The Mappings section's side: every change of the mapping list (add,
//! edit, remove, start and stop, each checked naming its field), and the
//! rows the section shows, with what the running server says of each
//! mapping (`Server::mappings`).

use proxy_core::{MappingState, MappingStatus};
use serde::Serialize;
use ts_rs::TS;

use crate::settings::{AppSettings, FieldError, MappingEntry};

/// A mapping as the Mappings section shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MappingRow {
    /// Its name: the one given, or `LISTEN/PROTOCOL`; the commands name a
    /// mapping by it.
    pub name: String,
    /// The mapping as saved.
    pub mapping: MappingEntry,
    /// What it is doing.
    pub state: MappingRowState,
    /// The TCP address it listens on, with the real port.
    pub tcp: Option<String>,
    /// The UDP address it listens on.
    pub udp: Option<String>,
    /// Why its target could not be reached, the last time it could not.
    pub last_error: Option<String>,
}

/// The state of a mapping, as the section says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", content = "reason", rename_all = "camelCase")]
pub enum MappingRowState {
    /// Listening (see `tcp` and `udp`).
    Listening,
    /// Turned off.
    Stopped,
    /// On, but the proxy is not running: it listens when the proxy starts.
    ProxyStopped,
    /// Its address could not be bound: why, in words.
    Failed(String),
}

/// The rows of `entries`, with `statuses` from the running server (`None`
/// while it is not running), matched by name.
pub fn rows(entries: &[MappingEntry], statuses: Option<&[MappingStatus]>) -> Vec<MappingRow> {
    entries
        .iter()
        .map(|entry| {
            let name = entry.name();
            let status = statuses.and_then(|all| all.iter().find(|s| s.name == name));
            let state = match (entry.enabled, status.map(|s| &s.state)) {
                (false, _) => MappingRowState::Stopped,
                (true, None) => MappingRowState::ProxyStopped,
                (true, Some(MappingState::Listening)) => MappingRowState::Listening,
                (true, Some(MappingState::Stopped)) => MappingRowState::Stopped,
                (true, Some(MappingState::Failed(why))) => MappingRowState::Failed(why.clone()),
            };
            MappingRow {
                name,
                mapping: entry.clone(),
                state,
                tcp: status.and_then(|s| s.tcp).map(|a| a.to_string()),
                udp: status.and_then(|s| s.udp).map(|a| a.to_string()),
                last_error: status.and_then(|s| s.last_error.clone()),
            }
        })
        .collect()
}

/// Adds `entry` at the end of the mappings, once it is good beside them.
pub fn add(settings: &mut AppSettings, entry: MappingEntry) -> Result<(), Vec<FieldError>> {
    let entry = entry.normalized();
    FieldError::refuse_any(settings.check_mapping(&entry, &settings.mappings))?;
    settings.mappings.push(entry);
    Ok(())
}

/// Replaces the mapping named `name` by `entry`, in its place, once it is
/// good beside the others.
pub fn edit(
    settings: &mut AppSettings,
    name: &str,
    entry: MappingEntry,
) -> Result<(), Vec<FieldError>> {
    let at = position(settings, name)?;
    let entry = entry.normalized();
    let mut others = settings.mappings.clone();
    others.remove(at);
    FieldError::refuse_any(settings.check_mapping(&entry, &others))?;
    settings.mappings[at] = entry;
    Ok(())
}

/// Removes the mapping named `name`.
pub fn remove(settings: &mut AppSettings, name: &str) -> Result<(), Vec<FieldError>> {
    let at = position(settings, name)?;
    settings.mappings.remove(at);
    Ok(())
}

/// Starts (`enabled`) or stops the mapping named `name`. Starting one that
/// is on already starts it again if it failed.
pub fn set_enabled(
    settings: &mut AppSettings,
    name: &str,
    enabled: bool,
) -> Result<(), Vec<FieldError>> {
    let at = position(settings, name)?;
    settings.mappings[at].enabled = enabled;
    Ok(())
}

fn position(settings: &AppSettings, name: &str) -> Result<usize, Vec<FieldError>> {
    let found = settings.mappings.iter().position(|m| m.name() == name);
    found.ok_or_else(|| vec![FieldError::general(format!("There is no mapping named \"{name}\"."))])
}

#[cfg(test)]
mod tests {
    use proxy_core::config::{MappingProtocol, MappingRoute};

    use super::*;

    fn entry(name: &str, listen: &str) -> MappingEntry {
        MappingEntry {
            name: Some(name.into()),
            listen: listen.into(),
            target: "a.example:22".into(),
            protocol: MappingProtocol::Tcp,
            route: MappingRoute::Rules,
            enabled: true,
        }
    }

    fn names(settings: &AppSettings) -> Vec<String> {
        settings.mappings.iter().map(MappingEntry::name).collect()
    }

    #[test]
    fn mappings_are_added_edited_in_place_stopped_and_removed_by_name() {
        let mut settings = AppSettings::default();
        add(&mut settings, entry(" ssh ", " 127.0.0.1:2222")).unwrap();
        add(&mut settings, entry("web", "127.0.0.1:8080")).unwrap();
        assert_eq!(names(&settings), ["ssh", "web"]);
        assert_eq!(settings.mappings[0].listen, "127.0.0.1:2222", "saved as the server writes it");

        // Edited in place, and may keep its own address.
        edit(&mut settings, "ssh", entry("git", "127.0.0.1:2222")).unwrap();
        assert_eq!(names(&settings), ["git", "web"]);
        let clash = edit(&mut settings, "git", entry("git", "127.0.0.1:8080")).unwrap_err();
        assert_eq!(clash[0].field, "mappings.listen");
        assert_eq!(clash[0].message, "Mapping \"web\" listens on 127.0.0.1:8080 for TCP already.");
        let taken = add(&mut settings, entry("web", "127.0.0.1:8081")).unwrap_err();
        assert_eq!(taken[0].field, "mappings.name");
        assert_eq!(names(&settings), ["git", "web"], "a refused change changes nothing");

        set_enabled(&mut settings, "web", false).unwrap();
        assert!(!settings.mappings[1].enabled);
        remove(&mut settings, "git").unwrap();
        assert_eq!(names(&settings), ["web"]);
        let unknown = remove(&mut settings, "git").unwrap_err();
        assert_eq!(
            (unknown[0].field.as_str(), unknown[0].message.as_str()),
            ("general", "There is no mapping named \"git\".")
        );
        assert!(settings.validate().is_empty());
    }

    #[test]
    fn rows_say_what_the_server_says_of_each_mapping() {
        let ssh = entry("ssh", "127.0.0.1:2222");
        let off = MappingEntry { enabled: false, ..entry("off", "127.0.0.1:2223") };
        let busy = MappingEntry { name: None, ..entry("", "127.0.0.1:2224") };
        let entries = [ssh, off, busy];
        let stopped = rows(&entries, None);
        let states: Vec<&MappingRowState> = stopped.iter().map(|r| &r.state).collect();
        assert_eq!(
            states,
            [
                &MappingRowState::ProxyStopped,
                &MappingRowState::Stopped,
                &MappingRowState::ProxyStopped
            ]
        );
        assert_eq!(stopped[2].name, "127.0.0.1:2224/tcp");

        let status = |name: &str, state: MappingState| MappingStatus {
            name: name.into(),
            listen: "127.0.0.1:2222".parse().unwrap(),
            target: "a.example:22".into(),
            protocol: MappingProtocol::Tcp,
            state,
            tcp: None,
            udp: None,
            last_error: None,
        };
        let statuses = [
            MappingStatus {
                tcp: Some("127.0.0.1:2222".parse().unwrap()),
                last_error: Some("cannot reach a.example:22: connection refused".into()),
                ..status("ssh", MappingState::Listening)
            },
            status("off", MappingState::Stopped),
            status("127.0.0.1:2224/tcp", MappingState::Failed("in use".into())),
        ];
        let running = rows(&entries, Some(&statuses));
        assert_eq!(running[0].state, MappingRowState::Listening);
        assert_eq!(running[0].tcp.as_deref(), Some("127.0.0.1:2222"));
        assert_eq!(
            running[0].last_error.as_deref(),
            Some("cannot reach a.example:22: connection refused")
        );
        assert_eq!(running[1].state, MappingRowState::Stopped);
        assert_eq!(running[2].state, MappingRowState::Failed("in use".into()));
        assert_eq!(
            serde_json::to_value(&running[2].state).unwrap(),
            serde_json::json!({"kind": "failed", "reason": "in use"})
        );
        assert_eq!(
            serde_json::to_value(&running[0].state).unwrap(),
            serde_json::json!({"kind": "listening"})
        );
    }
}
