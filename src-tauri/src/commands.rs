//! The IPC surface: thin commands that call the actions and the stores,
//! each declared in the contract below (see `contract`). Errors come back as
//! typed values the front end tells apart: field errors for the settings,
//! a kind and a message for the users, a message for the rest.

use std::time::Duration;

use proxy_core::access::{Expiry, Now};
use proxy_core::outbound::chain::{StepReport, UdpReport};
use proxy_core::outbound::UpstreamChain;
use proxy_core::protocol::TargetAddr;
use proxy_core::Monitor;
use serde::{Deserialize, Serialize};
use tauri::ipc::{Channel, JavaScriptChannelId};
use tauri::{AppHandle, Emitter, Manager, Webview};
use tokio::sync::watch;
use ts_rs::TS;

use crate::actions::{self, AppState};
use crate::clipboard::Clipboard;
use crate::contract::{ipc_contract, Args, NoArgs};
use crate::devices;
use crate::firewall::{self, FirewallCheck};
use crate::guest::{GuestPass, GuestPassRequest};
use crate::live::{Live, LiveMessage};
use crate::logs;
use crate::mappings::{self, MappingRow};
use crate::settings::{
    AppSettings, DeviceEntry, FieldError, MappingEntry, Outside, PolicyEntry, UserEntry,
};
use crate::status::ServerStatus;
use crate::sysproxy::SystemProxyStatus;
use crate::usage::OwnerRow;
use crate::users::{self, ListedUser, Revoke, UserRefusal};
use crate::visits::{visit_rows, VisitRow};

// Every command here must be in commands.list too, or the window is refused
// it (see build.rs); a test checks the two lists are the same.
ipc_contract! {
    server_status(NoArgs) -> ServerStatus, ();
    start_server(NoArgs) -> ServerStatus, ();
    stop_server(NoArgs) -> ServerStatus, ();
    get_settings(NoArgs) -> SettingsView, ();
    save_settings(SaveSettingsArgs) -> Saved, SaveRefused;
    list_users(NoArgs) -> UsersView, ();
    add_user(AddUserArgs) -> UsersView, UserRefusal;
    rename_user(RenameUserArgs) -> UsersView, UserRefusal;
    set_password(SetPasswordArgs) -> UsersView, UserRefusal;
    set_user_enabled(SetUserEnabledArgs) -> UsersView, UserRefusal;
    delete_user(UserNameArgs) -> UsersView, UserRefusal;
    set_user_policy(SetUserPolicyArgs) -> UsersView, SaveRefused;
    add_guest_pass(GuestPassRequest) -> NewGuestPass, SaveRefused;
    revoke_guest(UserNameArgs) -> UsersView, UserRefusal;
    revoke_all_guests(NoArgs) -> UsersView, UserRefusal;
    list_usage(NoArgs) -> UsageView, ();
    read_logs(ReadLogsArgs) -> Vec<String>, ();
    qr_code(TextArgs) -> String, Refused;
    copy_text(TextArgs) -> (), Refused;
    test_upstream(TestUpstreamArgs) -> UpstreamTest, Refused;
    watch_live(WatchLiveArgs) -> (), ();
    unwatch_live(UnwatchLiveArgs) -> (), ();
    close_session(SessionIdArgs) -> bool, ();
    close_all_sessions(NoArgs) -> u32, ();
    recent_visits(NoArgs) -> Vec<VisitRow>, ();
    list_mappings(NoArgs) -> Vec<MappingRow>, ();
    add_mapping(AddMappingArgs) -> Vec<MappingRow>, SaveRefused;
    edit_mapping(EditMappingArgs) -> Vec<MappingRow>, SaveRefused;
    remove_mapping(MappingNameArgs) -> Vec<MappingRow>, SaveRefused;
    set_mapping_enabled(SetMappingEnabledArgs) -> Vec<MappingRow>, SaveRefused;
    list_devices(NoArgs) -> Vec<DeviceEntry>, ();
    add_device(AddDeviceArgs) -> Vec<DeviceEntry>, SaveRefused;
    edit_device(EditDeviceArgs) -> Vec<DeviceEntry>, SaveRefused;
    remove_device(DeviceNameArgs) -> Vec<DeviceEntry>, SaveRefused;
    gssapi_available(NoArgs) -> bool, ();
    system_proxy_status(NoArgs) -> SystemProxyStatus, ();
    set_system_proxy(SetSystemProxyArgs) -> SystemProxyStatus, Refused;
    firewall_check(NoArgs) -> FirewallCheck, ();
}

