//! The macOS application firewall, through `socketfilterfw`.
//!
//! It admits or refuses programs, not ports: when on (`--getglobalstate`),
//! a program listed as allowed (`--listapps`) receives connections on any
//! port, one listed as blocked none, and for one not listed macOS asks on
//! the screen at the first incoming connection (refusing meanwhile);
//! "block all incoming connections" (`--getblockall`) refuses every
//! program. Its verdict is kept per process: a change applies to a program
//! started after it.

use std::path::Path;

use super::{Command, Elevation, Fix, Kind, Query, Report, RunError, Runner, Sources, State};

/// The firewall's command-line tool.
pub const SOCKETFILTERFW: &str = "/usr/libexec/ApplicationFirewall/socketfilterfw";

/// Asks the application firewall about `query`'s program.
pub(super) async fn check<R: Runner>(query: &Query, runner: &R) -> Report {
    let state = match ask(runner, &["--getglobalstate"]).await {
        Ok(text) => global_state(&text),
        Err(Asked::NotInstalled) => return Report::new(query, None, State::NotFound),
        Err(Asked::Failed(what)) => return unknown(query, &what),
    };
    let block_all = match state {
        Some(0) => {
            return Report::new(query, Some(Kind::MacosApplicationFirewall), State::Inactive)
        }
        Some(1) => match ask(runner, &["--getblockall"]).await.map(|t| block_all(&t)) {
            Ok(Some(on)) => on,
            Ok(None) => {
                return unknown(
                    query,
                    "`socketfilterfw --getblockall` said something this check does not read",
                )
            }
            Err(Asked::NotInstalled) => return Report::new(query, None, State::NotFound),
            Err(Asked::Failed(what)) => return unknown(query, &what),
        },
        // State 2: on, and blocking everything but essential services.
        Some(2) => true,
        _ => {
            return unknown(
                query,
                "`socketfilterfw --getglobalstate` said something this check does not read",
            )
        }
    };
    let Some(program) = query.program.as_deref() else {
        return unknown(query, "which program listens is not known; check that it is allowed under System Settings, Network, Firewall, Options");
    };
    let listed = match ask(runner, &["--listapps"]).await {
        Ok(text) => listed(&text, program),
        Err(Asked::NotInstalled) => return Report::new(query, None, State::NotFound),
        Err(Asked::Failed(what)) => return unknown(query, &what),
    };
    let path = program.to_string_lossy().into_owned();
    let allowed = match listed {
        Listed::Allowed => true,
        Listed::Blocked => false,
        Listed::Absent => {
            match ask(runner, &["--getappblocked", &path]).await.map(|t| t.to_ascii_lowercase()) {
                // It says "permitted" for a program it has never seen: only a
                // "blocked" answer adds anything to the list's silence.
                Ok(text) if text.contains("blocked") => false,
                _ => {
                    if block_all {
                        false
                    } else {
                        let why = format!(
                        "{path} is not in the firewall's list of applications: macOS asks on the screen at its first incoming connection and refuses it until someone allows it"
                    );
                        return blocks(query, why, fix(&path, false, true));
                    }
                }
            }
        }
    };
    match (block_all, allowed) {
        (false, true) => Report::new(
            query,
            Some(Kind::MacosApplicationFirewall),
            State::Admits {
                from: Sources::Any,
                except: Vec::new(),
                by: format!("{path} may accept incoming connections"),
            },
        ),
        (false, false) => blocks(
            query,
            format!("{path} is set to block incoming connections"),
            fix(&path, false, !matches!(listed, Listed::Blocked)),
        ),
        (true, _) => blocks(
            query,
            "\"Block all incoming connections\" is on, which refuses every application".to_owned(),
            fix(&path, true, !allowed && !matches!(listed, Listed::Blocked)),
        ),
    }
}

fn unknown(query: &Query, what: &str) -> Report {
    Report::new(
        query,
        Some(Kind::MacosApplicationFirewall),
        State::Unknown { what_to_check: what.to_owned() },
    )
}

fn blocks(query: &Query, why: String, fix: Fix) -> Report {
    Report::new(query, Some(Kind::MacosApplicationFirewall), State::Blocks { why, fix }).with_notes(
        vec!["the firewall decides once per process: restart socksbox-server after the fix"
            .to_owned()],
    )
}

