//! The tray icon: its look says on or off; its tooltip and the first line of
//! its menu say the state, the number of connections and the current rates
//! (Linux trays show no tooltips, hence the menu line); its menu toggles the
//! server, shows the window, copies the proxy address, quits. Where the
//! desktop has no tray host the icon is simply not shown and the app works
//! from its window.
//!
//! The tray follows two channels: the server's status (from the actions)
//! and its text (from the sampler). It calls only the actions.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};
use tokio::sync::watch;

use crate::actions;
use crate::live::TrayText;
use crate::status::{ServerStatus, Summary};

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

/// Keeps the tray's look and text in step with the status and the
/// sampler's text, for the life of the app.
pub async fn follow(
    app: AppHandle,
    mut status: watch::Receiver<ServerStatus>,
    mut text: watch::Receiver<TrayText>,
) {
    loop {
        tokio::select! {
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
    let summary = MenuItem::with_id(app, "summary", idle.line(), false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", "Start the proxy", true, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show window", true, None::<&str>)?;
    let copy = MenuItem::with_id(app, "copy", "Copy proxy address", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&summary, &toggle, &show, &copy, &quit])?;
    app.manage(TrayItems { toggle, summary });
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON_OFF)?)
        .tooltip(idle.tooltip())
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "toggle" => {
                let app = app.clone();
                tauri::async_runtime::spawn(async move { actions::toggle(&app).await });
            }
            "show" => show_window(app),
            "copy" => {
                actions::copy_proxy_address(app);
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)
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
        let _ = items.toggle.set_text(if running { "Stop the proxy" } else { "Start the proxy" });
    }
}

/// Shows the sampler's text in the menu's first entry and the tooltip.
fn show_text(app: &AppHandle, text: &TrayText) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let _ = tray.set_tooltip(Some(&text.tooltip));
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.summary.set_text(&text.line);
    }
}

/// The menu items whose text follows the server.
struct TrayItems {
    toggle: MenuItem<tauri::Wry>,
    summary: MenuItem<tauri::Wry>,
}