/// The event every status change is announced with, to the window.
pub const STATUS_EVENT: &str = "status-changed";

/// Announces every status change to the window as [`STATUS_EVENT`].
pub async fn announce_status(app: AppHandle, mut status: watch::Receiver<ServerStatus>) {
    while status.changed().await.is_ok() {
        let current = status.borrow_and_update().clone();
        let _ = app.emit(STATUS_EVENT, current);
    }
}

/// The event that says the users changed (a guest pass revoked from the
/// tray, any change from the window): the users view reads them again.
pub const USERS_EVENT: &str = "users-changed";

/// Announces every change of the users in force to the window as
/// [`USERS_EVENT`].
pub async fn announce_users(app: AppHandle, mut users: watch::Receiver<Vec<UserEntry>>) {
    while users.changed().await.is_ok() {
        users.mark_unchanged();
        let _ = app.emit(USERS_EVENT, ());
    }
}

/// The event that carries the recent visits (what [`recent_visits`]
/// answers) each time a device fetches the setup page or the PAC file.
pub const VISITS_EVENT: &str = "visits-changed";

/// The least time between two [`VISITS_EVENT`]s: a device that fetches the
/// setup page in a loop cannot flood the window.
const VISITS_GAP: Duration = Duration::from_millis(500);

/// Announces the recent visits to the window as [`VISITS_EVENT`] when a
/// device fetches the setup page or the PAC file; fetches meanwhile come
/// in the next announcement.
pub async fn announce_visits(app: AppHandle, monitor: Monitor) {
    let mut fetched = monitor.watch_visits();
    while fetched.changed().await.is_ok() {
        fetched.mark_unchanged();
        let _ = app.emit(VISITS_EVENT, visit_rows(&monitor.visits()));
        tokio::time::sleep(VISITS_GAP).await;
    }
}

/// The event that carries the system proxy toggle's state each time it
/// changes (from the window, the tray, or following the server).
pub const SYSTEM_PROXY_EVENT: &str = "system-proxy-changed";

/// Announces every change of the system proxy toggle's state to the window
/// as [`SYSTEM_PROXY_EVENT`].
pub async fn announce_system_proxy(app: AppHandle, mut toggle: watch::Receiver<SystemProxyStatus>) {
    while toggle.changed().await.is_ok() {
        let current = toggle.borrow_and_update().clone();
        let _ = app.emit(SYSTEM_PROXY_EVENT, current);
    }
}

/// The settings and the warning from loading them.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    settings: AppSettings,
    warning: Option<String>,
    /// The OS's language as the app reads it (LANG, LC_ALL, ...): what
    /// "system" means for the window too, whose webview may not know it.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    system_language: Option<String>,
}

/// Saved settings and the server's status after applying them.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    settings: AppSettings,
    status: ServerStatus,
}

/// Why settings (or a change of the mappings) were not saved: each error
/// names its field (`general` for none).
#[derive(Serialize, TS)]
pub struct SaveRefused {
    errors: Vec<FieldError>,
}

impl From<Vec<FieldError>> for SaveRefused {
    fn from(errors: Vec<FieldError>) -> Self {
        SaveRefused { errors }
    }
}

/// The users (each with its state now) and whether the keyring answers.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UsersView {
    users: Vec<ListedUser>,
    keyring_error: Option<String>,
}

/// A guest pass just made: its credentials (the password is shown this once;
/// it stays in the keyring), where devices reach the proxy, and the users
/// after the change.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewGuestPass {
    pass: GuestPass,
    /// `HOST:PORT` a client uses for SOCKS5 (and HTTP, when served): this
    /// machine's LAN addresses while sharing, else the loopback one.
    addresses: Vec<String>,
    /// The same port speaks HTTP (the setup page and the PAC file too).
    serves_http: bool,
    /// Whether passwords are required (without, anyone who reaches the
    /// proxy gets in, pass or not).
    password_required: bool,
    /// Whether the proxy is shared on the network (else only programs on
    /// this computer reach it).
    sharing: bool,
    users: UsersView,
}

