//! SocksBox, the desktop app: a window and a tray icon around the
//! proxy-core SOCKS server.
//!
//! This file wires the parts; nothing lower imports anything higher:
//! - leaves: `status` (the server's status and the tray's summary of it),
//!   `visits` (the devices that opened the setup page), `format`,
//!   `clipboard`, `notify`, `logs`, `settings`, `users`, `guest` (guest
//!   passes as asked for, their generated names and passwords), `usage`
//!   (each user's and device's use, with its rate), `alerts` (the notices
//!   of quotas filling and guest passes ending, said once), `mappings` (the
//!   Mappings section's changes and rows), `sysproxy` (the system proxy
//!   toggle: the desktop's proxy settings pointed at this proxy and put
//!   back), and `private` (folders and files only this user can read);
//! - `actions` (the app's state and what the window and the tray both do;
//!   it publishes the status and the users on watch channels) and `live`
//!   (the sampler, which follows those channels, reads the use through the
//!   actions' state and publishes the tray's text);
//! - `tray` and `commands` (the IPC surface, declared in `contract`), which
//!   call the actions and follow the channels.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod actions;
mod alerts;
mod clipboard;
mod commands;
mod contract;
mod devices;
mod firewall;
mod format;
mod guest;
mod i18n;
mod live;
mod logs;
mod mappings;
mod notify;
mod private;
mod settings;
mod status;
mod sysproxy;
mod theme;
mod tray;
mod usage;
mod users;
mod visits;

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::{Manager, WindowEvent};

use crate::actions::AppState;
use crate::alerts::Notices;
use crate::clipboard::Clipboard;
use crate::live::Live;
use crate::notify::Notifier;
use crate::settings::SettingsFile;
use crate::sysproxy::{Desktop, Recovery, Switch};

/// Set by the first exit request, which stops the server before exiting.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The argument the login entry starts the app with: it starts in the tray,
/// its window hidden (where there is a tray; without one the window shows).
const HIDDEN: &str = "--hidden";

/// Why the app does not start without a home directory.
const NO_HOME: &str = "SocksBox cannot start: there is no home directory to keep its settings \
    and logs in (HOME is not set, and the user has none in the password database). It does not \
    fall back to a folder other users share, such as /tmp.";

