//! The app's state and the actions the window and the tray share: start,
//! stop, apply settings. Every change of the server's state is announced
//! once, here: an event to the window, the tray's look, a notification.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proxy_core::{Authenticator, Config, Monitor, Server, StartError};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::Mutex as AsyncMutex;

use crate::live::Live;
use crate::settings::{AppSettings, SettingsFile};
use crate::{notify, tray, users};

/// How long open sessions may finish on their own when the server stops.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// The server's state as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// "stopped", "running" or "failed".
    pub state: &'static str,
    /// The addresses the server listens on.
    pub listening: Vec<String>,
    /// The addresses other devices use, while sharing on the LAN.
    pub share_addresses: Vec<String>,
    /// Why the server failed, in words.
    pub error: Option<String>,
    /// Sharing on the LAN without passwords.
    pub open_warning: bool,
}

impl Status {
    /// The status of a server not running.
    pub fn stopped() -> Self {
        Status {
            state: "stopped",
            listening: Vec::new(),
            share_addresses: Vec::new(),
            error: None,
            open_warning: false,
        }
    }
}

/// Everything the app keeps.
pub struct AppState {
    /// Where the settings are saved.
    pub file: SettingsFile,
    /// The directory of the log files.
    pub log_dir: std::path::PathBuf,
    /// The settings, the server and its status, changed by one action at a
    /// time.
    pub inner: AsyncMutex<Inner>,
    /// The clipboard, kept open: on X11 a copy lives as long as its owner.
    pub clipboard: Mutex<Option<arboard::Clipboard>>,
}

/// The part of the state the actions change.
pub struct Inner {
    /// The settings in force.
    pub settings: AppSettings,
    /// Why the settings file could not be used at start, if it could not.
    pub settings_warning: Option<String>,
    /// The running server.
    pub server: Option<Server>,
    /// What the window shows.
    pub status: Status,
    /// When a bad-password notification was last shown.
    pub last_auth_notice: Option<Instant>,
}

impl AppState {
    /// The state with the settings loaded from `file`.
    pub fn new(file: SettingsFile, log_dir: std::path::PathBuf) -> Self {
        let loaded = file.load();
        AppState {
            file,
            log_dir,
            inner: AsyncMutex::new(Inner {
                settings: loaded.settings,
                settings_warning: loaded.warning,
                server: None,
                status: Status::stopped(),
                last_auth_notice: None,
            }),
            clipboard: Mutex::new(None),
        }
    }
}

/// Starts the server with the settings in force (a no-op when it runs).
pub async fn start(app: &AppHandle) -> Status {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    if inner.server.is_none() {
        let launched = match prepare(&inner.settings).await {
            Ok((config, authenticator)) => launch(config, authenticator, monitor(app)).await,
            Err(reason) => Err(reason),
        };
        inner.status = match launched {
            Ok(server) => {
                let status = running_status(&server, &inner.settings);
                inner.server = Some(server);
                status
            }
            Err(reason) => Status { state: "failed", error: Some(reason), ..Status::stopped() },
        };
        announce(app, &inner);
    }
    inner.status.clone()
}

/// Stops the server (a no-op when it is stopped).
pub async fn stop(app: &AppHandle) -> Status {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    if let Some(server) = inner.server.take() {
        server.stop(STOP_GRACE).await;
        inner.status = Status::stopped();
        announce(app, &inner);
    } else if inner.status.state == "failed" {
        inner.status = Status::stopped();
        announce(app, &inner);
    }
    inner.status.clone()
}

/// Starts a stopped server, stops a running one.
pub async fn toggle(app: &AppHandle) -> Status {
    let running = app.state::<AppState>().inner.lock().await.server.is_some();
    if running {
        stop(app).await
    } else {
        start(app).await
    }
}

/// Puts new settings in force: saved first, then applied to the running
/// server (live where the server allows, by a restart when the listen
/// addresses change).
pub async fn apply_settings(app: &AppHandle, settings: AppSettings) -> Result<Status, String> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    // The user list is edited on its own page: keep the one in force, read
    // under this lock so a user added meanwhile is not lost.
    let settings = AppSettings { users: inner.settings.users.clone(), ..settings };
    state.file.save(&settings).map_err(|e| {
        format!("The settings could not be saved to {}: {e}", state.file.path().display())
    })?;
    inner.settings = settings;
    refresh_server(app, &mut inner).await;
    Ok(inner.status.clone())
}

