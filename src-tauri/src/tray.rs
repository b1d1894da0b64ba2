//! The tray icon: its look says on or off, its tooltip the state; its menu
//! toggles the server, shows the window, copies the proxy address, quits.
//! Where the desktop has no tray host the icon is simply not shown and the
//! app works from its window.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

use crate::app::{self, AppState, Status};

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

fn build(app: &AppHandle) -> tauri::Result<TrayIcon> {
    let toggle = MenuItem::with_id(app, "toggle", "Start the proxy", true, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show window", true, None::<&str>)?;
    let copy = MenuItem::with_id(app, "copy", "Copy proxy address", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&toggle, &show, &copy, &quit])?;
    app.manage(TrayToggle(toggle));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON_OFF)?)
        .tooltip("SocksBox: stopped")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "toggle" => {
                let app = app.clone();
                tauri::async_runtime::spawn(async move { app::toggle(&app).await });
            }
            "show" => show_window(app),
            "copy" => {
                let app = app.clone();
                tauri::async_runtime::spawn(async move {
                    let status = app.state::<AppState>().inner.lock().await.status.clone();
                    let address = status
                        .share_addresses
                        .first()
                        .or(status.listening.first())
                        .map(|a| format!("socks5://{a}"));
                    if let Some(address) = address {
                        crate::commands::copy_to_clipboard(&app, &address);
                    }
                });
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)
}

/// Brings the main window forward.
pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Shows the server's state in the tray's icon, tooltip and menu.
pub fn show_status(app: &AppHandle, status: &Status) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let running = status.state == "running";
    if let Ok(icon) = Image::from_bytes(if running { ICON_ON } else { ICON_OFF }) {
        let _ = tray.set_icon(Some(icon));
    }
    let tooltip = match status.state {
        "running" => format!("SocksBox: running on {}", status.listening.join(", ")),
        "failed" => format!("SocksBox: failed: {}", status.error.as_deref().unwrap_or("")),
        _ => "SocksBox: stopped".to_owned(),
    };
    let _ = tray.set_tooltip(Some(tooltip));
    if let Some(toggle) = app.try_state::<TrayToggle>() {
        let _ = toggle.0.set_text(if running { "Stop the proxy" } else { "Start the proxy" });
    }
}

/// The menu item whose text follows the server's state.
struct TrayToggle(MenuItem<tauri::Wry>);