fn main() {
    // Without a home there is no folder of this user's own: a shared one
    // (/tmp) would let other local users read the logs, or plant settings.
    let Some(dirs) = directories::ProjectDirs::from("org", "SocksBox", "SocksBox") else {
        eprintln!("error: {NO_HOME}");
        std::process::exit(1);
    };
    let (config_dir, log_dir) =
        (dirs.config_dir().to_path_buf(), dirs.data_local_dir().join("logs"));
    let _log_guard = logs::init(&log_dir);
    // Settings saved by an older version may sit in a folder others can read.
    if let Err(e) = private::create_dir(&config_dir) {
        tracing::warn!("cannot make the settings folder {} private: {e}", config_dir.display());
    }
    let file = SettingsFile::new(config_dir.join("settings.json"));
    tracing::info!(settings = %file.path().display(), logs = %log_dir.display(), "starting");
    // Each session holds two descriptors; the usual soft limit of 1024 would
    // cap the server near 500 sessions.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }

    // Before anything else: a run that ended without putting the desktop's
    // proxy settings back (a crash, a power loss) left its state file.
    let mut switch = Switch::new(dirs.data_local_dir(), Desktop::detect());
    let recovery = switch.recover();
    match &recovery {
        Recovery::Nothing => {}
        Recovery::PutBack => tracing::warn!(
            "the last run ended without turning the system proxy off; the desktop's own proxy \
             settings are put back"
        ),
        Recovery::Failed(why) => tracing::error!("{why}"),
    }
    let monitor = proxy_core::Monitor::new();
    let state = AppState::new(file, log_dir, monitor.clone(), switch);
    let (notifications, start_on_launch) = {
        let inner = state.inner.blocking_lock();
        i18n::set_choice(&inner.settings.language);
        (inner.settings.notifications, inner.settings.start_server_on_launch)
    };
    let notifier = Notifier::new(notifications);
    match &recovery {
        Recovery::Nothing => {}
        Recovery::PutBack => notifier.show(sysproxy::RECOVERED_NOTICE),
        Recovery::Failed(why) => notifier.show(why),
    }
    let hidden = std::env::args().any(|a| a == HIDDEN);
    let notices = Notices::load(Some(state.state_dir.join("notices.json")));
    let live = Live::new(monitor, state.subscribe(), state.watch_users(), notices);

    let built = tauri::Builder::default()
        // First: a second launch only brings the running app forward.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            // The login entry's launch while the app already runs stays out
            // of the way.
            if !args.iter().any(|a| a == HIDDEN) {
                tray::show_window(app);
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN]),
        ))
        .manage(state)
        .manage(live)
        .manage(notifier)
        .manage(Clipboard::default())
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let handle = app.handle().clone();
            theme::follow(&handle);
            let has_tray = tray::create(&handle);
            if let Some(window) = app.get_webview_window("main") {
                if hidden && has_tray {
                    tracing::info!("started at login: in the tray, the window hidden");
                    let _ = window.hide();
                }
                // With a tray, closing the window hides it; without one,
                // closing would leave no way back, so it quits.
                window.on_window_event(move |event| {
                    if let (WindowEvent::CloseRequested { api, .. }, true) = (event, has_tray) {
                        api.prevent_close();
                        if let Some(window) = handle.get_webview_window("main") {
                            let _ = window.hide();
                        }
                    }
                });
            }
            let handle = app.handle().clone();
            let status = handle.state::<AppState>().subscribe();
            let tray_text = handle.state::<Live>().tray_text();
            let users = handle.state::<AppState>().watch_users();
            let system_proxy = handle.state::<AppState>().watch_system_proxy();
            tauri::async_runtime::spawn(tray::follow(
                handle.clone(),
                status.clone(),
                tray_text,
                users,
                system_proxy,
            ));
            let system_proxy = handle.state::<AppState>().watch_system_proxy();
            tauri::async_runtime::spawn(commands::announce_system_proxy(
                handle.clone(),
                system_proxy,
            ));
            #[cfg(unix)]
            tauri::async_runtime::spawn(quit_on_signal(handle.clone()));
            commands::refresh_autostart(&handle);
            tauri::async_runtime::spawn(commands::announce_status(handle.clone(), status));
            let users = handle.state::<AppState>().watch_users();
            tauri::async_runtime::spawn(commands::announce_users(handle.clone(), users));
            let monitor = handle.state::<AppState>().monitor.clone();
            tauri::async_runtime::spawn(commands::announce_visits(handle.clone(), monitor));
            tauri::async_runtime::spawn(live::run(handle.clone()));
            if start_on_launch {
                tauri::async_runtime::spawn(async move { actions::start(&handle).await });
            }
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"));
    match built {
        Ok(app) => app.run(|handle, event| {
            // The first exit request stops the server first, then exits
            // again. Never block this (main) thread on it: stopping
            // updates the tray, which runs on this thread.
            if let tauri::RunEvent::ExitRequested { api, code, .. } = event {
                if !STOPPING.swap(true, Ordering::SeqCst) {
                    api.prevent_exit();
                    let handle = handle.clone();
                    tauri::async_runtime::spawn(async move {
                        actions::stop(&handle).await;
                        handle.exit(code.unwrap_or(0));
                    });
                }
            }
        }),
        Err(e) => {
            tracing::error!("the app could not start: {e}");
            eprintln!("error: the app could not start: {e}");
            std::process::exit(1);
        }
    }
}

/// SIGTERM (a logout, a shutdown, `kill`), SIGINT and SIGHUP quit as the
/// tray's Quit does: the exit request stops the server and puts the
/// desktop's proxy settings back first. Without this, the signal's default
/// ends the process at once, and only the next start would put them back.
#[cfg(unix)]
async fn quit_on_signal(app: tauri::AppHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let followed = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = followed else {
        tracing::warn!("cannot follow SIGTERM: it ends the app at once");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    tracing::info!("quitting on a signal");
    app.exit(0);
}
