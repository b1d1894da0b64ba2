//! The app's state and the actions the window and the tray share: start,
//! stop, toggle, apply settings, change the users or the port mappings,
//! copy the proxy address.
//! Every change of the server's state is published once, here, on the
//! status channel (a `tokio::sync::watch`), which the window's event, the
//! tray and the sampler follow; and logged and notified.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use proxy_core::{Authenticator, Config, Monitor, Server, StartError};
use tauri::{AppHandle, Manager};
use tokio::sync::watch;
use tokio::sync::Mutex as AsyncMutex;

use crate::clipboard::Clipboard;
use crate::mappings::{self, MappingRow};
use crate::notify::Notifier;
use crate::settings::{AppSettings, FieldError, Outside, SettingsFile, UserEntry};
use crate::status::ServerStatus;
use crate::users::{self, Forget, UserError};

/// How long open sessions may finish on their own when the server stops.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// Everything the app keeps.
pub struct AppState {
    /// Where the settings are saved.
    pub file: SettingsFile,
    /// The directory of the log files.
    pub log_dir: PathBuf,
    /// Where the server keeps what must outlive it (the quota counts, in
    /// `quota.toml`): the settings' folder, which is this user's alone.
    pub state_dir: PathBuf,
    /// The settings and the server, changed by one action at a time.
    pub inner: AsyncMutex<Inner>,
    /// The monitor every server of this app registers its sessions in, so
    /// that totals and closed sessions outlive a restart.
    pub monitor: Monitor,
    status: watch::Sender<ServerStatus>,
}

/// The part of the state the actions change.
pub struct Inner {
    /// The settings in force.
    pub settings: AppSettings,
    /// Why the settings file could not be used at start, if it could not.
    pub settings_warning: Option<String>,
    /// The running server.
    server: Option<Server>,
}

impl AppState {
    /// The state with the settings loaded from `file`, its sessions
    /// registered in `monitor`.
    pub fn new(file: SettingsFile, log_dir: PathBuf, monitor: Monitor) -> Self {
        let loaded = file.load();
        AppState {
            state_dir: file.dir().to_path_buf(),
            file,
            log_dir,
            inner: AsyncMutex::new(Inner {
                settings: loaded.settings,
                settings_warning: loaded.warning,
                server: None,
            }),
            monitor,
            status: watch::Sender::new(ServerStatus::Stopped),
        }
    }

    /// The status now.
    pub fn status(&self) -> ServerStatus {
        self.status.borrow().clone()
    }

    /// Every status from now on.
    pub fn subscribe(&self) -> watch::Receiver<ServerStatus> {
        self.status.subscribe()
    }
}

/// Starts the server with the settings in force (a no-op when it runs).
pub async fn start(app: &AppHandle) -> ServerStatus {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    if inner.server.is_none() {
        let launched = match prepare(&inner.settings, &state.state_dir).await {
            Ok((config, authenticator)) => {
                launch(config, authenticator, state.monitor.clone()).await
            }
            Err(reason) => Err(reason),
        };
        let status = match launched {
            Ok(server) => {
                let status = running_status(&server, &inner.settings);
                inner.server = Some(server);
                status
            }
            Err(error) => ServerStatus::Failed { error },
        };
        publish(app, status);
    }
    state.status()
}

/// Stops the server (a no-op when it is stopped).
pub async fn stop(app: &AppHandle) -> ServerStatus {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    if let Some(server) = inner.server.take() {
        server.stop(STOP_GRACE).await;
        publish(app, ServerStatus::Stopped);
    } else if matches!(state.status(), ServerStatus::Failed { .. }) {
        publish(app, ServerStatus::Stopped);
    }
    state.status()
}

/// Starts a stopped server, stops a running one.
pub async fn toggle(app: &AppHandle) -> ServerStatus {
    let running = app.state::<AppState>().inner.lock().await.server.is_some();
    if running {
        stop(app).await
    } else {
        start(app).await
    }
}

