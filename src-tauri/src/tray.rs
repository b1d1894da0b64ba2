//! The tray icon: its look says on or off; its tooltip and a disabled line
//! of its menu say the state in words, the number of connections and the
//! current rates ("Running on 127.0.0.1:1080 · 3 connections · ...",
//! "Stopped"; Linux trays show no tooltips, hence the menu line); its menu
//! opens the window, toggles the server, turns "Use as system proxy" on and
//! off (a check item, disabled where no supported desktop was found),
//! copies the proxy address, revokes guest passes (its Guest passes
//! submenu: each one, or all), quits. Where the desktop has no tray host
//! the icon is simply not shown and the app works from its window.
//!
//! A left click on the icon opens the window on Windows and macOS
//! (`show_menu_on_left_click(false)` and the icon's click event). On Linux
//! the icon is a StatusNotifierItem made by libappindicator (through
//! tray-icon's AppIndicator backend, the one Tauri builds), which never
//! hands a click to the app: the panel opens the menu on any click, and
//! Tauri's tray icon events are documented as unsupported there
//! (tauri-apps/tray-icon#104; libappindicator-rs#51 asks for the Activate
//! signal that libayatana-appindicator has since gained). So "Open
//! SocksBox" is the menu's first entry: on Linux a click and a click on it
//! open the window. tray-icon 0.25 also has a KSNI backend, off in Tauri's
//! build, whose Activate does give a left click.
//!
//! The tray follows four channels: the server's status, the users in force
//! and the system proxy toggle's state (from the actions) and its text
//! (from the sampler). It calls only the actions.

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};
use tokio::sync::watch;

use crate::actions;
use crate::i18n;
use crate::live::TrayText;
use crate::notify::Notifier;
use crate::settings::UserEntry;
use crate::status::{ServerStatus, Summary};
use crate::sysproxy::SystemProxyStatus;
use crate::users::Revoke;

const ICON_ON: &[u8] = include_bytes!("../../icons/tray-on.png");
const ICON_OFF: &[u8] = include_bytes!("../../icons/tray-off.png");
const TRAY_ID: &str = "main";

/// Builds the tray icon; `false` when the desktop refuses one.
pub fn create(app: &AppHandle) -> bool {
    match build(app) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("no tray icon ({e}); the app works from its window");
            false
        }
    }
}

/// What a click on one of the tray's menu entries does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    Toggle,
    /// "Use as system proxy".
    SystemProxy,
    Show,
    Copy,
    Quit,
    /// Revoke a guest pass, or all of them.
    Revoke(Revoke),
}

/// The action of the menu entry with this id, if it has one.
pub fn action_of(id: &str) -> Option<TrayAction> {
    match id {
        "toggle" => Some(TrayAction::Toggle),
        SYSTEM_PROXY_ID => Some(TrayAction::SystemProxy),
        "show" => Some(TrayAction::Show),
        "copy" => Some(TrayAction::Copy),
        "quit" => Some(TrayAction::Quit),
        REVOKE_ALL_ID => Some(TrayAction::Revoke(Revoke::All)),
        _ => id
            .strip_prefix(REVOKE_PREFIX)
            .map(|name| TrayAction::Revoke(Revoke::One(name.to_owned()))),
    }
}

/// One entry of the Guest passes submenu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestMenuEntry {
    /// A clickable entry (or a disabled line) with its id and words.
    Item {
        id: String,
        label: String,
        enabled: bool,
    },
    Separator,
}

/// The Guest passes submenu for these users: a Revoke entry per guest
/// pass, then Revoke all; a disabled line when there is none.
pub fn guest_menu(users: &[UserEntry]) -> Vec<GuestMenuEntry> {
    let guests: Vec<&UserEntry> = users.iter().filter(|u| u.guest).collect();
    if guests.is_empty() {
        return vec![GuestMenuEntry::Item {
            id: "no-guests".to_owned(),
            label: i18n::t("tray.noGuests", &[]),
            enabled: false,
        }];
    }
    let mut entries: Vec<GuestMenuEntry> = guests
        .iter()
        .map(|u| GuestMenuEntry::Item {
            id: format!("{REVOKE_PREFIX}{}", u.name),
            label: i18n::t("tray.revoke", &[("name", (&u.name).into())]),
            enabled: true,
        })
        .collect();
    entries.push(GuestMenuEntry::Separator);
    entries.push(GuestMenuEntry::Item {
        id: REVOKE_ALL_ID.to_owned(),
        label: i18n::t("tray.revokeAll", &[]),
        enabled: true,
    });
    entries
}

