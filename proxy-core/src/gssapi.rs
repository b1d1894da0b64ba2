//! GSS-API through the system's library (MIT Kerberos, by `libgssapi`):
//! the server's side of a security context ([`Acceptor`], [`Accepting`]),
//! the client's for an upstream hop ([`Initiating`]), and a context's
//! per-message protection once RFC 1961's sub-negotiation agreed a level
//! (a [`Seal`], by [`Context::protected`]). Errors are the library's words (major and
//! minor status), never a token.

use std::sync::{Arc, Mutex, PoisonError};

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext, ServerCtx};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{OidSet, GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE};

use crate::config::GssapiConfig;
use crate::protect::Seal;
use crate::protocol::gssapi::Protection;

/// The server's credentials: the service principal's key.
pub struct Acceptor {
    cred: Cred,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Acceptor")
    }
}

impl Acceptor {
    /// Reads the service principal's key from the configured keytab (or
    /// the system's).
    pub fn new(config: &GssapiConfig) -> Result<Acceptor, String> {
        let cred = match &config.keytab {
            Some(keytab) => ffi::acceptor_from_keytab(keytab)?,
            None => {
                let mut mechs = OidSet::new();
                mechs.add(GSS_MECH_KRB5).map_err(|e| e.to_string())?;
                Cred::acquire(None, None, CredUsage::Accept, Some(&mechs)).map_err(|e| {
                    format!("cannot read the service key from the system's keytab: {e}")
                })?
            }
        };
        Ok(Acceptor { cred })
    }

    /// A security context to establish with one client.
    pub fn start(&self) -> Accepting {
        Accepting { ctx: ServerCtx::new(Some(self.cred.clone())) }
    }
}

/// What one step of a context's establishment gave.
#[derive(Debug)]
pub enum Step {
    /// Send this token, and expect another.
    Continue(Vec<u8>),
    /// Established; send this token, if any, and stop.
    Done(Option<Vec<u8>>),
}

/// The server's side of a context being established.
pub struct Accepting {
    ctx: ServerCtx,
}

impl Accepting {
    /// Takes the client's token.
    pub fn step(&mut self, token: &[u8]) -> Result<Step, String> {
        let out = self.ctx.step(token, None).map_err(|e| e.to_string())?;
        let out = out.map(|b| b.to_vec());
        if self.ctx.is_complete() {
            Ok(Step::Done(out))
        } else {
            out.map(Step::Continue)
                .ok_or_else(|| "the context needs more, but gave no token".to_owned())
        }
    }

    /// The client's principal and the service principal it authenticated
    /// to, once established.
    pub fn names(&self) -> Result<(String, String), String> {
        let client = self.ctx.source_name().map_err(|e| e.to_string())?;
        let service = self.ctx.target_name().map_err(|e| e.to_string())?;
        Ok((client.to_string(), service.to_string()))
    }

    /// The established context, for the sub-negotiation and what follows.
    pub fn into_context(self) -> Context {
        Context(Arc::new(Mutex::new(Box::new(self.ctx))))
    }
}

/// The client's side of a context being established with an upstream
/// proxy, with the user's credentials (the default credentials cache,
/// `KRB5CCNAME`).
pub struct Initiating {
    ctx: ClientCtx,
}

impl Initiating {
    /// A context for the service `service` (such as "rcmd") at `host`.
    pub fn new(service: &str, host: &str) -> Result<Initiating, String> {
        let name = format!("{service}@{host}");
        let target = Name::new(name.as_bytes(), Some(GSS_NT_HOSTBASED_SERVICE))
            .map_err(|e| format!("the service name {name}: {e}"))?;
        let flags = CtxFlags::GSS_C_MUTUAL_FLAG
            | CtxFlags::GSS_C_INTEG_FLAG
            | CtxFlags::GSS_C_CONF_FLAG
            | CtxFlags::GSS_C_SEQUENCE_FLAG;
        Ok(Initiating { ctx: ClientCtx::new(None, target, flags, Some(GSS_MECH_KRB5)) })
    }

    /// Takes the server's token (none at first): the token to send, if any.
    pub fn step(&mut self, token: Option<&[u8]>) -> Result<Option<Vec<u8>>, String> {
        let out = self.ctx.step(token, None).map_err(|e| e.to_string())?;
        Ok(out.map(|b| b.to_vec()))
    }