/// Re-reads users from the keyring and the settings into the running
/// server; restarts it when that is the only way.
pub async fn refresh_server(app: &AppHandle, inner: &mut Inner) {
    let Some(server) = &inner.server else {
        return;
    };
    let outcome = match prepare(&inner.settings).await {
        Err(reason) => Err(reason),
        Ok((config, authenticator)) => match server.apply(config.clone()) {
            Ok(()) => {
                server.set_authenticator(authenticator);
                Ok(())
            }
            Err(proxy_core::ApplyError::NeedsRestart(_)) => {
                if let Some(old) = inner.server.take() {
                    old.stop(STOP_GRACE).await;
                }
                launch(config, authenticator, monitor(app)).await.map(|server| {
                    inner.server = Some(server);
                })
            }
            Err(e) => Err(e.to_string()),
        },
    };
    inner.status = match (&outcome, &inner.server) {
        (Ok(()), Some(server)) => running_status(server, &inner.settings),
        (Err(reason), _) => {
            if let Some(old) = inner.server.take() {
                old.stop(STOP_GRACE).await;
            }
            Status { state: "failed", error: Some(reason.clone()), ..Status::stopped() }
        }
        (Ok(()), None) => Status::stopped(),
    };
    announce(app, inner);
}

/// Clients were refused for a wrong password (the sampler saw the count
/// rise to `failures`): tells the user, at most once a minute.
pub fn refused_passwords(app: &AppHandle, failures: u64) {
    tracing::warn!(failures, "clients refused for a wrong password");
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let mut inner = state.inner.lock().await;
        let quiet = inner.last_auth_notice.is_none_or(|t| t.elapsed() > Duration::from_secs(60));
        if quiet && inner.settings.notifications {
            inner.last_auth_notice = Some(Instant::now());
            notify::show("A client was refused: wrong username or password.");
        }
    });
}

/// The monitor every server of this app registers its sessions in, so that
/// totals and closed sessions outlive a restart.
fn monitor(app: &AppHandle) -> Monitor {
    app.state::<Live>().monitor().clone()
}

/// The server's configuration and its users' passwords, read from the
/// keyring once, off the async workers (the keyring may wait on D-Bus).
async fn prepare(settings: &AppSettings) -> Result<(Config, Arc<dyn Authenticator>), String> {
    let settings = settings.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let authenticator = users::authenticator(&settings.users)
            .map_err(|e| format!("The passwords cannot be read from the system keyring: {e}"))?;
        let config = settings.to_config(|hop| users::hop_password(hop).ok().flatten());
        Ok((config, authenticator))
    })
    .await
    .map_err(|e| format!("The settings could not be read: {e}"))?
}

async fn launch(
    config: Config,
    authenticator: Arc<dyn Authenticator>,
    monitor: Monitor,
) -> Result<Server, String> {
    match Server::start_with_monitor(config.clone(), authenticator.clone(), monitor.clone()).await {
        Ok(server) => Ok(server),
        // A machine without IPv6 cannot listen on ::1 or ::; IPv4 alone is
        // still a working server. A port taken on IPv6 is a real conflict
        // (clients resolving localhost to ::1 would reach the other program).
        Err(StartError::Listen { addr, source })
            if addr.is_ipv6() && source.kind() != std::io::ErrorKind::AddrInUse =>
        {
            let mut v4_only = config;
            v4_only.listen.retain(SocketAddr::is_ipv4);
            Server::start_with_monitor(v4_only, authenticator, monitor)
                .await
                .map_err(|e| describe(&e))
        }
        Err(e) => Err(describe(&e)),
    }
}

fn describe(error: &StartError) -> String {
    match error {
        StartError::Listen { addr, source } if source.kind() == std::io::ErrorKind::AddrInUse => {
            format!("Port {} is in use by another program.", addr.port())
        }
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
                None => text,
            }
        }
    }
}

fn running_status(server: &Server, settings: &AppSettings) -> Status {
    let listening: Vec<String> = server.local_addrs().iter().map(ToString::to_string).collect();
    let share_addresses =
        if settings.share_on_lan { lan_addresses(settings.port) } else { Vec::new() };
    let any_user = settings.users.iter().any(|u| u.enabled);
    Status {
        state: "running",
        listening,
        share_addresses,
        error: None,
        open_warning: settings.share_on_lan && !(settings.password_required && any_user),
    }
}

/// This machine's addresses other devices on the LAN can use.
fn lan_addresses(port: u16) -> Vec<String> {
    let Ok(interfaces) = if_addrs::get_if_addrs() else {
        return Vec::new();
    };
    interfaces
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback())
        .filter(|ip| match ip {
            IpAddr::V4(_) => true,
            // Link-local IPv6 needs a zone to be usable: leave it out.
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .map(|ip| SocketAddr::new(ip, port).to_string())
        .collect()
}

fn announce(app: &AppHandle, inner: &Inner) {
    let status = &inner.status;
    let _ = app.emit("status-changed", status);
    tray::show_status(app, status);
    app.state::<Live>().set_status(app, status);
    tracing::info!(
        state = status.state,
        error = status.error.as_deref().unwrap_or(""),
        "server state"
    );
    if inner.settings.notifications {
        let message = match status.state {
            "running" => format!("The proxy is running on {}.", status.listening.join(", ")),
            "failed" => {
                format!("The proxy could not start: {}", status.error.as_deref().unwrap_or(""))
            }
            _ => "The proxy is stopped.".to_owned(),
        };
        notify::show(&message);
    }
}