enum Asked {
    NotInstalled,
    Failed(String),
}

async fn ask<R: Runner>(runner: &R, args: &[&str]) -> Result<String, Asked> {
    match runner.run(SOCKETFILTERFW, args).await {
        Ok(output) if output.success() => Ok(output.stdout),
        Ok(output) => Err(Asked::Failed(format!(
            "`socketfilterfw {}` failed: {}; check System Settings, Network, Firewall",
            args.join(" "),
            output.text().lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message")
        ))),
        Err(RunError::NotFound(_)) => Err(Asked::NotInstalled),
        Err(e) => Err(Asked::Failed(format!("{e}; check System Settings, Network, Firewall"))),
    }
}

/// `Firewall is enabled. (State = 1)`: the number.
fn global_state(text: &str) -> Option<u8> {
    let (_, rest) = text.split_once("(State = ")?;
    rest.split_once(')')?.0.trim().parse().ok()
}

/// `Firewall has block all state set to enabled.` (or `disabled.`).
fn block_all(text: &str) -> Option<bool> {
    let text = text.trim().to_ascii_lowercase();
    let state = text.strip_prefix("firewall has block all state set to ")?;
    match state.trim_end_matches('.') {
        "enabled" => Some(true),
        "disabled" => Some(false),
        _ => None,
    }
}

/// How `--listapps` lists a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listed {
    Allowed,
    Blocked,
    Absent,
}