/// Copies the address a program should use (`socks5://ADDRESS`) to the
/// clipboard; `false` when the server is not running or there is no
/// clipboard.
pub fn copy_proxy_address(app: &AppHandle) -> bool {
    let status = app.state::<AppState>().status();
    status
        .proxy_address()
        .is_some_and(|address| app.state::<Clipboard>().copy(&format!("socks5://{address}")))
}

/// Puts new settings in force: checked and saved first, then applied to the
/// running server (live where the server allows, by a restart when the
/// listen addresses change). The users and the mappings are edited in their
/// own sections: those in force are kept. The settings in force come back.
pub async fn apply_settings(
    app: &AppHandle,
    settings: AppSettings,
) -> Result<(AppSettings, ServerStatus), Vec<FieldError>> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    // Read under this lock, so a user, a mapping or a device added meanwhile
    // is not lost.
    let settings = AppSettings {
        users: inner.settings.users.clone(),
        mappings: inner.settings.mappings.clone(),
        devices: inner.settings.devices.clone(),
        ..settings
    };
    FieldError::refuse_any(settings.refusals())?;
    state.file.save(&settings).map_err(|e| {
        let path = state.file.path().display();
        vec![FieldError::general(format!("The settings could not be saved to {path}: {e}"))]
    })?;
    app.state::<Notifier>().set_enabled(settings.notifications);
    inner.settings = settings.clone();
    refresh_server(app, &mut inner).await;
    Ok((settings, state.status()))
}

/// Changes the port mappings with `change` (one of the `mappings`
/// functions), checks the settings as a whole, saves them and puts them in
/// force: the running server starts, stops or restarts the mappings that
/// changed at once. The rows after the change come back.
pub async fn change_mappings(
    app: &AppHandle,
    change: impl FnOnce(&mut AppSettings) -> Result<(), Vec<FieldError>>,
) -> Result<Vec<MappingRow>, Vec<FieldError>> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let mut settings = inner.settings.clone();
    change(&mut settings)?;
    commit(app, &mut inner, settings, "mappings").await?;
    Ok(rows_of(&inner).await)
}

/// Changes the settings of one section (a user's policy, the devices) with
/// `change`, checks them as a whole, saves them and puts them in force at
/// once: the running server applies the change to new sessions, and ends
/// those it no longer allows. `what` names the section in a failure to
/// save; `answer` reads the settings after the change.
pub async fn change_settings<R>(
    app: &AppHandle,
    what: &str,
    change: impl FnOnce(&mut AppSettings) -> Result<(), Vec<FieldError>>,
    answer: impl FnOnce(&AppSettings) -> R,
) -> Result<R, Vec<FieldError>> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let mut settings = inner.settings.clone();
    change(&mut settings)?;
    commit(app, &mut inner, settings, what).await?;
    Ok(answer(&inner.settings))
}

/// The port mappings, with what the running server says of each.
pub async fn mapping_rows(app: &AppHandle) -> Vec<MappingRow> {
    let state = app.state::<AppState>();
    let inner = state.inner.lock().await;
    rows_of(&inner).await
}

/// Changes the user list with `change` (one of the `users` functions),
/// saves it, forgets a password the change freed, and puts the users in
/// force; the list after the change comes back.
pub async fn change_users(
    app: &AppHandle,
    change: impl FnOnce(&mut Vec<UserEntry>) -> Result<Forget, UserError>,
) -> Result<Vec<UserEntry>, UserError> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let mut settings = inner.settings.clone();
    let forget = change(&mut settings.users)?;
    state.file.save(&settings).map_err(|e| UserError::NotSaved(e.to_string()))?;
    forget.now();
    inner.settings = settings;
    refresh_server(app, &mut inner).await;
    Ok(inner.settings.users.clone())
}

