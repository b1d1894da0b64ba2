//! The IPC surface: thin commands that call the actions in `app` and the
//! stores in `settings` and `users`. Errors come back as values the front
//! end shows next to the field or on the page.

use std::time::Duration;

use proxy_core::outbound::{UpstreamChain, UpstreamHop};
use proxy_core::protocol::TargetAddr;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::app::{self, AppState, Status};
use crate::live::{Live, LiveMessage};
use crate::settings::{AppSettings, FieldError, UserEntry};
use crate::{logs, users};

/// The settings and the warning from loading them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    settings: AppSettings,
    warning: Option<String>,
}

/// Saved settings and the server's status after applying them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    settings: AppSettings,
    status: Status,
}

/// Why settings were not saved.
#[derive(Serialize)]
pub struct SaveRefused {
    errors: Vec<FieldError>,
}

/// The users and whether the keyring answers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersView {
    users: Vec<UserEntry>,
    keyring_error: Option<String>,
}

/// A refusal with a message for the page.
#[derive(Serialize)]
pub struct Refused {
    message: String,
}

impl Refused {
    fn new(message: impl Into<String>) -> Self {
        Refused { message: message.into() }
    }
}

#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> Result<Status, ()> {
    // The page asks for the status first thing: that is when the window is
    // ready, which scripts/measure-app times.
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| tracing::info!("window ready"));
    Ok(state.inner.lock().await.status.clone())
}

#[tauri::command]
pub async fn start_server(app: AppHandle) -> Result<Status, ()> {
    Ok(app::start(&app).await)
}