/// Each user's and device's use, and whether the proxy runs (while it
/// does, a user missing from `owners` has used nothing yet).
#[derive(Serialize, TS)]
pub struct UsageView {
    running: bool,
    owners: Vec<OwnerRow>,
}

/// A refusal with a message for the page.
#[derive(Serialize, TS)]
pub struct Refused {
    message: String,
}

impl Refused {
    fn new(message: impl Into<String>) -> Self {
        Refused { message: message.into() }
    }
}

#[derive(Deserialize, TS)]
pub struct SetSystemProxyArgs {
    /// Point the desktop at this proxy (starting it if it is stopped), or
    /// put the user's own settings back.
    on: bool,
}

#[derive(Deserialize, TS)]
pub struct SaveSettingsArgs {
    settings: AppSettings,
}

#[derive(Deserialize, TS)]
pub struct AddUserArgs {
    name: String,
    password: String,
}

#[derive(Deserialize, TS)]
pub struct RenameUserArgs {
    from: String,
    to: String,
}

#[derive(Deserialize, TS)]
pub struct SetPasswordArgs {
    name: String,
    password: String,
}

#[derive(Deserialize, TS)]
pub struct SetUserEnabledArgs {
    name: String,
    enabled: bool,
}

#[derive(Deserialize, TS)]
pub struct UserNameArgs {
    name: String,
}

#[derive(Deserialize, TS)]
pub struct SetUserPolicyArgs {
    name: String,
    policy: PolicyEntry,
}

#[derive(Deserialize, TS)]
pub struct ReadLogsArgs {
    #[ts(type = "\"error\" | \"warn\" | \"info\" | \"debug\"")]
    level: String,
}

#[derive(Deserialize, TS)]
pub struct TextArgs {
    text: String,
}

#[derive(Deserialize, TS)]
pub struct TestUpstreamArgs {
    target: String,
}

#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WatchLiveArgs {
    #[ts(type = "Channel<LiveMessage>")]
    on_message: JavaScriptChannelId,
}

#[derive(Deserialize, TS)]
pub struct UnwatchLiveArgs {
    /// The id of the channel that watched.
    channel: u32,
}

#[derive(Deserialize, TS)]
pub struct SessionIdArgs {
    id: u64,
}

#[derive(Deserialize, TS)]
pub struct AddMappingArgs {
    mapping: MappingEntry,
}

#[derive(Deserialize, TS)]
pub struct EditMappingArgs {
    /// The mapping's name now.
    name: String,
    mapping: MappingEntry,
}

#[derive(Deserialize, TS)]
pub struct MappingNameArgs {
    name: String,
}

#[derive(Deserialize, TS)]
pub struct SetMappingEnabledArgs {
    name: String,
    enabled: bool,
}

#[derive(Deserialize, TS)]
pub struct AddDeviceArgs {
    device: DeviceEntry,
}

#[derive(Deserialize, TS)]
pub struct EditDeviceArgs {
    /// The device's name now (its name, or its address).
    name: String,
    device: DeviceEntry,
}

#[derive(Deserialize, TS)]
pub struct DeviceNameArgs {
    name: String,
}

/// One step of an upstream test, for the page.
#[derive(Serialize, TS)]
pub struct Step {
    name: String,
    ok: bool,
    millis: Option<f64>,
    error: Option<String>,
}

/// The UDP part of an upstream test.
#[derive(Serialize, TS)]
pub struct UdpStep {
    #[ts(type = "\"ok\" | \"failed\" | \"unsupported\"")]
    status: &'static str,
    millis: Option<f64>,
    detail: Option<String>,
}

/// The result of an upstream test.
#[derive(Serialize, TS)]
pub struct UpstreamTest {
    hops: Vec<Step>,
    target: Step,
    udp: UdpStep,
}

#[tauri::command]
async fn server_status(app: AppHandle, _: Args<NoArgs>) -> Result<ServerStatus, ()> {
    // The page asks for the status first thing: that is when the window is
    // ready, which scripts/measure-app times.
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| tracing::info!("window ready"));
    Ok(app.state::<AppState>().status())
}

