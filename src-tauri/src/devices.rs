//! The Devices section's side: every change of the device list (add, edit,
//! remove, each checked naming its field). A device is named by its label:
//! its name, or its address as proxy-core writes it.

use crate::settings::{AppSettings, DeviceEntry, FieldError};

/// Adds `entry` at the end of the devices, once it is good beside them.
pub fn add(settings: &mut AppSettings, entry: DeviceEntry) -> Result<(), Vec<FieldError>> {
    let entry = entry.normalized();
    FieldError::refuse_any(settings.check_device(&entry, &settings.devices))?;
    settings.devices.push(entry);
    Ok(())
}

/// Replaces the device named `name` by `entry`, in its place (the first
/// device whose address covers a client is the one that applies), once it
/// is good beside the others.
pub fn edit(
    settings: &mut AppSettings,
    name: &str,
    entry: DeviceEntry,
) -> Result<(), Vec<FieldError>> {
    let at = position(settings, name)?;
    let entry = entry.normalized();
    let mut others = settings.devices.clone();
    others.remove(at);
    FieldError::refuse_any(settings.check_device(&entry, &others))?;
    settings.devices[at] = entry;
    Ok(())
}

/// Removes the device named `name`.
pub fn remove(settings: &mut AppSettings, name: &str) -> Result<(), Vec<FieldError>> {
    let at = position(settings, name)?;
    settings.devices.remove(at);
    Ok(())
}

fn position(settings: &AppSettings, name: &str) -> Result<usize, Vec<FieldError>> {
    let found = settings.devices.iter().position(|d| d.label() == name);
    found.ok_or_else(|| vec![FieldError::general(format!("There is no device named \"{name}\"."))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::PolicyEntry;

    fn device(name: Option<&str>, address: &str) -> DeviceEntry {
        DeviceEntry {
            name: name.map(str::to_owned),
            address: address.into(),
            policy: PolicyEntry::default(),
        }
    }

    fn labels(settings: &AppSettings) -> Vec<String> {
        settings.devices.iter().map(DeviceEntry::label).collect()
    }

    #[test]
    fn devices_are_added_edited_in_place_and_removed_by_name() {
        let mut settings = AppSettings::default();
        add(&mut settings, device(Some(" tv "), " 192.168.1.23")).unwrap();
        add(&mut settings, device(None, "192.168.1.0/24")).unwrap();
        assert_eq!(labels(&settings), ["tv", "192.168.1.0/24"]);
        assert_eq!(settings.devices[0].address, "192.168.1.23/32", "saved as proxy-core writes it");

        let limited = DeviceEntry {
            policy: PolicyEntry {
                hours: vec!["Mon-Sun 07:00-22:00".into()],
                ..PolicyEntry::default()
            },
            ..device(Some("tv"), "192.168.1.23")
        };
        edit(&mut settings, "tv", limited).unwrap();
        assert_eq!(settings.devices[0].policy.hours, ["Mon-Sun 07:00-22:00"]);
        let clash = edit(&mut settings, "tv", device(None, "192.168.1.0/24")).unwrap_err();
        assert_eq!(clash[0].field, "devices.name");
        let bad = add(&mut settings, device(Some("phone"), "phone")).unwrap_err();
        assert_eq!(bad[0].field, "devices.address");
        assert_eq!(labels(&settings), ["tv", "192.168.1.0/24"], "a refused change changes nothing");

        remove(&mut settings, "192.168.1.0/24").unwrap();
        assert_eq!(labels(&settings), ["tv"]);
        let unknown = remove(&mut settings, "radio").unwrap_err();
        assert_eq!(
            (unknown[0].field.as_str(), unknown[0].message.as_str()),
            ("general", "There is no device named \"radio\".")
        );
        assert!(settings.refusals().is_empty(), "{:?}", settings.refusals());
    }
}