/// Re-reads users from the keyring and the settings into the running
/// server; restarts it when that is the only way. The status is published
/// when it changed (a change of users or mappings alone leaves it, and
/// notifies nobody).
async fn refresh_server(app: &AppHandle, inner: &mut Inner) {
    let Some(server) = &inner.server else {
        return;
    };
    let state_dir = app.state::<AppState>().state_dir.clone();
    let outcome = match prepare(&inner.settings, &state_dir).await {
        Err(reason) => Err(reason),
        Ok((config, authenticator)) => match server.apply(config.clone()).await {
            Ok(()) => {
                server.set_authenticator(authenticator);
                Ok(())
            }
            Err(proxy_core::ApplyError::NeedsRestart(_)) => {
                if let Some(old) = inner.server.take() {
                    old.stop(STOP_GRACE).await;
                }
                let monitor = app.state::<AppState>().monitor.clone();
                launch(config, authenticator, monitor).await.map(|server| {
                    inner.server = Some(server);
                })
            }
            Err(e) => Err(e.to_string()),
        },
    };
    let status = match (outcome, &inner.server) {
        (Ok(()), Some(server)) => running_status(server, &inner.settings),
        (Err(error), _) => {
            if let Some(old) = inner.server.take() {
                old.stop(STOP_GRACE).await;
            }
            ServerStatus::Failed { error }
        }
        (Ok(()), None) => ServerStatus::Stopped,
    };
    if status != app.state::<AppState>().status() {
        publish(app, status);
    }
}

/// Checks `settings` as a whole, saves them and puts them in force.
async fn commit(
    app: &AppHandle,
    inner: &mut Inner,
    settings: AppSettings,
    what: &str,
) -> Result<(), Vec<FieldError>> {
    FieldError::refuse_any(settings.refusals())?;
    let state = app.state::<AppState>();
    state.file.save(&settings).map_err(|e| {
        let path = state.file.path().display();
        vec![FieldError::general(format!("The {what} could not be saved to {path}: {e}"))]
    })?;
    inner.settings = settings;
    refresh_server(app, inner).await;
    Ok(())
}

async fn rows_of(inner: &Inner) -> Vec<MappingRow> {
    let statuses = match &inner.server {
        Some(server) => Some(server.mappings().await),
        None => None,
    };
    mappings::rows(&inner.settings.mappings, statuses.as_deref())
}

/// The server's configuration (with the users' policies and the state
/// folder) and its users' passwords, read from the keyring once, off the
/// async workers (the keyring may wait on D-Bus).
async fn prepare(
    settings: &AppSettings,
    state_dir: &Path,
) -> Result<(Config, Arc<dyn Authenticator>), String> {
    let (settings, state_dir) = (settings.clone(), state_dir.to_path_buf());
    tauri::async_runtime::spawn_blocking(move || {
        let passwords = users::passwords(&settings.users)
            .map_err(|e| format!("The passwords cannot be read from the system keyring: {e}"))?;
        let outside = Outside {
            hop_password: &|hop| users::hop_password(hop).ok().flatten(),
            user_password: &|name| passwords.get(name).cloned(),
            state_dir: Some(&state_dir),
        };
        let config = settings.to_config(&outside);
        let authenticator = users::authenticator(&settings.login_users(&outside));
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

fn running_status(server: &Server, settings: &AppSettings) -> ServerStatus {
    let listening: Vec<String> = server.local_addrs().iter().map(ToString::to_string).collect();
    let share_addresses =
        if settings.share_on_lan { lan_addresses(settings.port) } else { Vec::new() };
    let any_user = settings.users.iter().any(|u| u.enabled);
    ServerStatus::Running {
        listening,
        share_addresses,
        open_warning: settings.share_on_lan && !(settings.password_required && any_user),
        serves_http: settings.http.enabled,
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

/// Publishes a new status: the channel's followers (window, tray,
/// sampler) see it; the log and the notifications hear of it here.
fn publish(app: &AppHandle, status: ServerStatus) {
    let error = match &status {
        ServerStatus::Failed { error } => error.as_str(),
        _ => "",
    };
    tracing::info!(state = status.word(), error, "server state");
    let message = match &status {
        ServerStatus::Running { listening, .. } => {
            format!("The proxy is running on {}.", listening.join(", "))
        }
        ServerStatus::Failed { error } => format!("The proxy could not start: {error}"),
        ServerStatus::Stopped => "The proxy is stopped.".to_owned(),
    };
    app.state::<Notifier>().show(&message);
    app.state::<AppState>().status.send_replace(status);
}
