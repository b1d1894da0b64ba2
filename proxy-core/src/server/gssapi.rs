//! The GSS-API method of SOCKS5 (RFC 1961), the server's side: the
//! security context's establishment (section 3), the client's principal
//! checked against `gssapi.allow`, then the protection-level
//! sub-negotiation (section 4). A failure at any step is answered with the
//! abort message and the connection closes; the log says why (the
//! library's words, never a token).

#[cfg(feature = "gssapi")]
use tokio::io::AsyncWriteExt;

use std::sync::Arc;

use super::settings::Settings;
use super::wire::{Wire, WireError};
use crate::monitor::Monitor;
use crate::protect::Seal;

/// Who the client proved to be, and how the rest of its connection is
/// protected (`None`: in the clear).
pub(super) struct Kerberos {
    pub principal: String,
    pub seal: Option<Arc<dyn Seal>>,
}

/// Why the method ended without a principal.
pub(super) enum GssError {
    /// The method failed (answered with the abort message), and why.
    Failed(String),
    /// The connection closed or broke (not answered).
    Wire(WireError),
}

impl From<WireError> for GssError {
    fn from(error: WireError) -> Self {
        GssError::Wire(error)
    }
}

/// Runs the method with the client at `peer` once it was chosen.
#[cfg(not(feature = "gssapi"))]
pub(super) async fn authenticate(
    _wire: &mut Wire,
    _settings: &Settings,
    _monitor: &Monitor,
) -> Result<Kerberos, GssError> {
    Err(GssError::Failed("this build has no GSS-API support".to_owned()))
}

/// Runs the method with the client at `peer` once it was chosen.
#[cfg(feature = "gssapi")]
pub(super) async fn authenticate(
    wire: &mut Wire,
    settings: &Settings,
    monitor: &Monitor,
) -> Result<Kerberos, GssError> {
    // Context tokens are longer than any other handshake message (a
    // Kerberos ticket with its authorization data).
    wire.limit = crate::protocol::gssapi::HEADER_LEN + crate::protocol::gssapi::MAX_TOKEN;
    let outcome = run(wire, settings).await;
    wire.limit = super::wire::HANDSHAKE_BUFFER;
    if let Err(GssError::Failed(_)) = &outcome {
        // Counted as a refused login (the app tells the user of them).
        monitor.count_auth_failure();
    }
    outcome
}

#[cfg(feature = "gssapi")]
async fn run(wire: &mut Wire, settings: &Settings) -> Result<Kerberos, GssError> {
    use crate::gssapi::Step;
    use crate::protocol::gssapi::{self, Message, Protection};

    let (Some(Ok(acceptor)), Some(config)) = (&settings.gssapi, &settings.config.gssapi) else {
        return Err(fail("the method is not configured"));
    };
    let mut accepting = acceptor.start();
    // Section 3: tokens until the context is established.
    loop {
        let token = read_token(wire, "a context token").await?;
        // The library may read the keytab: off the async workers.
        let (back, step) = tokio::task::spawn_blocking(move || {
            let step = accepting.step(&token);
            (accepting, step)
        })
        .await
        .map_err(|e| fail(&format!("the context step failed to run: {e}")))?;
        accepting = back;
        match step.map_err(|e| fail(&format!("the client's token was refused: {e}")))? {
            Step::Continue(out) => send(wire, Message::Authentication(&out)).await?,
            Step::Done(out) => {
                if let Some(out) = out {
                    send(wire, Message::Authentication(&out)).await?;
                }
                break;
            }
        }
    }
    let (client, service) = accepting.names().map_err(|e| fail(&e))?;
    if let Some(principal) = &config.principal {
        if !same_principal(principal, &service) {
            return Err(fail(&format!(
                "{client} authenticated to {service}, not to the configured {principal}"
            )));
        }
    }
    if !config.allows(&client, &service) {
        return Err(fail(&format!("{client} is not allowed (gssapi.allow)")));
    }
    let context = accepting.into_context();

    // Section 4: the protection level, sealed, or in the clear as the NEC
    // reference implementation sends it (a single octet that is no
    // sealed message).
    let token = wire
        .read_message(|buf| match Message::decode(buf)? {
            Some((Message::Protection(token), used)) => Ok(Some((Ok(token.to_vec()), used))),
            Some((Message::Abort, used)) => Ok(Some((Err("the client aborted"), used))),
            Some((other, used)) => Ok(Some((Err(unexpected(other)), used))),
            None => Ok(None),
        })
        .await
        .map_err(wire_failure)?
        .map_err(fail)?;
    let (proposed, clear) = match context.open_level(&token) {
        Ok(level) => (level, false),
        Err(_) if token.len() == 1 => {
            (Protection::from_octet(token[0]).map_err(|e| fail(&e.to_string()))?, true)
        }
        Err(e) => return Err(fail(&format!("the protection level did not open: {e}"))),
    };
    let level = gssapi::choose(proposed, &config.protection)
        .ok_or_else(|| fail("no protection level is acceptable"))?;
    let answer = if clear {
        vec![level.octet()]
    } else {
        context.seal_level(level).map_err(|e| fail(&e))?
    };
    send(wire, Message::Protection(&answer)).await?;
    tracing::debug!(%client, proposed = %proposed, %level, clear, "GSS-API context established");
    let seal = level.seals().then(|| context.protected(level));
    Ok(Kerberos { principal: client, seal })
}

/// Whether the configured principal names the service the client reached
/// ("rcmd/host@REALM" as written, or without its realm).
#[cfg(feature = "gssapi")]
fn same_principal(configured: &str, service: &str) -> bool {
    configured == service || service.rsplit_once('@').is_some_and(|(name, _)| name == configured)
}

#[cfg(feature = "gssapi")]
fn unexpected(message: crate::protocol::gssapi::Message<'_>) -> &'static str {
    use crate::protocol::gssapi::Message;
    match message {
        Message::Authentication(_) => "a context token where the protection level belongs",
        Message::Protection(_) => "a protection level before the context was established",
        Message::Encapsulated(_) => "sealed data before the sub-negotiation ended",
        Message::Abort => "the client aborted",
    }
}

/// Reads one context token (MTYP 1).
#[cfg(feature = "gssapi")]
async fn read_token(wire: &mut Wire, what: &str) -> Result<Vec<u8>, GssError> {
    use crate::protocol::gssapi::Message;
    let read = wire
        .read_message(|buf| match Message::decode(buf)? {
            Some((Message::Authentication(token), used)) => Ok(Some((Ok(token.to_vec()), used))),
            Some((other, used)) => Ok(Some((Err(unexpected(other)), used))),
            None => Ok(None),
        })
        .await
        .map_err(wire_failure)?;
    read.map_err(|why| fail(&format!("expected {what}: {why}")))
}

#[cfg(feature = "gssapi")]
async fn send(
    wire: &mut Wire,
    message: crate::protocol::gssapi::Message<'_>,
) -> Result<(), GssError> {
    wire.stream.write_all(&message.to_bytes()).await.map_err(|e| WireError::Io(e).into())
}

/// A malformed message is a failure of the method (answered with the
/// abort message); a closed or broken connection is not answered.
#[cfg(feature = "gssapi")]
fn wire_failure(error: WireError) -> GssError {
    match error {
        WireError::Protocol(e) => fail(&e.to_string()),
        WireError::Oversized => fail("a token longer than the handshake allows"),
        other => other.into(),
    }
}

#[cfg(feature = "gssapi")]
fn fail(why: &str) -> GssError {
    GssError::Failed(why.to_owned())
}
