//! A TCP mapping: each connection is relayed to the mapping's target, as a
//! SOCKS CONNECT to it would be.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::super::guard::{Kind, Permit, Source};
use super::super::settings::Settings;
use super::super::{is_out_of_resources, refuse, Reserve};
use super::Scope;
use crate::logsafe::Escaped;
use crate::monitor::Activity;
use crate::protocol::socks5::Command;
use crate::relay;

/// Accepts the mapping's connections until `stop`.
pub(super) async fn accept_loop(listener: TcpListener, scope: Scope, stop: CancellationToken) {
    let shared = Arc::clone(&scope.env.shared);
    let mut reserve = Reserve::open();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_out_of_resources(&e) => {
                    // As the SOCKS listeners do: the waiting client hears
                    // at once, then the loop backs off.
                    shared.guard.tally.refused(
                        Source::of(std::net::Ipv4Addr::UNSPECIFIED.into()),
                        &format!("mapping {}: cannot accept: {e}", scope.info.name),
                    );
                    reserve.refuse_one(&listener).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => {
                    debug!("accept failed: {e}");
                    continue;
                }
            },
        };
        let settings = shared.settings.load_full();
        if !shared.admits_client(&settings, peer.ip()) {
            refuse(stream);
            continue;
        }
        let Ok(permit) = shared.guard.take(peer.ip(), Kind::Session, &settings.config.limits)
        else {
            refuse(stream);
            continue;
        };
        let cancel = scope.sessions.child_token();
        let session = Mapped { scope: scope.clone(), settings, peer, cancel: cancel.clone() };
        scope.spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => debug!(%peer, "mapped session cancelled"),
                () = session.run(stream, permit) => {}
            }
        });
    }
}

/// One connection to a TCP mapping.
struct Mapped {
    scope: Scope,
    settings: Arc<Settings>,
    peer: SocketAddr,
    cancel: CancellationToken,
}

impl Mapped {
    async fn run(self, mut client: TcpStream, _permit: Permit) {
        let _ = client.set_nodelay(true);
        let info = &self.scope.info;
        let (handle, ctx) = self.scope.start_session(
            &self.settings,
            self.peer,
            Activity::Connect,
            self.cancel.clone(),
        );
        let (id, peer, mapping, target) = (handle.id(), self.peer, &info.name, &info.target);
        let ctx = match ctx {
            Ok(ctx) => ctx,
            Err(why) => {
                warn!(id, %peer, %mapping, "mapped connection closed: {why}");
                refuse(client);
                return;
            }
        };
        let upstream = match Box::pin(ctx.open(Command::Connect, target)).await {
            Ok((upstream, _)) => upstream,
            Err(refusal) => {
                // Closed at once, with a reset: the client's program tells
                // its user the connection failed.
                let why = format!("cannot reach {target}: {}", Escaped(&refusal.reason));
                warn!(id, %peer, %mapping, "mapped connection closed: {why}");
                info.failed(&why);
                refuse(client);
                return;
            }
        };
        debug!(id, %peer, %mapping, %target, "mapped connection started");
        let idle = self.settings.config.timeouts.idle;
        let end =
            relay::relay(&mut client, upstream, &[], &ctx.counters, idle, ctx.shaper.as_ref())
                .await;
        let (up, down) = ctx.counters.load();
        info!(
            id, %peer, %mapping, %target, up, down, elapsed = ?handle.elapsed(),
            "mapped connection ended: {}", super::super::handler::SessionEnd::Relay(end)
        );
    }
}