/// The id of the "Use as system proxy" check item.
const SYSTEM_PROXY_ID: &str = "system-proxy";

/// The id of a guest pass's Revoke entry is this and its name.
const REVOKE_PREFIX: &str = "revoke-guest:";
const REVOKE_ALL_ID: &str = "revoke-all-guests";

/// Keeps the tray's look, text, Guest passes menu and system proxy check
/// item in step with the status, the sampler's text, the users and the
/// toggle, for the life of the app.
pub async fn follow(
    app: AppHandle,
    mut status: watch::Receiver<ServerStatus>,
    mut text: watch::Receiver<TrayText>,
    mut users: watch::Receiver<Vec<UserEntry>>,
    mut system_proxy: watch::Receiver<SystemProxyStatus>,
) {
    let first = users.borrow_and_update().clone();
    show_guests(&app, &first);
    let first = system_proxy.borrow_and_update().clone();
    show_system_proxy(&app, &first);
    loop {
        tokio::select! {
            changed = system_proxy.changed() => {
                if changed.is_err() {
                    return;
                }
                let toggle = system_proxy.borrow_and_update().clone();
                show_system_proxy(&app, &toggle);
            }
            changed = users.changed() => {
                if changed.is_err() {
                    return;
                }
                let users = users.borrow_and_update().clone();
                show_guests(&app, &users);
            }
            changed = status.changed() => {
                if changed.is_err() {
                    return;
                }
                let status = status.borrow_and_update().clone();
                show_status(&app, &status);
            }
            changed = text.changed() => {
                if changed.is_err() {
                    return;
                }
                let text = text.borrow_and_update().clone();
                show_text(&app, &text);
            }
        }
    }
}

/// Brings the main window forward.
pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

fn build(app: &AppHandle) -> tauri::Result<TrayIcon> {
    let stopped = ServerStatus::Stopped;
    let idle = Summary { status: &stopped, connections: 0, rate_up: 0, rate_down: 0 };
    // "Open SocksBox" first: on Linux a click on the icon opens the menu,
    // and this entry is the one the click is after (see the module's doc).
    let show = MenuItem::with_id(app, "show", i18n::t("tray.open", &[]), true, None::<&str>)?;
    let summary = MenuItem::with_id(app, "summary", idle.line(), false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", i18n::t("tray.start", &[]), true, None::<&str>)?;
    let system_proxy = CheckMenuItem::with_id(
        app,
        SYSTEM_PROXY_ID,
        i18n::t("tray.systemProxy", &[]),
        false,
        false,
        None::<&str>,
    )?;
    let copy = MenuItem::with_id(app, "copy", i18n::t("tray.copy", &[]), true, None::<&str>)?;
    let guests = Submenu::with_id(app, "guests", i18n::t("tray.guests", &[]), true)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, "quit", i18n::t("tray.quit", &[]), true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[&show, &summary, &toggle, &system_proxy, &copy, &guests, &separator, &quit],
    )?;
    app.manage(TrayItems { show, toggle, summary, copy, guests, system_proxy, quit });
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON_OFF)?)
        .tooltip(idle.tooltip())
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_tray_icon_event(|tray, event| {
            // Never on Linux (see the module's doc).
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_window(tray.app_handle());
            }
        })
        .on_menu_event(|app, event| {
            if let Some(action) = action_of(event.id().as_ref()) {
                run(app, action);
            }
        })
        .build(app)
}

/// Does what a menu entry says.
fn run(app: &AppHandle, action: TrayAction) {
    match action {
        TrayAction::Toggle => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { actions::toggle(&app).await });
        }
        TrayAction::SystemProxy => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { toggle_system_proxy(&app).await });
        }
        TrayAction::Show => show_window(app),
        TrayAction::Copy => {
            actions::copy_proxy_address(app);
        }
        TrayAction::Quit => app.exit(0),
        TrayAction::Revoke(which) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { revoke(&app, &which).await });
        }
    }
}

