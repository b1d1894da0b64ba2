//! The app's state and the actions the window and the tray share: start,
//! stop, toggle, apply settings, change the users or the port mappings,
//! make and revoke guest passes, copy the proxy address, use the proxy as
//! the system proxy.
//! Every change of the server's state is published once, here, on the
//! status channel (a `tokio::sync::watch`), which the window's event, the
//! tray and the sampler follow; and logged and notified. The users in force
//! are published on a channel of their own, which the tray's Guest passes
//! menu and the sampler's notices follow. So is the system proxy toggle's
//! state, which the tray's check item and the Status page follow; the
//! toggle follows the server (a new port, a stop, a failure) from here.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use proxy_core::access::{Expiry, Now};
use proxy_core::{ApplyError, Authenticator, Config, Monitor, OwnerUse, Server, StartError};
use tauri::{AppHandle, Manager};
use tokio::sync::watch;
use tokio::sync::Mutex as AsyncMutex;

use crate::clipboard::Clipboard;
use crate::guest::{self, GuestPass, GuestPassRequest};
use crate::mappings::{self, MappingRow};
use crate::notify::Notifier;
use crate::settings::{AppSettings, FieldError, Outside, SettingsFile, UserEntry};
use crate::status::ServerStatus;
use crate::sysproxy::{Switch, SystemProxyStatus};
use crate::users::{self, Forget, Revoke, UserError};

/// How long open sessions may finish on their own when the server stops.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// Why the system proxy is not turned on while the port serves SOCKS only.
pub const SYSTEM_PROXY_NEEDS_HTTP: &str = "The system proxy gives the desktop this port's HTTP \
    proxy too (Windows gets nothing else): turn on “Serve HTTP proxy, setup page and PAC file on \
    the same port” in Settings first.";

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
    users: watch::Sender<Vec<UserEntry>>,
    /// The system proxy toggle. Its calls run the desktop's programs, so
    /// they run off the async workers, and only under `inner`'s lock: one
    /// change at a time, in step with the server.
    system_proxy: Arc<Mutex<Switch>>,
    system_proxy_status: watch::Sender<SystemProxyStatus>,
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
    /// registered in `monitor`, the system proxy toggled by `switch`.
    pub fn new(file: SettingsFile, log_dir: PathBuf, monitor: Monitor, switch: Switch) -> Self {
        let loaded = file.load();
        let users = watch::Sender::new(loaded.settings.users.clone());
        let system_proxy_status = watch::Sender::new(switch.status());
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
            users,
            system_proxy: Arc::new(Mutex::new(switch)),
            system_proxy_status,
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

    /// The users in force, now and whenever they change.
    pub fn watch_users(&self) -> watch::Receiver<Vec<UserEntry>> {
        self.users.subscribe()
    }

    /// The system proxy toggle's state now.
    pub fn system_proxy_status(&self) -> SystemProxyStatus {
        self.system_proxy_status.borrow().clone()
    }

    /// The system proxy toggle's state, now and whenever it changes.
    pub fn watch_system_proxy(&self) -> watch::Receiver<SystemProxyStatus> {
        self.system_proxy_status.subscribe()
    }

    /// What the running server says of each user's and device's use,
    /// read without waiting for an action that holds the state.
    pub fn usage(&self) -> ServerUsage {
        match self.inner.try_lock() {
            Ok(inner) => match &inner.server {
                Some(server) => ServerUsage::Read(server.usage()),
                None => ServerUsage::Stopped,
            },
            Err(_) => ServerUsage::Busy,
        }
    }
}

/// What [`AppState::usage`] found.
#[derive(Debug)]
pub enum ServerUsage {
    /// The server's figures.
    Read(Vec<OwnerUse>),
    /// No server runs: nothing is counted.
    Stopped,
    /// An action holds the state (a change, a start or a stop): ask again
    /// at the next tick.
    Busy,
}

/// Starts the server with the settings in force (a no-op when it runs).
pub async fn start(app: &AppHandle) -> ServerStatus {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    start_locked(app, &mut inner).await;
    state.status()
}