#[tauri::command]
async fn start_server(app: AppHandle, _: Args<NoArgs>) -> Result<ServerStatus, ()> {
    Ok(actions::start(&app).await)
}

#[tauri::command]
async fn stop_server(app: AppHandle, _: Args<NoArgs>) -> Result<ServerStatus, ()> {
    Ok(actions::stop(&app).await)
}

#[tauri::command]
async fn get_settings(app: AppHandle, _: Args<NoArgs>) -> Result<SettingsView, ()> {
    let state = app.state::<AppState>();
    let inner = state.inner.lock().await;
    Ok(SettingsView {
        settings: inner.settings.clone(),
        warning: inner.settings_warning.clone(),
        system_language: Some(crate::i18n::system_language().tag().to_owned()),
    })
}

#[tauri::command]
async fn save_settings(
    app: AppHandle,
    Args(args): Args<SaveSettingsArgs>,
) -> Result<Saved, SaveRefused> {
    let mut settings = args.settings;
    // The page's copy of the users, the mappings and the devices may be
    // older than their sections' changes: check these settings with those
    // in force.
    let language_before = {
        let state = app.state::<AppState>();
        let inner = state.inner.lock().await;
        settings.mappings = inner.settings.mappings.clone();
        settings.devices = inner.settings.devices.clone();
        settings.users = inner.settings.users.clone();
        inner.settings.language.clone()
    };
    FieldError::refuse_any(settings.refusals())?;
    settings.upstream = users::store_hop_passwords(&settings.upstream)
        .map_err(|e| SaveRefused { errors: vec![e] })?;
    let (settings, status) = actions::apply_settings(&app, settings).await?;
    if settings.language != language_before {
        // The tray says its menu again in the language now in force (here,
        // not in actions: the tray builds on actions).
        crate::tray::relabel(&app, &settings.users);
    }
    set_autostart(&app, settings.launch_at_login);
    Ok(Saved { settings, status })
}

#[tauri::command]
async fn list_users(app: AppHandle, _: Args<NoArgs>) -> Result<UsersView, ()> {
    let users = app.state::<AppState>().inner.lock().await.settings.users.clone();
    Ok(UsersView {
        users: users::listed(&users, now()),
        keyring_error: users::probe().err().map(|e| e.to_string()),
    })
}

#[tauri::command]
async fn add_user(app: AppHandle, Args(args): Args<AddUserArgs>) -> Result<UsersView, UserRefusal> {
    users_view(
        actions::change_users(&app, |list| users::add(list, &args.name, &args.password)).await,
    )
}

#[tauri::command]
async fn rename_user(
    app: AppHandle,
    Args(args): Args<RenameUserArgs>,
) -> Result<UsersView, UserRefusal> {
    users_view(actions::change_users(&app, |list| users::rename(list, &args.from, &args.to)).await)
}

#[tauri::command]
async fn set_password(
    app: AppHandle,
    Args(args): Args<SetPasswordArgs>,
) -> Result<UsersView, UserRefusal> {
    let change =
        |list: &mut Vec<UserEntry>| users::change_password(list, &args.name, &args.password);
    users_view(actions::change_users(&app, change).await)
}

#[tauri::command]
async fn set_user_enabled(
    app: AppHandle,
    Args(args): Args<SetUserEnabledArgs>,
) -> Result<UsersView, UserRefusal> {
    let change = |list: &mut Vec<UserEntry>| users::set_enabled(list, &args.name, args.enabled);
    users_view(actions::change_users(&app, change).await)
}

#[tauri::command]
async fn delete_user(
    app: AppHandle,
    Args(args): Args<UserNameArgs>,
) -> Result<UsersView, UserRefusal> {
    users_view(actions::delete_user(&app, &args.name).await)
}

