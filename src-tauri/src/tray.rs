//! The tray icon: its look says on or off; its tooltip and the first line of
//! its menu say the state, the number of connections and the current rates
//! (Linux trays show no tooltips, hence the menu line); its menu toggles the
//! server, shows the window, copies the proxy address, quits. Where the
//! desktop has no tray host the icon is simply not shown and the app works
//! from its window.

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

use crate::app::{self, AppState, Status};
use crate::live::format_bytes;

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
    let stopped = Status::stopped();
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

/// What the tray says about the server.
pub struct Summary<'a> {
    pub status: &'a Status,
    pub connections: u64,
    /// Bytes per second.
    pub rate_up: u64,
    pub rate_down: u64,
}

impl Summary<'_> {
    /// One line: "Running · 3 connections · ↓ 1.2 MB/s ↑ 40 kB/s".
    pub fn line(&self) -> String {
        match self.status.state {
            "running" => format!(
                "Running · {} · ↓ {}/s ↑ {}/s",
                match self.connections {
                    1 => "1 connection".to_owned(),
                    n => format!("{n} connections"),
                },
                format_bytes(self.rate_down),
                format_bytes(self.rate_up),
            ),
            "failed" => "Failed".to_owned(),
            _ => "Stopped".to_owned(),
        }
    }

    /// The tooltip: the line, and where it listens or why it failed.
    pub fn tooltip(&self) -> String {
        match self.status.state {
            "running" => {
                format!(
                    "SocksBox: {}\nListening on {}",
                    self.line(),
                    self.status.listening.join(", ")
                )
            }
            "failed" => {
                format!("SocksBox: failed: {}", self.status.error.as_deref().unwrap_or(""))
            }
            _ => "SocksBox: stopped".to_owned(),
        }
    }
}

/// Shows the server's state in the tray's icon and menu.
pub fn show_status(app: &AppHandle, status: &Status) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let running = status.state == "running";
    if let Ok(icon) = Image::from_bytes(if running { ICON_ON } else { ICON_OFF }) {
        let _ = tray.set_icon(Some(icon));
    }
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.toggle.set_text(if running { "Stop the proxy" } else { "Start the proxy" });
    }
}

/// Shows a [`Summary`]'s line in the menu's first entry and its tooltip.
pub fn show_summary(app: &AppHandle, line: &str, tooltip: &str) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let _ = tray.set_tooltip(Some(tooltip));
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.summary.set_text(line);
    }
}

/// The menu items whose text follows the server.
struct TrayItems {
    toggle: MenuItem<tauri::Wry>,
    summary: MenuItem<tauri::Wry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &'static str) -> Status {
        Status {
            state,
            listening: vec!["127.0.0.1:1080".into()],
            share_addresses: vec![],
            error: Some("Port 1080 is in use by another program.".into()),
            open_warning: false,
        }
    }

    #[test]
    fn the_summary_names_state_connections_and_rates() {
        let running = status("running");
        let summary =
            Summary { status: &running, connections: 3, rate_up: 40_000, rate_down: 1_200_000 };
        assert_eq!(summary.line(), "Running · 3 connections · ↓ 1.2 MB/s ↑ 40 kB/s");
        assert!(summary.tooltip().ends_with("Listening on 127.0.0.1:1080"));
        let one = Summary { connections: 1, rate_up: 0, rate_down: 0, ..summary };
        assert_eq!(one.line(), "Running · 1 connection · ↓ 0 B/s ↑ 0 B/s");
        let failed = status("failed");
        let summary = Summary { status: &failed, ..one };
        assert_eq!(summary.line(), "Failed");
        assert_eq!(summary.tooltip(), "SocksBox: failed: Port 1080 is in use by another program.");
    }
}