async fn start_locked(app: &AppHandle, inner: &mut Inner) {
    if inner.server.is_some() {
        return;
    }
    let state = app.state::<AppState>();
    let launched = match prepare(&inner.settings, &state.state_dir).await {
        Ok((config, authenticator)) => launch(config, authenticator, state.monitor.clone()).await,
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
    follow_server(app, inner).await;
}

/// Stops the server (a no-op when it is stopped). The system proxy goes
/// off first, so the desktop never points at a closed port.
pub async fn stop(app: &AppHandle) -> ServerStatus {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let env = inner.settings.system_proxy_env_file;
    if let Some(Err(why)) = change_system_proxy(app, move |s| s.follow(None, env)).await {
        app.state::<Notifier>().show(&why);
    }
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

/// Points the desktop's proxy settings at this proxy (`on`), starting the
/// server first when it is stopped, or puts the user's own settings back.
/// The toggle's state after the change comes back, or why it failed.
pub async fn set_system_proxy(app: &AppHandle, on: bool) -> Result<SystemProxyStatus, String> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let changed = if on {
        system_proxy_on(app, &mut inner).await
    } else {
        change_system_proxy(app, Switch::turn_off).await.unwrap_or(Ok(()))
    };
    changed.map(|()| state.system_proxy_status())
}

/// Turns the system proxy on if it is off, off if it is on (the tray's
/// check item).
pub async fn toggle_system_proxy(app: &AppHandle) -> Result<SystemProxyStatus, String> {
    let on = app.state::<AppState>().system_proxy_status().on;
    set_system_proxy(app, !on).await
}

async fn system_proxy_on(app: &AppHandle, inner: &mut Inner) -> Result<(), String> {
    let state = app.state::<AppState>();
    if state.system_proxy_status().desktop.is_none() {
        return Err(crate::sysproxy::UNSUPPORTED.to_owned());
    }
    if !inner.settings.http.enabled {
        return Err(SYSTEM_PROXY_NEEDS_HTTP.to_owned());
    }
    start_locked(app, inner).await;
    let Some(server) = &inner.server else {
        let why = match state.status() {
            ServerStatus::Failed { error } => error,
            _ => "it is stopped.".to_owned(),
        };
        return Err(format!(
            "The proxy could not start, so the desktop was not pointed at it: {why}"
        ));
    };
    let listening = server.local_addrs().to_vec();
    let env = inner.settings.system_proxy_env_file;
    change_system_proxy(app, move |s| s.turn_on(&listening, env)).await.unwrap_or(Ok(()))
}

/// Has the system proxy follow the server as it is now (see
/// `Switch::follow`); a failure is notified (the window shows it too).
async fn follow_server(app: &AppHandle, inner: &Inner) {
    let listening = inner.server.as_ref().map(|s| s.local_addrs().to_vec());
    let env = inner.settings.system_proxy_env_file;
    let followed = change_system_proxy(app, move |s| s.follow(listening.as_deref(), env)).await;
    if let Some(Err(why)) = followed {
        app.state::<Notifier>().show(&why);
    }
}

/// Runs `change` on the toggle off the async workers and publishes its
/// state after; `change`'s answer comes back (`None`: nothing to do).
async fn change_system_proxy<R: Into<Option<Result<(), String>>> + Send + 'static>(
    app: &AppHandle,
    change: impl FnOnce(&mut Switch) -> R + Send + 'static,
) -> Option<Result<(), String>> {
    let state = app.state::<AppState>();
    let shared = Arc::clone(&state.system_proxy);
    let done = tauri::async_runtime::spawn_blocking(move || {
        let mut switch = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = change(&mut switch).into();
        (outcome, switch.status())
    })
    .await;
    match done {
        Ok((outcome, status)) => {
            state.system_proxy_status.send_if_modified(|current| {
                let changed = *current != status;
                *current = status;
                changed
            });
            outcome
        }
        Err(e) => Some(Err(format!("The desktop's proxy settings could not be changed: {e}"))),
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
    if !settings.http.enabled && state.system_proxy_status().on {
        let message = crate::i18n::t("refusal.settings.httpNeeded", &[]);
        return Err(vec![FieldError { field: "http.enabled".to_owned(), message }]);
    }
    state.file.save(&settings).map_err(|e| {
        let path = state.file.path().display();
        let (path, reason) = (path.to_string(), e.to_string());
        let message = crate::i18n::t(
            "refusal.settings.saveFailed",
            &[("path", (&path).into()), ("reason", (&reason).into())],
        );
        vec![FieldError::general(message)]
    })?;
    app.state::<Notifier>().set_enabled(settings.notifications);
    crate::i18n::set_choice(&settings.language);
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
    publish_users(app, &inner.settings);
    Ok(inner.settings.users.clone())
}

/// Makes a guest pass (a user with a generated password, marked as a
/// guest pass, whose policy ends it after so many hours or GB): checked,
/// its password stored in the keyring, saved and in force at once. The pass
/// (with its password, to show once) and the users after the change come
/// back.
pub async fn add_guest_pass(
    app: &AppHandle,
    request: &GuestPassRequest,
) -> Result<(GuestPass, AppSettings), Vec<FieldError>> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let mut settings = inner.settings.clone();
    // The names the running server has counted bytes for: a new pass must
    // not start with an old one's count (when stopped, none is known).
    let used: HashMap<String, u64> = inner
        .server
        .as_ref()
        .map(Server::usage)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|u| Some((u.owner.strip_prefix("user ")?.to_owned(), u.usage.total)))
        .collect();
    let now = Expiry(Now::read().timestamp);
    let pass = request.plan(&settings.users, &used, now, &mut guest::system_random)?;
    users::add_guest(&mut settings.users, &pass.name, &pass.password, pass.policy.clone())
        .map_err(|e| vec![FieldError::general(e.to_string())])?
        .now();
    // Refused as a whole or not saved: the password stored goes again, so a
    // refused pass leaves nothing behind.
    if let Err(errors) = commit(app, &mut inner, settings, "guest pass").await {
        users::forget_stored(&pass.name);
        return Err(errors);
    }
    tracing::info!(user = %pass.name, expires = %pass.policy.expires, quota = %pass.policy.quota, "guest pass made");
    Ok((pass, inner.settings.clone()))
}