    /// Whether the context is established.
    pub fn is_complete(&self) -> bool {
        self.ctx.is_complete()
    }

    /// The established context.
    pub fn into_context(self) -> Context {
        Context(Arc::new(Mutex::new(Box::new(self.ctx))))
    }
}

type AnyContext = Box<dyn SecurityContext + Send>;

/// An established context (one caller at a time, as GSS-API asks).
#[derive(Clone)]
pub struct Context(Arc<Mutex<AnyContext>>);

impl Context {
    fn with<T>(&self, f: impl FnOnce(&mut AnyContext) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Seals the protection-level octet (RFC 1961 section 4.3: for
    /// integrity, whatever the level).
    pub fn seal_level(&self, level: Protection) -> Result<Vec<u8>, String> {
        self.with(|ctx| ctx.wrap(false, &[level.octet()]))
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string())
    }

    /// Opens a sealed protection-level octet.
    pub fn open_level(&self, sealed: &[u8]) -> Result<Protection, String> {
        let plain = self.with(|ctx| ctx.unwrap(sealed)).map_err(|e| e.to_string())?;
        match *plain {
            [octet] => Protection::from_octet(octet).map_err(|e| e.to_string()),
            _ => Err(format!("a protection level of {} bytes, not one", plain.len())),
        }
    }

    /// The context sealing every message at `level`.
    pub fn protected(self, level: Protection) -> Arc<dyn Seal> {
        Arc::new(Protected { ctx: self, level })
    }
}

/// A context's per-message protection at the agreed level.
struct Protected {
    ctx: Context,
    level: Protection,
}

impl Seal for Protected {
    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        let encrypt = self.level.encrypts();
        self.ctx.with(|ctx| ctx.wrap(encrypt, plain)).map(|b| b.to_vec()).map_err(|e| e.to_string())
    }

    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        self.ctx.with(|ctx| ctx.unwrap(sealed)).map(|b| b.to_vec()).map_err(|e| e.to_string())
    }
}

/// The one call `libgssapi` does not wrap.
#[allow(unsafe_code)]
mod ffi {
    use std::ffi::CString;
    use std::path::Path;
    use std::ptr;

    use libgssapi::credential::Cred;
    use libgssapi::error::{Error, MajorFlags};
    use libgssapi_sys::{
        gss_OID_set, gss_acquire_cred_from, gss_cred_id_t, gss_key_value_element_desc,
        gss_key_value_set_desc, OM_uint32, _GSS_C_INDEFINITE, GSS_C_ACCEPT, GSS_S_COMPLETE,
    };

    /// Acceptor credentials for any key in `keytab`, read from there alone
    /// (MIT's credential store: nothing of the process's environment
    /// changes).
    pub(super) fn acceptor_from_keytab(keytab: &Path) -> Result<Cred, String> {
        let shown = keytab.display();
        let path = CString::new(keytab.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("the keytab path {shown} holds a NUL byte"))?;
        let mut element =
            gss_key_value_element_desc { key: c"keytab".as_ptr(), value: path.as_ptr() };
        let store = gss_key_value_set_desc { count: 1, elements: &mut element };
        let mut minor: OM_uint32 = 0;
        let mut cred: gss_cred_id_t = ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `store` and what it
        // points to (`element`, `path`) outlive it; a null name and a null
        // mechanism set are GSS_C_NO_NAME and GSS_C_NO_OID_SET; the
        // outputs we do not want are null, which RFC 2744 allows.
        let major = unsafe {
            gss_acquire_cred_from(
                &mut minor,
                ptr::null_mut(),
                _GSS_C_INDEFINITE,
                ptr::null_mut(),
                GSS_C_ACCEPT as _,
                &store,
                &mut cred,
                ptr::null_mut::<gss_OID_set>(),
                ptr::null_mut(),
            )
        };
        if major != GSS_S_COMPLETE {
            let error = Error { major: MajorFlags::from_bits_retain(major), minor };
            return Err(format!("cannot read the service key from {shown}: {error}"));
        }
        // SAFETY: the call succeeded, so `cred` is a credential we own,
        // released once by the Cred's drop.
        Ok(unsafe { Cred::from_c(cred) })
    }
}