/// Gives a user a policy (limits, hours, commands, destinations, expiry):
/// saved and in force at once; sessions it no longer allows end.
#[tauri::command]
async fn set_user_policy(
    app: AppHandle,
    Args(args): Args<SetUserPolicyArgs>,
) -> Result<UsersView, SaveRefused> {
    let name = args.name;
    let change = |s: &mut AppSettings| users::set_policy(&mut s.users, &name, args.policy);
    let list = actions::change_settings(&app, "users", change, |s| s.users.clone()).await?;
    tracing::info!(user = %name, "policy changed from the window");
    Ok(UsersView { users: users::listed(&list, now()), keyring_error: None })
}

/// Makes a guest pass: a user with a generated password whose pass ends
/// after so many hours or GB; in force at once.
#[tauri::command]
async fn add_guest_pass(
    app: AppHandle,
    Args(request): Args<GuestPassRequest>,
) -> Result<NewGuestPass, SaveRefused> {
    let (pass, settings) = actions::add_guest_pass(&app, &request).await?;
    let addresses = actions::proxy_addresses(&settings);
    Ok(NewGuestPass {
        pass,
        addresses,
        serves_http: settings.http.enabled,
        password_required: settings.password_required,
        sharing: settings.share_on_lan,
        users: UsersView { users: users::listed(&settings.users, now()), keyring_error: None },
    })
}

/// Revokes one guest pass: it can no longer sign in, and its sessions end.
#[tauri::command]
async fn revoke_guest(
    app: AppHandle,
    Args(args): Args<UserNameArgs>,
) -> Result<UsersView, UserRefusal> {
    let revoked = actions::revoke_guests(&app, &Revoke::One(args.name)).await;
    users_view(revoked.map(|(_, list)| list))
}

/// Revokes every guest pass.
#[tauri::command]
async fn revoke_all_guests(app: AppHandle, _: Args<NoArgs>) -> Result<UsersView, UserRefusal> {
    users_view(actions::revoke_guests(&app, &Revoke::All).await.map(|(_, list)| list))
}

/// Each user's and device's use against its quota and rate limit, and
/// whether it is refused now, as the sampler last read it (none while the
/// proxy is stopped).
#[tauri::command]
async fn list_usage(app: AppHandle, _: Args<NoArgs>) -> Result<UsageView, ()> {
    let running = app.state::<AppState>().status().is_running();
    Ok(UsageView { running, owners: app.state::<Live>().owners() })
}

#[tauri::command]
async fn read_logs(app: AppHandle, Args(args): Args<ReadLogsArgs>) -> Result<Vec<String>, ()> {
    Ok(logs::tail(&app.state::<AppState>().log_dir, &args.level))
}

#[tauri::command]
async fn qr_code(_app: AppHandle, Args(args): Args<TextArgs>) -> Result<String, Refused> {
    let code =
        qrcode::QrCode::new(args.text.as_bytes()).map_err(|e| Refused::new(e.to_string()))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(160, 160).build())
}

#[tauri::command]
async fn copy_text(app: AppHandle, Args(args): Args<TextArgs>) -> Result<(), Refused> {
    if app.state::<Clipboard>().copy(&args.text) {
        Ok(())
    } else {
        Err(Refused::new("The clipboard cannot be reached."))
    }
}