/// Revokes guest passes (from the Users page or the tray's Guest passes
/// menu): they are removed with their passwords, and their sessions end as
/// the server takes the new users. The names revoked and the users after
/// the change come back.
pub async fn revoke_guests(
    app: &AppHandle,
    which: &Revoke,
) -> Result<(Vec<String>, Vec<UserEntry>), UserError> {
    let mut revoked = Vec::new();
    let list = change_users(app, |list| {
        let forget = users::revoke(list, which)?;
        revoked = forget.names().to_vec();
        Ok(forget)
    })
    .await?;
    for name in &revoked {
        tracing::info!(user = %name, "guest pass revoked");
    }
    forget_usage(app, &revoked).await;
    Ok((revoked, list))
}

/// Deletes a user for good (the Users page's Delete): its password goes,
/// its sessions end, and the running server forgets what it counted for
/// the name, so a later user of it starts from nothing.
pub async fn delete_user(app: &AppHandle, name: &str) -> Result<Vec<UserEntry>, UserError> {
    let list = change_users(app, |list| users::delete(list, name)).await?;
    forget_usage(app, &[name.to_owned()]).await;
    Ok(list)
}

/// Has the running server forget the counts of these users (proxy-core's
/// owner "user NAME"). Stopped, nothing is forgotten: the counts stay in
/// the state file, which is why a new guest pass is still refused a name
/// the running proxy has counted bytes for.
async fn forget_usage(app: &AppHandle, names: &[String]) {
    let state = app.state::<AppState>();
    let inner = state.inner.lock().await;
    if let Some(server) = &inner.server {
        for name in names {
            if server.forget_usage(&format!("user {name}")) {
                tracing::info!(user = %name, "its use is forgotten");
            }
        }
    }
}

/// Re-reads users from the keyring and the settings into the running
/// server; restarts it when that is the only way. The status is published
/// when it changed (a change of users or mappings alone leaves it, and
/// notifies nobody). The system proxy follows: to a new port, or off when
/// the server failed.
async fn refresh_server(app: &AppHandle, inner: &mut Inner) {
    refresh_running(app, inner).await;
    follow_server(app, inner).await;
}

