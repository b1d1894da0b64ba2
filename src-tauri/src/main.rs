//! SocksBox, the desktop app: a window and a tray icon around the
//! proxy-core SOCKS server.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app;
mod commands;
mod live;
mod logs;
mod notify;
mod settings;
mod tray;
mod users;

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::{Manager, WindowEvent};

use crate::app::AppState;
use crate::live::Live;
use crate::settings::SettingsFile;

/// Set by the first exit request, which stops the server before exiting.
static STOPPING: AtomicBool = AtomicBool::new(false);

fn main() {
    let dirs = directories::ProjectDirs::from("org", "SocksBox", "SocksBox");
    let (config_dir, log_dir) = match &dirs {
        Some(dirs) => (dirs.config_dir().to_path_buf(), dirs.data_local_dir().join("logs")),
        None => (std::env::temp_dir().join("socksbox"), std::env::temp_dir().join("socksbox-logs")),
    };
    let _log_guard = logs::init(&log_dir);
    let file = SettingsFile::new(config_dir.join("settings.json"));
    tracing::info!(settings = %file.path().display(), logs = %log_dir.display(), "starting");
    // Each session holds two descriptors; the usual soft limit of 1024 would
    // cap the server near 500 sessions.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }

    let built = tauri::Builder::default()
        // First: a second launch only brings the running app forward.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| tray::show_window(app)))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .manage(AppState::new(file, log_dir))
        .manage(Live::new(proxy_core::Monitor::new()))
        .invoke_handler(tauri::generate_handler![
            commands::server_status,
            commands::start_server,
            commands::stop_server,
            commands::get_settings,
            commands::save_settings,
            commands::list_users,
            commands::add_user,
            commands::rename_user,
            commands::set_password,
            commands::set_user_enabled,
            commands::delete_user,
            commands::read_logs,
            commands::qr_code,
            commands::copy_text,
            commands::test_upstream,
            commands::watch_live,
            commands::unwatch_live,
            commands::close_session,
            commands::close_all_sessions,
        ])
        .setup(|app| {
            let handle = app.handle().clone();
            let has_tray = tray::create(&handle);
            if let Some(window) = app.get_webview_window("main") {
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
            tauri::async_runtime::spawn(live::run(app.handle().clone()));
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let start =
                    handle.state::<AppState>().inner.lock().await.settings.start_server_on_launch;
                if start {
                    app::start(&handle).await;
                }
            });
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
                        app::stop(&handle).await;
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