#[tauri::command]
async fn test_upstream(
    app: AppHandle,
    Args(args): Args<TestUpstreamArgs>,
) -> Result<UpstreamTest, Refused> {
    let target: TargetAddr =
        args.target.parse().map_err(|_| Refused::new("Enter the test target as host:port."))?;
    let settings = app.state::<AppState>().inner.lock().await.settings.clone();
    let hop_password = |hop: &_| users::hop_password(hop).ok().flatten();
    let config = settings.to_config(&Outside { hop_password: &hop_password, ..Outside::NOTHING });
    if config.upstream.chain.is_empty() {
        return Err(Refused::new("There is no upstream proxy to test."));
    }
    let report =
        UpstreamChain::new(config.upstream.chain).check(&target, Duration::from_secs(10)).await;
    let step = |s: &StepReport| Step {
        name: s.name.clone(),
        ok: s.outcome.is_ok(),
        millis: s.outcome.as_ref().ok().map(|d| d.as_secs_f64() * 1000.0),
        error: s.outcome.as_ref().err().cloned(),
    };
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

/// The Connections view starts watching: a full reset comes at once on
/// `onMessage`, then what changed, once a second, while the window shows.
#[tauri::command]
async fn watch_live(
    app: AppHandle,
    webview: Webview,
    Args(args): Args<WatchLiveArgs>,
) -> Result<(), ()> {
    let channel: Channel<LiveMessage> = args.on_message.channel_on(webview);
    app.state::<Live>().watch(channel);
    Ok(())
}

/// The view that watches on `channel` stops (it is hidden, or another view
/// is shown).
#[tauri::command]
async fn unwatch_live(app: AppHandle, Args(args): Args<UnwatchLiveArgs>) -> Result<(), ()> {
    app.state::<Live>().unwatch(args.channel);
    Ok(())
}

/// Ends one session; `false` when it had already ended.
#[tauri::command]
async fn close_session(app: AppHandle, Args(args): Args<SessionIdArgs>) -> Result<bool, ()> {
    let closed = app.state::<AppState>().monitor.close(args.id);
    tracing::info!(id = args.id, closed, "session closed from the window");
    Ok(closed)
}

/// Ends every open session; returns how many there were.
#[tauri::command]
async fn close_all_sessions(app: AppHandle, _: Args<NoArgs>) -> Result<u32, ()> {
    let count = app.state::<AppState>().monitor.close_all();
    tracing::info!(count, "all sessions closed from the window");
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// The devices that recently opened the setup page or fetched the PAC
/// file, the most recent first.
#[tauri::command]
async fn recent_visits(app: AppHandle, _: Args<NoArgs>) -> Result<Vec<VisitRow>, ()> {
    Ok(visit_rows(&app.state::<AppState>().monitor.visits()))
}

/// Whether this build has GSS-API (Kerberos) logins: the Settings view
/// shows its GSS-API section only then.
#[tauri::command]
async fn gssapi_available(_: AppHandle, _: Args<NoArgs>) -> Result<bool, ()> {
    Ok(proxy_core::GSSAPI_AVAILABLE)
}

/// The system proxy toggle: the desktop found (and what it is given), on
/// or off, the terminals' file.
#[tauri::command]
async fn system_proxy_status(app: AppHandle, _: Args<NoArgs>) -> Result<SystemProxyStatus, ()> {
    Ok(app.state::<AppState>().system_proxy_status())
}

/// "Use as system proxy" on (the server starts first when stopped) or off
/// (the user's own proxy settings come back).
#[tauri::command]
async fn set_system_proxy(
    app: AppHandle,
    Args(args): Args<SetSystemProxyArgs>,
) -> Result<SystemProxyStatus, Refused> {
    actions::set_system_proxy(&app, args.on).await.map_err(Refused::new)
}

/// Whether the host firewall lets the network reach the listeners the
/// server shares (none while it runs on loopback alone). The Status page
/// asks while sharing, at most once a minute, and on "Check again".
#[tauri::command]
async fn firewall_check(app: AppHandle, _: Args<NoArgs>) -> Result<FirewallCheck, ()> {
    let status = app.state::<AppState>().status();
    Ok(firewall::check(&status).await)
}

/// The port mappings, with what the running server says of each.
#[tauri::command]
async fn list_mappings(app: AppHandle, _: Args<NoArgs>) -> Result<Vec<MappingRow>, ()> {
    Ok(actions::mapping_rows(&app).await)
}

/// Adds a mapping; it listens at once while the proxy runs (and is on).
#[tauri::command]
async fn add_mapping(
    app: AppHandle,
    Args(args): Args<AddMappingArgs>,
) -> Result<Vec<MappingRow>, SaveRefused> {
    let name = args.mapping.clone().normalized().name();
    let rows = actions::change_mappings(&app, |s| mappings::add(s, args.mapping)).await?;
    tracing::info!(mapping = %name, "mapping added from the window");
    Ok(rows)
}

/// Changes the mapping named `name`; a running one restarts with the change.
#[tauri::command]
async fn edit_mapping(
    app: AppHandle,
    Args(args): Args<EditMappingArgs>,
) -> Result<Vec<MappingRow>, SaveRefused> {
    let name = args.name;
    let rows = actions::change_mappings(&app, |s| mappings::edit(s, &name, args.mapping)).await?;
    tracing::info!(mapping = %name, "mapping changed from the window");
    Ok(rows)
}

/// Removes a mapping; its port closes and its sessions end.
#[tauri::command]
async fn remove_mapping(
    app: AppHandle,
    Args(args): Args<MappingNameArgs>,
) -> Result<Vec<MappingRow>, SaveRefused> {
    let name = args.name;
    let rows = actions::change_mappings(&app, |s| mappings::remove(s, &name)).await?;
    tracing::info!(mapping = %name, "mapping removed from the window");
    Ok(rows)
}

/// Starts or stops a mapping (its `enabled` switch, saved).
#[tauri::command]
async fn set_mapping_enabled(
    app: AppHandle,
    Args(args): Args<SetMappingEnabledArgs>,
) -> Result<Vec<MappingRow>, SaveRefused> {
    let (name, enabled) = (args.name, args.enabled);
    let rows = actions::change_mappings(&app, |s| mappings::set_enabled(s, &name, enabled)).await?;
    let what = if enabled { "started" } else { "stopped" };
    tracing::info!(mapping = %name, "mapping {what} from the window");
    Ok(rows)
}

/// The devices and what each may do.
#[tauri::command]
async fn list_devices(app: AppHandle, _: Args<NoArgs>) -> Result<Vec<DeviceEntry>, ()> {
    Ok(app.state::<AppState>().inner.lock().await.settings.devices.clone())
}

/// Adds a device; its policy holds at once for its new sessions.
#[tauri::command]
async fn add_device(
    app: AppHandle,
    Args(args): Args<AddDeviceArgs>,
) -> Result<Vec<DeviceEntry>, SaveRefused> {
    let label = args.device.clone().normalized().label();
    let change = |s: &mut AppSettings| devices::add(s, args.device);
    let list = actions::change_settings(&app, "devices", change, |s| s.devices.clone()).await?;
    tracing::info!(device = %label, "device added from the window");
    Ok(list)
}

/// Changes the device named `name`; sessions it no longer allows end.
#[tauri::command]
async fn edit_device(
    app: AppHandle,
    Args(args): Args<EditDeviceArgs>,
) -> Result<Vec<DeviceEntry>, SaveRefused> {
    let name = args.name;
    let change = |s: &mut AppSettings| devices::edit(s, &name, args.device);
    let list = actions::change_settings(&app, "devices", change, |s| s.devices.clone()).await?;
    tracing::info!(device = %name, "device changed from the window");
    Ok(list)
}

/// Removes a device: its policy no longer holds.
#[tauri::command]
async fn remove_device(
    app: AppHandle,
    Args(args): Args<DeviceNameArgs>,
) -> Result<Vec<DeviceEntry>, SaveRefused> {
    let name = args.name;
    let change = |s: &mut AppSettings| devices::remove(s, &name);
    let list = actions::change_settings(&app, "devices", change, |s| s.devices.clone()).await?;
    tracing::info!(device = %name, "device removed from the window");
    Ok(list)
}

fn users_view(changed: Result<Vec<UserEntry>, users::UserError>) -> Result<UsersView, UserRefusal> {
    changed
        .map(|list| UsersView { users: users::listed(&list, now()), keyring_error: None })
        .map_err(UserRefusal::from)
}

/// The instant users' expiries are judged at.
fn now() -> Expiry {
    Expiry(Now::read().timestamp)
}

/// Writes the login entry again when there is one: an entry an older
/// version wrote (without `--hidden`, or naming the app where it was) then
/// starts this one as it should. An entry the user removed stays removed.
pub fn refresh_autostart(app: &AppHandle) {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if launcher.is_enabled().unwrap_or(false) {
        if let Err(e) = launcher.enable() {
            tracing::warn!("cannot write the login entry again: {e}");
        }
    }
}

/// Turns the login entry on or off.
fn set_autostart(app: &AppHandle, on: bool) {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let done = if on { launcher.enable() } else { launcher.disable() };
    if let Err(e) = done {
        tracing::warn!("cannot change start at login: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Declarations;

    const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/bindings.ts");

    /// The whole of ui/src/bindings.ts, from the contract.
    fn bindings() -> String {
        let mut decls = Declarations::new();
        let commands = contract_typescript(&mut decls);
        decls.add::<ServerStatus>();
        // What the live view's channel carries (WatchLiveArgs names it).
        decls.add::<LiveMessage>();
        let events = format!(
            "export type Events = {{\n  \"{STATUS_EVENT}\": {};\n  \"{VISITS_EVENT}\": {};\n  \"{USERS_EVENT}\": {};\n  \"{SYSTEM_PROXY_EVENT}\": {};\n}};\n",
            <ServerStatus as TS>::name(decls.cfg()),
            <Vec<VisitRow> as TS>::name(decls.cfg()),
            <() as TS>::name(decls.cfg()),
            <SystemProxyStatus as TS>::name(decls.cfg()),
        );
        let mut out = String::from(
            "// Generated from src-tauri (src/commands.rs, the IPC contract) by\n\
             // `UPDATE_BINDINGS=1 cargo test -p socksbox-app bindings`. Do not edit.\n\n\
             import type { Channel } from \"@tauri-apps/api/core\";\n\n",
        );
        for decl in decls.finish() {
            out.push_str(&decl);
            out.push_str("\n\n");
        }
        out.push_str(&commands);
        out.push('\n');
        out.push_str(&events);
        out
    }

    /// The commands build.rs grants the window, in the contract's order.
    const COMMANDS: &[&str] = &include!("commands.list");

    #[test]
    fn the_granted_commands_are_the_contracts() {
        assert_eq!(
            COMMANDS, CONTRACT_COMMANDS,
            "src-tauri/src/commands.list must list the ipc_contract! commands, in order"
        );
    }

    /// The capability in tauri.conf.json grants the events and each command
    /// by name: nothing more, nothing less.
    #[test]
    fn the_window_capability_names_each_command() {
        let conf: serde_json::Value = serde_json::from_str(include_str!("../../tauri.conf.json"))
            .expect("tauri.conf.json is JSON");
        let capabilities = conf["app"]["security"]["capabilities"].as_array().unwrap();
        assert_eq!(capabilities.len(), 1, "one capability, the main window's");
        assert_eq!(capabilities[0]["windows"], serde_json::json!(["main"]));
        let granted: Vec<&str> = capabilities[0]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let mut wanted = vec!["core:event:default".to_owned()];
        wanted.extend(COMMANDS.iter().map(|c| format!("allow-{}", c.replace('_', "-"))));
        assert_eq!(granted, wanted);
    }

    /// The access control list built into the app (tauri-build's output,
    /// as `generate_context!` embeds it) allows the main window each
    /// command and the events, from the app's own pages only, and nothing
    /// else: not a plugin's commands, not another window, not a remote page.
    #[test]
    fn the_built_acl_allows_the_window_its_commands_alone() {
        use tauri::ipc::Origin;
        let mut context: tauri::Context<tauri::Wry> =
            tauri::generate_context!("../tauri.conf.json");
        let acl = context.runtime_authority_mut();
        let allowed = |command: &str, window: &str, origin: &Origin| {
            acl.resolve_access(command, window, window, origin).is_some()
        };
        for command in COMMANDS {
            assert!(allowed(command, "main", &Origin::Local), "{command} is refused to the window");
        }
        assert!(allowed("plugin:event|listen", "main", &Origin::Local), "the page's events");
        let remote = Origin::Remote { url: "http://127.0.0.1:8000/".parse().unwrap() };
        assert!(!allowed("close_all_sessions", "main", &remote), "a remote page");
        assert!(!allowed("close_all_sessions", "other", &Origin::Local), "another window");
        for command in ["plugin:autostart|enable", "plugin:window|close", "plugin:app|version"] {
            assert!(!allowed(command, "main", &Origin::Local), "{command} is allowed");
        }
        assert!(!allowed("not_in_the_contract", "main", &Origin::Local));
    }

    #[test]
    fn bindings_are_current() {
        let wanted = bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(BINDINGS, &wanted).unwrap();
            return;
        }
        let current = std::fs::read_to_string(BINDINGS).unwrap_or_default();
        assert!(
            current == wanted,
            "ui/src/bindings.ts is not what the Rust types say: run \
             `UPDATE_BINDINGS=1 cargo test -p socksbox-app bindings` and commit it"
        );
    }
}