/// Turns the system proxy on or off, as the Status page's switch does, and
/// says why when it could not (the tray has no window to show it in). The
/// menu toggled its check mark on the click: it is set to the state again
/// whatever happened, since a failure publishes no change.
async fn toggle_system_proxy(app: &AppHandle) {
    if let Err(why) = actions::toggle_system_proxy(app).await {
        app.state::<Notifier>().show(&why);
    }
    let now = app.state::<actions::AppState>().system_proxy_status();
    show_system_proxy(app, &now);
}

/// Revokes guest passes, as the Users page's Revoke does, and says so (the
/// tray has no window to show it in).
async fn revoke(app: &AppHandle, which: &Revoke) {
    let message = match actions::revoke_guests(app, which).await {
        Ok((names, _)) if names.is_empty() => i18n::t("tray.nothingToRevoke", &[]),
        Ok((names, _)) => revoked_text(&names),
        Err(e) => i18n::t("tray.revokeFailed", &[("reason", e.to_string().as_str().into())]),
    };
    app.state::<Notifier>().show(&message);
}

/// What revoking these guest passes is notified with.
fn revoked_text(names: &[String]) -> String {
    match names {
        [one] => i18n::t("tray.revokedOne", &[("name", one.into())]),
        many => i18n::t(
            "tray.revokedMany",
            &[("count", many.len().into()), ("names", many.join(", ").as_str().into())],
        ),
    }
}

/// Rebuilds the Guest passes submenu for these users.
fn show_guests(app: &AppHandle, users: &[UserEntry]) {
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    if let Err(e) = fill_guests(app, &items.guests, &guest_menu(users)) {
        tracing::warn!("the tray's Guest passes menu could not be rebuilt: {e}");
    }
}

fn fill_guests(
    app: &AppHandle,
    submenu: &Submenu<tauri::Wry>,
    entries: &[GuestMenuEntry],
) -> tauri::Result<()> {
    for item in submenu.items()? {
        submenu.remove(&item)?;
    }
    for entry in entries {
        let item: Box<dyn IsMenuItem<tauri::Wry>> = match entry {
            GuestMenuEntry::Item { id, label, enabled } => {
                Box::new(MenuItem::with_id(app, id.as_str(), label, *enabled, None::<&str>)?)
            }
            GuestMenuEntry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
        };
        submenu.append(item.as_ref())?;
    }
    Ok(())
}

/// Shows the server's state in the tray's icon and menu.
fn show_status(app: &AppHandle, status: &ServerStatus) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let running = status.is_running();
    if let Ok(icon) = Image::from_bytes(if running { ICON_ON } else { ICON_OFF }) {
        let _ = tray.set_icon(Some(icon));
    }
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.toggle.set_text(toggle_label(running));
    }
}

/// Shows the system proxy toggle's state in its check item: checked while
/// on, usable only where a supported desktop was found.
fn show_system_proxy(app: &AppHandle, toggle: &SystemProxyStatus) {
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.system_proxy.set_enabled(toggle.desktop.is_some());
        let _ = items.system_proxy.set_checked(toggle.on);
    }
}

/// Shows the sampler's text in the menu's state line and the tooltip.
fn show_text(app: &AppHandle, text: &TrayText) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let _ = tray.set_tooltip(Some(&text.tooltip));
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.summary.set_text(&text.line);
    }
}

/// The menu items whose text follows the server, the Guest passes
/// submenu, which follows the users, and the system proxy check item.
struct TrayItems {
    show: MenuItem<tauri::Wry>,
    toggle: MenuItem<tauri::Wry>,
    summary: MenuItem<tauri::Wry>,
    copy: MenuItem<tauri::Wry>,
    guests: Submenu<tauri::Wry>,
    system_proxy: CheckMenuItem<tauri::Wry>,
    quit: MenuItem<tauri::Wry>,
}

/// The Start/Stop entry's words.
fn toggle_label(running: bool) -> String {
    if running {
        i18n::t("tray.stop", &[])
    } else {
        i18n::t("tray.start", &[])
    }
}

