//! The window follows the desktop's light or dark theme.
//!
//! The page takes its colours from `prefers-color-scheme` (ui/src/style.css),
//! which each webview answers from the system:
//! - Windows (WebView2) and macOS (WKWebView) follow the system's setting by
//!   themselves;
//! - on Linux, WebKitGTK answers from GTK's `gtk-application-prefer-dark-theme`,
//!   which Tauri's window layer (tao) sets from the XDG desktop portal's
//!   `org.freedesktop.appearance color-scheme` and its `SettingChanged`
//!   signal: GNOME 42 and later, KDE Plasma and the others that run
//!   xdg-desktop-portal with a backend.
//!
//! Where no portal answers (a GNOME session without xdg-desktop-portal,
//! a minimal window manager with GNOME's settings), [`follow`] reads GNOME's
//! own settings instead, `org.gnome.desktop.interface color-scheme` (and a
//! GTK theme named `...-dark` before GNOME 42), and follows their changes
//! through GSettings' `changed` signal.

use tauri::{AppHandle, Runtime, Theme};

/// The theme GNOME's settings ask for: `color-scheme` (GNOME 42 and later:
/// `prefer-dark`, `prefer-light`, `default`), else a GTK theme whose name
/// ends in `-dark` (`Adwaita-dark`). `None`: no preference (light).
pub fn gnome_theme(color_scheme: Option<&str>, gtk_theme: Option<&str>) -> Option<Theme> {
    match color_scheme {
        Some("prefer-dark") => return Some(Theme::Dark),
        Some("prefer-light") => return Some(Theme::Light),
        _ => {}
    }
    let dark = gtk_theme.is_some_and(|name| name.to_ascii_lowercase().ends_with("-dark"));
    dark.then_some(Theme::Dark)
}

/// Starts following the desktop's theme where the window layer does not by
/// itself. Call on the main thread (the app's setup): the GSettings object
/// and its signal live on GTK's main loop.
pub fn follow<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    linux::follow(app);
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Every window of the app in `theme` (`None`: the light default).
fn apply<R: Runtime>(app: &AppHandle<R>, theme: Option<Theme>) {
    use tauri::Manager;
    for window in app.webview_windows().values() {
        if let Err(e) = window.set_theme(theme) {
            tracing::warn!("the window's theme could not be set: {e}");
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use gtk::gio::{self, prelude::*};
    use tauri::{AppHandle, Runtime};

    const SCHEMA: &str = "org.gnome.desktop.interface";

    /// Whether the desktop portal answers the color-scheme question: then
    /// the window layer follows it, and nothing is to be done here. One
    /// second at most.
    fn portal_answers() -> bool {
        let proxy = gio::DBusProxy::for_bus_sync(
            gio::BusType::Session,
            gio::DBusProxyFlags::DO_NOT_LOAD_PROPERTIES
                | gio::DBusProxyFlags::DO_NOT_CONNECT_SIGNALS,
            None,
            "org.freedesktop.portal.Desktop",
            "/org/freedesktop/portal/desktop",
            "org.freedesktop.portal.Settings",
            gio::Cancellable::NONE,
        );
        let Ok(proxy) = proxy else { return false };
        let args = ("org.freedesktop.appearance", "color-scheme").to_variant();
        proxy
            .call_sync(
                "Read",
                Some(&args),
                gio::DBusCallFlags::NO_AUTO_START,
                1000,
                gio::Cancellable::NONE,
            )
            .is_ok()
    }

    fn read(settings: &gio::Settings, schema: &gio::SettingsSchema, key: &str) -> Option<String> {
        schema.has_key(key).then(|| settings.string(key).to_string())
    }

    pub(super) fn follow<R: Runtime>(app: &AppHandle<R>) {
        if portal_answers() {
            tracing::debug!("theme: the desktop portal answers; the window follows it");
            return;
        }
        let Some(schema) =
            gio::SettingsSchemaSource::default().and_then(|s| s.lookup(SCHEMA, true))
        else {
            tracing::debug!("theme: neither the desktop portal nor GNOME's settings are here");
            return;
        };
        let settings = gio::Settings::new(SCHEMA);
        let theme_now = move |settings: &gio::Settings| {
            super::gnome_theme(
                read(settings, &schema, "color-scheme").as_deref(),
                read(settings, &schema, "gtk-theme").as_deref(),
            )
        };
        let theme = theme_now(&settings);
        tracing::info!("theme: following GNOME's settings ({theme:?} now)");
        super::apply(app, theme);
        let app = app.clone();
        settings.connect_changed(None, move |settings, key| {
            if key == "color-scheme" || key == "gtk-theme" {
                let theme = theme_now(settings);
                tracing::info!("theme: the desktop's theme is now {theme:?}");
                super::apply(&app, theme);
            }
        });
        // The signal is delivered for as long as the object lives: the app's
        // whole life.
        std::mem::forget(settings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnomes_color_scheme_decides_then_a_dark_gtk_theme() {
        assert_eq!(gnome_theme(Some("prefer-dark"), Some("Adwaita")), Some(Theme::Dark));
        assert_eq!(gnome_theme(Some("prefer-light"), Some("Adwaita-dark")), Some(Theme::Light));
        assert_eq!(gnome_theme(Some("default"), Some("Adwaita-dark")), Some(Theme::Dark));
        assert_eq!(gnome_theme(Some("default"), Some("Adwaita")), None);
        assert_eq!(gnome_theme(None, Some("Yaru-Dark")), Some(Theme::Dark));
        assert_eq!(gnome_theme(None, None), None);
        assert_eq!(gnome_theme(None, Some("darkness")), None);
    }
}