async fn refresh_running(app: &AppHandle, inner: &mut Inner) {
    let Some(server) = &inner.server else {
        return;
    };
    let state_dir = app.state::<AppState>().state_dir.clone();
    let outcome = match prepare(&inner.settings, &state_dir).await {
        Err(reason) => Err(reason),
        Ok((config, authenticator)) => {
            match put_in_force(server, config.clone(), authenticator.clone()).await {
                Ok(()) => Ok(()),
                Err(ApplyError::NeedsRestart(_)) => {
                    if let Some(old) = inner.server.take() {
                        old.stop(STOP_GRACE).await;
                    }
                    let monitor = app.state::<AppState>().monitor.clone();
                    launch(config, authenticator, monitor).await.map(|server| {
                        inner.server = Some(server);
                    })
                }
                Err(e) => Err(e.to_string()),
            }
        }
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
    publish_users(app, &inner.settings);
    Ok(())
}

/// Publishes the users in force when they changed (the tray's Guest passes
/// menu and the sampler's notices follow them).
fn publish_users(app: &AppHandle, settings: &AppSettings) {
    app.state::<AppState>().users.send_if_modified(|users| {
        let changed = *users != settings.users;
        if changed {
            users.clone_from(&settings.users);
        }
        changed
    });
}

/// Puts a configuration and its users in force in a running server: new
/// sessions follow both at once, and the server ends the sessions of users
/// the authenticator no longer admits (removed, disabled, revoked or given
/// a new password) and those the configuration no longer allows.
async fn put_in_force(
    server: &Server,
    config: Config,
    authenticator: Arc<dyn Authenticator>,
) -> Result<(), ApplyError> {
    server.apply(config).await?;
    server.set_authenticator(authenticator);
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
    // A login is required with passwords and a user, or with GSS-API on.
    let any_user = settings.users.iter().any(|u| u.enabled);
    let logins = (settings.password_required && any_user) || settings.gssapi.enabled;
    ServerStatus::Running {
        listening,
        share_addresses,
        open_warning: settings.share_on_lan && !logins,
        serves_http: settings.http.enabled,
    }
}

/// The addresses a client uses for the proxy with these settings: while
/// sharing, this machine's addresses other devices can use; else the
/// loopback one.
pub fn proxy_addresses(settings: &AppSettings) -> Vec<String> {
    let shared = if settings.share_on_lan { lan_addresses(settings.port) } else { Vec::new() };
    if shared.is_empty() {
        vec![SocketAddr::from(([127, 0, 0, 1], settings.port)).to_string()]
    } else {
        shared
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::usage::{OwnerState, UsageMeter};

    /// A SOCKS5 login (RFC 1929) as `user` and a CONNECT to `target`: the
    /// login's status and, after a login that succeeded, the request's reply
    /// code with the connection.
    async fn socks5(
        proxy: SocketAddr,
        user: &str,
        password: &str,
        target: SocketAddr,
    ) -> (u8, Option<(u8, TcpStream)>) {
        let mut client = TcpStream::connect(proxy).await.unwrap();
        client.write_all(&[5, 1, 2]).await.unwrap();
        let mut choice = [0u8; 2];
        client.read_exact(&mut choice).await.unwrap();
        assert_eq!(choice, [5, 2], "the proxy did not ask for a password");
        let mut login = vec![1, user.len() as u8];
        login.extend_from_slice(user.as_bytes());
        login.push(password.len() as u8);
        login.extend_from_slice(password.as_bytes());
        client.write_all(&login).await.unwrap();
        let mut status = [0u8; 2];
        client.read_exact(&mut status).await.unwrap();
        if status[1] != 0 {
            return (status[1], None);
        }
        let SocketAddr::V4(v4) = target else { panic!("an IPv4 target") };
        let mut request = vec![5, 1, 0, 1];
        request.extend_from_slice(&v4.ip().octets());
        request.extend_from_slice(&v4.port().to_be_bytes());
        client.write_all(&request).await.unwrap();
        let mut reply = [0u8; 10];
        client.read_exact(&mut reply).await.unwrap();
        (0, Some((reply[1], client)))
    }

    /// A guest pass with this quota.
    fn guest(name: &str, quota: &str) -> UserEntry {
        let policy = crate::settings::PolicyEntry { quota: quota.into(), ..Default::default() };
        UserEntry { policy, guest: true, ..UserEntry::new(name) }
    }

    /// The server's configuration and authenticator for `settings`, with
    /// these passwords, made as `prepare` makes them (listening on a port
    /// of the system's choice).
    fn in_force(
        settings: &AppSettings,
        passwords: &HashMap<String, String>,
    ) -> (Config, Arc<dyn Authenticator>) {
        let outside =
            Outside { user_password: &|name| passwords.get(name).cloned(), ..Outside::NOTHING };
        let mut config = settings.to_config(&outside);
        config.listen = vec!["127.0.0.1:0".parse().unwrap()];
        (config, users::authenticator(&settings.login_users(&outside)))
    }

    async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
        let mut buf = [0u8; 64];
        matches!(tokio::time::timeout(wait, stream.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
    }

    /// What `revoke_guests` puts in force (the users without the guest
    /// pass, through `put_in_force`, as `refresh_server` does): the guest's
    /// open session ends and its login is refused; alice is untouched.
    #[tokio::test]
    async fn a_revoked_guest_pass_loses_its_sessions_and_its_login() {
        let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target_addr = target.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = target.accept().await {
                held.push(conn);
            }
        });
        let mut settings = AppSettings { password_required: true, ..AppSettings::default() };
        settings.users = vec![UserEntry::new("alice"), guest("guest-ab12", "1 GB/total")];
        let passwords: HashMap<String, String> =
            [("alice", "alice-password"), ("guest-ab12", "guest-password")]
                .into_iter()
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .collect();
        let (config, authenticator) = in_force(&settings, &passwords);
        let server =
            Server::start_with_monitor(config, authenticator, Monitor::new()).await.unwrap();
        let proxy = server.local_addrs()[0];

        let (login, connected) = socks5(proxy, "guest-ab12", "guest-password", target_addr).await;
        assert_eq!(login, 0, "the guest pass's login before it is revoked");
        let (reply, mut guest_conn) = connected.unwrap();
        assert_eq!(reply, 0, "the guest's CONNECT before it is revoked");
        let (_, alice) = socks5(proxy, "alice", "alice-password", target_addr).await;
        let (_, mut alice_conn) = alice.unwrap();

        let forget = users::revoke(&mut settings.users, &Revoke::One("guest-ab12".into())).unwrap();
        assert_eq!(forget.names(), ["guest-ab12"]);
        let (config, authenticator) = in_force(&settings, &passwords);
        put_in_force(&server, config, authenticator).await.unwrap();

        assert!(
            closed_within(&mut guest_conn, Duration::from_secs(5)).await,
            "the revoked guest's session stayed open"
        );
        let (login, _) = socks5(proxy, "guest-ab12", "guest-password", target_addr).await;
        assert_ne!(login, 0, "the revoked guest pass still signs in");
        assert!(
            !closed_within(&mut alice_conn, Duration::from_millis(300)).await,
            "alice's session ended with the guest's"
        );
        let (login, _) = socks5(proxy, "alice", "alice-password", target_addr).await;
        assert_eq!(login, 0, "alice lost her login");
        server.stop(Duration::ZERO).await;
    }

    /// A guest pass's budget used up, as the sampler reads it from a running
    /// server: its use, its quota, a rate, and proxy-core's refusal read as
    /// "over quota".
    #[tokio::test]
    async fn a_used_up_budget_reads_as_over_quota_with_its_use_and_rate() {
        let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target_addr = target.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = target.accept().await {
                let _ = conn.write_all(&[7u8; 3_000]).await;
            }
        });
        let mut settings = AppSettings { password_required: true, ..AppSettings::default() };
        settings.users = vec![guest("guest-ab12", "2 KB/total")];
        let passwords = HashMap::from([("guest-ab12".to_owned(), "guest-password".to_owned())]);
        let (config, authenticator) = in_force(&settings, &passwords);
        let server =
            Server::start_with_monitor(config, authenticator, Monitor::new()).await.unwrap();
        let mut meter = UsageMeter::default();
        let start = std::time::Instant::now();
        let before = meter.sample(server.usage(), start);
        assert_eq!(before.len(), 1, "{before:?}");
        assert_eq!((before[0].total, before[0].state), (0, OwnerState::Active));

        let (_, connected) =
            socks5(server.local_addrs()[0], "guest-ab12", "guest-password", target_addr).await;
        let (reply, mut conn) = connected.unwrap();
        assert_eq!(reply, 0);
        let mut got = vec![0u8; 3_000];
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut got)).await;
        // The server may end the session once the budget is spent: the
        // bytes counted are what matter.
        drop(read);
        let mut after = Vec::new();
        for _ in 0..50 {
            after = meter.sample(server.usage(), start + Duration::from_secs(2));
            if after[0].state == OwnerState::OverQuota {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let row = &after[0];
        assert_eq!(row.state, OwnerState::OverQuota, "{row:?}");
        assert!(row.refused.as_deref().is_some_and(|r| r.contains("2 KB/total")), "{row:?}");
        let quota = row.quota.as_ref().unwrap();
        assert_eq!((quota.bytes, quota.period), (2_000, "total"));
        assert!(quota.used >= 2_000 && row.total == quota.used, "{row:?}");
        assert_eq!(
            row.rate,
            row.total / 2,
            "the bytes over the two seconds since the first reading"
        );
        server.stop(Duration::ZERO).await;
    }
}
