//! Desktop notifications. A desktop without a notification service (or
//! without a D-Bus session) only gets a log line.

/// Shows `message` as a notification, off the calling thread (D-Bus calls
/// block); failures are logged.
pub fn show(message: &str) {
    let message = message.to_owned();
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("SocksBox")
            .summary("SocksBox")
            .body(&message)
            .show();
        if let Err(e) = shown {
            tracing::info!("notification not shown ({e}): {message}");
        }
    });
}
