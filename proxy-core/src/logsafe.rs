//! Values a client chose (names, USERIDs, usernames), written into log
//! lines safely: a client must not be able to start a new log line (a
//! forged `ERROR` in the Logs view) or send a terminal an escape sequence.

use std::fmt::{self, Write};

/// A client's text for a log line: control characters and invisible
/// formatting characters (bidirectional overrides, zero-width characters,
/// line and paragraph separators) are escaped the way Rust's `Debug` does
/// (`\n`, `\u{202e}`); everything else is written as it is.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() || is_invisible(c) {
                for escaped in c.escape_debug() {
                    f.write_char(escaped)?;
                }
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Unicode's format characters that change how a line reads, and the line
/// and paragraph separators.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_escaped() {
        let forged = "x\n2026-12-01T10:00:00Z ERROR proxy_core: forged";
        assert_eq!(
            Escaped(forged).to_string(),
            "x\\n2026-12-01T10:00:00Z ERROR proxy_core: forged"
        );
        assert_eq!(Escaped("\u{1b}[31mred").to_string(), "\\u{1b}[31mred");
        assert_eq!(Escaped("evil\u{202e}txt.exe").to_string(), "evil\\u{202e}txt.exe");
        assert_eq!(Escaped("a\u{2028}b\rc\td").to_string(), "a\\u{2028}b\\rc\\td");
        assert_eq!(Escaped("bücher.example, ünïcode").to_string(), "bücher.example, ünïcode");
    }
}