#[tauri::command]
pub async fn stop_server(app: AppHandle) -> Result<Status, ()> {
    Ok(app::stop(&app).await)
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<SettingsView, ()> {
    let inner = state.inner.lock().await;
    Ok(SettingsView { settings: inner.settings.clone(), warning: inner.settings_warning.clone() })
}

#[tauri::command]
pub async fn save_settings(app: AppHandle, settings: AppSettings) -> Result<Saved, SaveRefused> {
    let mut settings = settings;
    let errors = settings.validate();
    if !errors.is_empty() {
        return Err(SaveRefused { errors });
    }
    // Hop passwords typed into a URL go to the keyring; the file keeps the
    // URL without them.
    let mut upstream = Vec::with_capacity(settings.upstream.len());
    for url in &settings.upstream {
        let mut hop: UpstreamHop =
            url.trim().parse().map_err(|e: proxy_core::outbound::hop::HopParseError| {
                SaveRefused {
                    errors: vec![FieldError { field: "upstream".into(), message: e.to_string() }],
                }
            })?;
        let (credentials, secret) = hop.credentials.clone().take_password();
        hop.credentials = credentials;
        if let Some(secret) = secret {
            users::set_hop_password(&hop, &secret).map_err(|e| SaveRefused {
                errors: vec![FieldError { field: "upstream".into(), message: e.to_string() }],
            })?;
        }
        upstream.push(hop.to_url_with_secret());
    }
    settings.upstream = upstream;
    set_autostart(&app, settings.launch_at_login);
    let status = app::apply_settings(&app, settings.clone()).await.map_err(|message| {
        SaveRefused { errors: vec![FieldError { field: "general".into(), message }] }
    })?;
    Ok(Saved { settings, status })
}

#[tauri::command]
pub async fn list_users(state: State<'_, AppState>) -> Result<UsersView, ()> {
    let users = state.inner.lock().await.settings.users.clone();
    Ok(UsersView { users, keyring_error: users::probe().err().map(|e| e.to_string()) })
}

#[tauri::command]
pub async fn add_user(
    app: AppHandle,
    name: String,
    password: String,
) -> Result<UsersView, Refused> {
    check_name(&name)?;
    check_password(&password)?;
    change_users(&app, |list| {
        if list.iter().any(|u| u.name == name) {
            return Err(Refused::new(format!("There is already a user named \"{name}\".")));
        }
        users::set_user_password(&name, &password).map_err(|e| Refused::new(e.to_string()))?;
        list.push(UserEntry { name: name.clone(), enabled: true });
        Ok(None)
    })
    .await
}

#[tauri::command]
pub async fn rename_user(app: AppHandle, from: String, to: String) -> Result<UsersView, Refused> {
    check_name(&to)?;
    change_users(&app, |list| {
        if list.iter().any(|u| u.name == to) {
            return Err(Refused::new(format!("There is already a user named \"{to}\".")));
        }
        let Some(user) = list.iter_mut().find(|u| u.name == from) else {
            return Err(Refused::new(format!("There is no user named \"{from}\".")));
        };
        let password =
            users::user_password(&from).map_err(|e| Refused::new(e.to_string()))?.ok_or_else(
                || Refused::new(format!("The keyring holds no password for \"{from}\".")),
            )?;
        users::set_user_password(&to, &password).map_err(|e| Refused::new(e.to_string()))?;
        user.name = to.clone();
        // The old name's password goes once the new list is saved.
        Ok(Some(from.clone()))
    })
    .await
}

#[tauri::command]
pub async fn set_password(
    app: AppHandle,
    name: String,
    password: String,
) -> Result<UsersView, Refused> {
    check_password(&password)?;
    change_users(&app, |list| {
        if !list.iter().any(|u| u.name == name) {
            return Err(Refused::new(format!("There is no user named \"{name}\".")));
        }
        users::set_user_password(&name, &password).map_err(|e| Refused::new(e.to_string()))?;
        Ok(None)
    })
    .await
}

#[tauri::command]
pub async fn set_user_enabled(
    app: AppHandle,
    name: String,
    enabled: bool,
) -> Result<UsersView, Refused> {
    change_users(&app, |list| match list.iter_mut().find(|u| u.name == name) {
        Some(user) => {
            user.enabled = enabled;
            Ok(None)
        }
        None => Err(Refused::new(format!("There is no user named \"{name}\"."))),
    })
    .await
}

#[tauri::command]
pub async fn delete_user(app: AppHandle, name: String) -> Result<UsersView, Refused> {
    change_users(&app, |list| {
        let before = list.len();
        list.retain(|u| u.name != name);
        if list.len() == before {
            return Err(Refused::new(format!("There is no user named \"{name}\".")));
        }
        Ok(Some(name.clone()))
    })
    .await
}

#[tauri::command]
pub async fn read_logs(state: State<'_, AppState>, level: String) -> Result<Vec<String>, ()> {
    Ok(logs::tail(&state.log_dir, &level))
}

#[tauri::command]
pub fn qr_code(text: String) -> Result<String, Refused> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| Refused::new(e.to_string()))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(160, 160).build())
}

#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> Result<(), Refused> {
    if copy_to_clipboard(&app, &text) {
        Ok(())
    } else {
        Err(Refused::new("The clipboard cannot be reached."))
    }
}

/// One step of an upstream test, for the page.
#[derive(Serialize)]
pub struct Step {
    name: String,
    ok: bool,
    millis: Option<f64>,
    error: Option<String>,
}

/// The UDP part of an upstream test.
#[derive(Serialize)]
pub struct UdpStep {
    status: &'static str,
    millis: Option<f64>,
    detail: Option<String>,
}

/// The result of an upstream test.
#[derive(Serialize)]
pub struct UpstreamTest {
    hops: Vec<Step>,
    target: Step,
    udp: UdpStep,
}

