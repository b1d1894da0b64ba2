//! The IPC contract between the window and this app, in one place: every
//! command's arguments, result and error, and every event's payload, as
//! Rust types from which `ui/src/bindings.ts` is generated (ts-rs). A test
//! fails when the checked-in file differs from what the types say, and the
//! front end's type check then holds the window to it, so the two sides
//! cannot drift apart.
//!
//! Every command has the same shape, `async fn(AppHandle, Args<A>) ->
//! Result<T, E>` (or with the calling `Webview` before the arguments), and
//! [`ipc_contract!`] checks each one against its entry at compile time.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use tauri::ipc::{CommandArg, CommandItem, InvokeBody, InvokeError};
use tauri::Runtime;
use ts_rs::TS;

/// A command's arguments: the whole payload of the call (the object the
/// window passes to `invoke`), read into one typed struct.
pub struct Args<T>(pub T);

impl<'de, T: DeserializeOwned, R: Runtime> CommandArg<'de, R> for Args<T> {
    fn from_command(command: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        let invalid = |e: &dyn std::fmt::Display| {
            InvokeError::from(format!("invalid arguments for {}: {e}", command.name))
        };
        match command.message.payload() {
            InvokeBody::Json(value) => T::deserialize(value).map(Args).map_err(|e| invalid(&e)),
            InvokeBody::Raw(_) => Err(invalid(&"expected a JSON object")),
        }
    }
}

/// The arguments of a command that takes none.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NoArgs {}

impl TS for NoArgs {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "Record<string, never>".to_owned()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

/// A command shape the contract can check: `M` tells the shapes apart.
pub trait Signature<A, T, E, M> {}

impl<F, Fut, A, T, E> Signature<A, T, E, (A,)> for F
where
    F: Fn(tauri::AppHandle, Args<A>) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
}

impl<F, Fut, A, T, E> Signature<A, T, E, (A, A)> for F
where
    F: Fn(tauri::AppHandle, tauri::Webview, Args<A>) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
}

/// Fails to compile unless `command` takes `A` and answers `Result<T, E>`.
pub fn check<A, T, E, M>(_command: impl Signature<A, T, E, M>) -> PhantomData<(A, T, E)> {
    PhantomData
}

/// Collects the declarations of every named type a contract reaches.
#[cfg(test)]
pub struct Declarations {
    cfg: ts_rs::Config,
    seen: std::collections::BTreeSet<String>,
    out: Vec<String>,
}

#[cfg(test)]
impl Declarations {
    pub fn new() -> Self {
        Declarations {
            cfg: ts_rs::Config::new().with_large_int("number"),
            seen: Default::default(),
            out: Vec::new(),
        }
    }

    /// The config the names are written with.
    pub fn cfg(&self) -> &ts_rs::Config {
        &self.cfg
    }

    /// Declares `T` and every named type it depends on, once each, and
    /// of a generic type (a command's `Vec<Row>`) the types it holds.
    pub fn add<T: TS + 'static + ?Sized>(&mut self) {
        struct Visit<'a>(&'a mut Declarations);
        impl ts_rs::TypeVisitor for Visit<'_> {
            fn visit<U: TS + 'static + ?Sized>(&mut self) {
                self.0.add::<U>();
            }
        }
        if T::output_path().is_some() {
            let name = T::ident(&self.cfg);
            if !self.seen.insert(name) {
                return;
            }
            self.out.push(format!("export {}", T::decl(&self.cfg)));
        }
        T::visit_dependencies(&mut Visit(self));
        T::visit_generics(&mut Visit(self));
    }

    /// The declarations, sorted by name so the file is stable.
    pub fn finish(mut self) -> Vec<String> {
        self.out.sort_by_key(|d| d.split_whitespace().nth(2).map(str::to_owned));
        self.out
    }
}

/// Declares the commands: generates `handler()` for the builder, a
/// compile-time check of each command's signature, and (in tests) the
/// TypeScript `Commands` map of `ui/src/bindings.ts`.
macro_rules! ipc_contract {
    ($($name:ident($args:ty) -> $ok:ty, $err:ty;)*) => {
        /// The invoke handler of every command in the contract.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// The commands' names, in the contract's order (tests hold
        /// `commands.list`, which build.rs grants, to them).
        #[cfg(test)]
        pub const CONTRACT_COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// Each command's signature is the contract's; this never runs.
        #[allow(dead_code)]
        fn signatures_are_the_contract() {
            $(let _ = $crate::contract::check::<$args, $ok, $err, _>($name);)*
        }

        /// The `Commands` map and the declarations it needs.
        #[cfg(test)]
        pub fn contract_typescript(decls: &mut $crate::contract::Declarations) -> String {
            use ts_rs::TS;
            let mut map = String::from("export type Commands = {\n");
            $(
                decls.add::<$args>();
                decls.add::<$ok>();
                decls.add::<$err>();
                map.push_str(&format!(
                    "  {}: {{ args: {}; result: {}; error: {} }};\n",
                    stringify!($name),
                    <$args as TS>::name(decls.cfg()),
                    <$ok as TS>::name(decls.cfg()),
                    <$err as TS>::name(decls.cfg()),
                ));
            )*
            map.push_str("};\n");
            map
        }
    };
}

pub(crate) use ipc_contract;