/// Says the menu again in the language now in force (the setting changed):
/// its fixed entries, the Start/Stop entry, the state line and tooltip, and
/// the Guest passes submenu.
pub fn relabel(app: &AppHandle, users: &[UserEntry]) {
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    let state = app.state::<actions::AppState>();
    let status = state.status();
    let _ = items.show.set_text(i18n::t("tray.open", &[]));
    let _ = items.toggle.set_text(toggle_label(status.is_running()));
    let _ = items.system_proxy.set_text(i18n::t("tray.systemProxy", &[]));
    let _ = items.copy.set_text(i18n::t("tray.copy", &[]));
    let _ = items.guests.set_text(i18n::t("tray.guests", &[]));
    let _ = items.quit.set_text(i18n::t("tray.quit", &[]));
    show_guests(app, users);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users;

    fn guest(name: &str) -> UserEntry {
        UserEntry { guest: true, ..UserEntry::new(name) }
    }

    fn ids(entries: &[GuestMenuEntry]) -> Vec<&str> {
        entries
            .iter()
            .map(|e| match e {
                GuestMenuEntry::Item { id, .. } => id.as_str(),
                GuestMenuEntry::Separator => "-",
            })
            .collect()
    }

    #[test]
    fn the_guest_passes_menu_lists_each_guest_pass_and_revoke_all() {
        let users = [UserEntry::new("alice"), guest("guest-ab12"), guest("visitor")];
        let menu = guest_menu(&users);
        assert_eq!(
            ids(&menu),
            ["revoke-guest:guest-ab12", "revoke-guest:visitor", "-", "revoke-all-guests"],
            "alice is no guest pass"
        );
        assert_eq!(
            menu[0],
            GuestMenuEntry::Item {
                id: "revoke-guest:guest-ab12".into(),
                label: "Revoke guest-ab12".into(),
                enabled: true
            }
        );
        assert!(
            matches!(&menu[3], GuestMenuEntry::Item { label, enabled: true, .. } if label == "Revoke all guest passes")
        );

        let none = guest_menu(&[UserEntry::new("alice")]);
        assert_eq!(
            none,
            [GuestMenuEntry::Item {
                id: "no-guests".into(),
                label: "No guest passes".into(),
                enabled: false
            }]
        );
        assert_eq!(action_of("no-guests"), None, "the disabled line does nothing");
    }

    #[test]
    fn each_entry_leads_to_its_action() {
        assert_eq!(action_of("toggle"), Some(TrayAction::Toggle));
        assert_eq!(action_of("system-proxy"), Some(TrayAction::SystemProxy));
        assert_eq!(action_of("show"), Some(TrayAction::Show));
        assert_eq!(action_of("quit"), Some(TrayAction::Quit));
        assert_eq!(action_of("summary"), None);
        // A name with the separator's characters in it is still one name.
        assert_eq!(
            action_of("revoke-guest:guest:odd name"),
            Some(TrayAction::Revoke(Revoke::One("guest:odd name".into())))
        );
        assert_eq!(action_of("revoke-all-guests"), Some(TrayAction::Revoke(Revoke::All)));
    }

    /// What the tray's Revoke entries do to the users, through the change
    /// the action makes (actions::revoke_guests runs users::revoke inside
    /// change_users); the server's side is actions' test.
    #[test]
    fn a_revoke_entry_removes_that_guest_pass_and_revoke_all_every_one() {
        let mut list = vec![UserEntry::new("alice"), guest("guest-ab12"), guest("visitor")];
        let entries = guest_menu(&list);
        let GuestMenuEntry::Item { id, .. } = &entries[0] else { panic!("an item first") };
        let Some(TrayAction::Revoke(which)) = action_of(id) else { panic!("{id} revokes nothing") };
        let forget = users::revoke(&mut list, &which).unwrap();
        assert_eq!(forget.names(), ["guest-ab12"]);
        assert_eq!(ids(&guest_menu(&list)), ["revoke-guest:visitor", "-", "revoke-all-guests"]);

        let Some(TrayAction::Revoke(all)) = action_of("revoke-all-guests") else { panic!() };
        let forget = users::revoke(&mut list, &all).unwrap();
        assert_eq!(forget.names(), ["visitor"]);
        assert_eq!(list, [UserEntry::new("alice")]);
        assert_eq!(ids(&guest_menu(&list)), ["no-guests"]);
    }

    #[test]
    fn a_revocation_is_said_in_words() {
        assert_eq!(
            revoked_text(&["guest-ab12".into()]),
            "Guest pass guest-ab12 revoked: it can no longer sign in, and its connections ended."
        );
        assert!(
            revoked_text(&["a".into(), "b".into()]).starts_with("2 guest passes revoked (a, b)")
        );
    }
}