#[tauri::command]
pub async fn test_upstream(
    state: State<'_, AppState>,
    target: String,
) -> Result<UpstreamTest, Refused> {
    let target: TargetAddr =
        target.parse().map_err(|_| Refused::new("Enter the test target as host:port."))?;
    let settings = state.inner.lock().await.settings.clone();
    let config = settings.to_config(|hop| users::hop_password(hop).ok().flatten());
    if config.upstream.chain.is_empty() {
        return Err(Refused::new("There is no upstream proxy to test."));
    }
    let report =
        UpstreamChain::new(config.upstream.chain).check(&target, Duration::from_secs(10)).await;
    let step = |s: &proxy_core::outbound::chain::StepReport| Step {
        name: s.name.clone(),
        ok: s.outcome.is_ok(),
        millis: s.outcome.as_ref().ok().map(|d| d.as_secs_f64() * 1000.0),
        error: s.outcome.as_ref().err().cloned(),
    };
    use proxy_core::outbound::chain::UdpReport;
    let udp = match &report.udp {
        UdpReport::Ok(d) => {
            UdpStep { status: "ok", millis: Some(d.as_secs_f64() * 1000.0), detail: None }
        }
        UdpReport::Failed(e) => UdpStep { status: "failed", millis: None, detail: Some(e.clone()) },
        UdpReport::Unsupported(e) => {
            UdpStep { status: "unsupported", millis: None, detail: Some(e.clone()) }
        }
    };
    Ok(UpstreamTest {
        hops: report.hops.iter().map(step).collect(),
        target: step(&report.target),
        udp,
    })
}

/// Puts `text` on the clipboard; `false` when there is none.
pub fn copy_to_clipboard(app: &AppHandle, text: &str) -> bool {
    let state = app.state::<AppState>();
    let Ok(mut slot) = state.clipboard.lock() else {
        return false;
    };
    if slot.is_none() {
        *slot = arboard::Clipboard::new().ok();
    }
    slot.as_mut().is_some_and(|c| c.set_text(text.to_owned()).is_ok())
}

/// Changes the user list and saves it. `change` may name a user whose
/// password to forget: that happens only once the new list is saved, so a
/// failed save never leaves a listed user without a password.
async fn change_users(
    app: &AppHandle,
    change: impl FnOnce(&mut Vec<UserEntry>) -> Result<Option<String>, Refused>,
) -> Result<UsersView, Refused> {
    let state = app.state::<AppState>();
    let mut inner = state.inner.lock().await;
    let mut settings = inner.settings.clone();
    let forget = change(&mut settings.users)?;
    state
        .file
        .save(&settings)
        .map_err(|e| Refused::new(format!("The users could not be saved: {e}")))?;
    if let Some(name) = forget {
        if let Err(e) = users::delete_user_password(&name) {
            tracing::warn!(user = %name, "an unused password stays in the keyring: {e}");
        }
    }
    inner.settings = settings;
    app::refresh_server(app, &mut inner).await;
    Ok(UsersView { users: inner.settings.users.clone(), keyring_error: None })
}

fn check_name(name: &str) -> Result<(), Refused> {
    if name.is_empty() || name.len() > 255 {
        return Err(Refused::new("A user name is 1 to 255 bytes long."));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), Refused> {
    if password.is_empty() || password.len() > 255 {
        return Err(Refused::new("A password is 1 to 255 bytes long."));
    }
    Ok(())
}

fn set_autostart(app: &AppHandle, on: bool) {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let done = if on { launcher.enable() } else { launcher.disable() };
    if let Err(e) = done {
        tracing::warn!("cannot change start at login: {e}");
    }
}

/// The Connections view starts watching: a full reset comes at once on
/// `on_message`, then what changed, once a second, while the window shows.
#[tauri::command]
pub async fn watch_live(live: State<'_, Live>, on_message: Channel<LiveMessage>) -> Result<(), ()> {
    live.watch(on_message);
    Ok(())
}

/// The view that watches on `channel` stops (it is hidden, or another view
/// is shown).
#[tauri::command]
pub async fn unwatch_live(live: State<'_, Live>, channel: u32) -> Result<(), ()> {
    live.unwatch(channel);
    Ok(())
}

/// Ends one session; `false` when it had already ended.
#[tauri::command]
pub async fn close_session(live: State<'_, Live>, id: u64) -> Result<bool, ()> {
    let closed = live.monitor().close(id);
    tracing::info!(id, closed, "session closed from the window");
    Ok(closed)
}

/// Ends every open session; returns how many there were.
#[tauri::command]
pub async fn close_all_sessions(live: State<'_, Live>) -> Result<usize, ()> {
    let count = live.monitor().close_all();
    tracing::info!(count, "all sessions closed from the window");
    Ok(count)
}
