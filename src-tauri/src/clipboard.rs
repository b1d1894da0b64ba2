//! The clipboard, kept open for the life of the app: on X11 a copied text
//! lives only as long as the program that owns it.

use std::sync::Mutex;

/// The app's clipboard, opened when first used.
#[derive(Default)]
pub struct Clipboard(Mutex<Option<arboard::Clipboard>>);

impl Clipboard {
    /// Puts `text` on the clipboard; `false` when there is none.
    pub fn copy(&self, text: &str) -> bool {
        let Ok(mut slot) = self.0.lock() else {
            return false;
        };
        if slot.is_none() {
            *slot = arboard::Clipboard::new().ok();
        }
        slot.as_mut().is_some_and(|c| c.set_text(text.to_owned()).is_ok())
    }
}