/// `1 :  /path \n \t ( Allow incoming connections )`, paths with `%20`
/// for spaces.
fn listed(text: &str, program: &Path) -> Listed {
    let mut current = false;
    for line in text.lines() {
        if let Some((number, path)) = line.split_once(" : ") {
            if number.trim().parse::<u32>().is_ok() {
                current = Path::new(&percent_decode(path.trim())) == program;
                continue;
            }
        }
        let verdict = line.trim().trim_start_matches('(').trim_start().to_ascii_lowercase();
        if current && verdict.starts_with("allow") {
            return Listed::Allowed;
        }
        if current && verdict.starts_with("block") {
            return Listed::Blocked;
        }
    }
    Listed::Absent
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Turn off block-all, add the program, allow it.
fn fix(path: &str, block_all: bool, add: bool) -> Fix {
    let mut commands = Vec::new();
    let mut words = Vec::new();
    if block_all {
        commands.push(Command::new(Elevation::Sudo, &[SOCKETFILTERFW, "--setblockall", "off"]));
        words.push("turns off \"Block all incoming connections\"".to_owned());
    }
    if add {
        commands.push(Command::new(Elevation::Sudo, &[SOCKETFILTERFW, "--add", path]));
    }
    commands.push(Command::new(Elevation::Sudo, &[SOCKETFILTERFW, "--unblockapp", path]));
    words.push(format!("lets {path} accept incoming connections"));
    Fix::new(commands, words.join(" and "))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::testing::Recorded;
    use super::super::{check_with, Platform};
    use super::*;

    const ON: &str = include_str!("testdata/macos-globalstate-on.txt");
    const OFF: &str = include_str!("testdata/macos-globalstate-off.txt");
    const ESSENTIAL: &str = include_str!("testdata/macos-globalstate-essential.txt");
    const BLOCK_ALL_OFF: &str = include_str!("testdata/macos-blockall-off.txt");
    const BLOCK_ALL_ON: &str = include_str!("testdata/macos-blockall-on.txt");
    const LISTAPPS: &str = include_str!("testdata/macos-listapps.txt");

    fn line(args: &str) -> String {
        format!("{SOCKETFILTERFW} {args}")
    }

    fn query(program: &str) -> Query {
        let mut query = Query::new("0.0.0.0:1080".parse().unwrap());
        query.program = Some(PathBuf::from(program));
        query
    }

    fn runner(state: &str, block_all: &str) -> Recorded {
        Recorded::new()
            .answer(&line("--getglobalstate"), 0, state)
            .answer(&line("--getblockall"), 0, block_all)
            .answer(&line("--listapps"), 0, LISTAPPS)
            .answer(
                &line("--getappblocked /opt/socksbox/socksbox-server"),
                0,
                include_str!("testdata/macos-appblocked-permitted.txt"),
            )
    }

    #[test]
    fn the_outputs_read() {
        assert_eq!(global_state(ON), Some(1));
        assert_eq!(global_state(OFF), Some(0));
        assert_eq!(global_state(ESSENTIAL), Some(2));
        assert_eq!(global_state("Firewall is on"), None);
        assert_eq!(block_all(BLOCK_ALL_ON), Some(true));
        assert_eq!(block_all(BLOCK_ALL_OFF), Some(false));
        assert_eq!(
            block_all(
                "Firewall settings cannot be modified from command line on managed Mac computers."
            ),
            None
        );
        assert_eq!(listed(LISTAPPS, Path::new("/Applications/Safari.app")), Listed::Allowed);
        assert_eq!(listed(LISTAPPS, Path::new("/usr/local/bin/socksbox-server")), Listed::Blocked);
        assert_eq!(listed(LISTAPPS, Path::new("/Applications/Example Tool.app")), Listed::Allowed);
        assert_eq!(listed(LISTAPPS, Path::new("/opt/socksbox/socksbox-server")), Listed::Absent);
    }

    #[tokio::test]
    async fn an_allowed_program_is_admitted_and_a_blocked_one_unblocked() {
        let r = check_with(
            &query("/Applications/Safari.app"),
            Platform::Macos,
            &runner(ON, BLOCK_ALL_OFF),
        )
        .await;
        assert!(matches!(&r.state, State::Admits { from: Sources::Any, .. }), "{r}");
        let r = check_with(
            &query("/usr/local/bin/socksbox-server"),
            Platform::Macos,
            &runner(ON, BLOCK_ALL_OFF),
        )
        .await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("set to block"), "{why}");
        assert_eq!(
            fix.line,
            format!("sudo {SOCKETFILTERFW} --unblockapp /usr/local/bin/socksbox-server")
        );
    }

    #[tokio::test]
    async fn an_unlisted_program_is_added_and_allowed() {
        let r = check_with(
            &query("/opt/socksbox/socksbox-server"),
            Platform::Macos,
            &runner(ON, BLOCK_ALL_OFF),
        )
        .await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("not in the firewall's list"), "{why}");
        assert_eq!(
            fix.commands[0].argv,
            [SOCKETFILTERFW, "--add", "/opt/socksbox/socksbox-server"]
        );
        assert_eq!(
            fix.commands[1].argv,
            [SOCKETFILTERFW, "--unblockapp", "/opt/socksbox/socksbox-server"]
        );
        assert!(r.notes.iter().any(|n| n.contains("restart")), "{r}");
    }

    #[tokio::test]
    async fn an_unlisted_program_that_it_says_is_blocked_is_blocked() {
        let runner = runner(ON, BLOCK_ALL_OFF).answer(
            &line("--getappblocked /usr/local/sbin/socksbox-server"),
            0,
            include_str!("testdata/macos-appblocked-blocked.txt"),
        );
        let r =
            check_with(&query("/usr/local/sbin/socksbox-server"), Platform::Macos, &runner).await;
        let State::Blocks { why, fix } = &r.state else { panic!("{r}") };
        assert!(why.contains("set to block"), "{why}");
        assert_eq!(fix.commands.len(), 2, "added, then unblocked");
    }

    #[tokio::test]
    async fn block_all_refuses_even_allowed_programs() {
        for (state, block) in [(ON, BLOCK_ALL_ON), (ESSENTIAL, BLOCK_ALL_OFF)] {
            let r = check_with(
                &query("/Applications/Safari.app"),
                Platform::Macos,
                &runner(state, block),
            )
            .await;
            let State::Blocks { fix, .. } = &r.state else { panic!("{r}") };
            assert_eq!(fix.commands[0].argv, [SOCKETFILTERFW, "--setblockall", "off"]);
        }
    }

    #[tokio::test]
    async fn off_is_inactive_and_no_program_is_unknown() {
        let r = check_with(&query("/x"), Platform::Macos, &runner(OFF, BLOCK_ALL_OFF)).await;
        assert_eq!(r.state, State::Inactive);
        let mut q = query("/x");
        q.program = None;
        let r = check_with(&q, Platform::Macos, &runner(ON, BLOCK_ALL_OFF)).await;
        assert!(
            matches!(&r.state, State::Unknown { what_to_check } if what_to_check.contains("System Settings")),
            "{r}"
        );
    }
}
