//! Running external programs (docker, docker compose, cargo, debootstrap, tar): their output is
//! captured so that a failure can show its last lines, and a step that may hang (a pull from an
//! unreachable registry) is bounded by a timeout.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::errors::{Error, Result};

/// How many trailing lines of a failed command's output an error shows.
const TAIL_LINES: usize = 25;

/// What a finished command printed.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Captured {
    /// Both streams, for error messages (stderr first: that is where tools explain failures).
    pub fn combined(&self) -> String {
        let mut text = self.stderr.clone();
        if !self.stdout.trim().is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&self.stdout);
        }
        text
    }
}

/// The command line as a user would type it (for messages).
pub(crate) fn display(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(char::is_whitespace) {
            format!("'{a}'")
        } else {
            a.into_owned()
        }
    }));
    parts.join(" ")
}

/// The last [`TAIL_LINES`] lines of `text`.
pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..].join("\n")
}

fn spawn(cmd: &mut Command) -> Result<Child> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: cmd.get_program().to_string_lossy().into_owned(),
            source,
        })
}

fn reader(stream: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `cmd` to completion, capturing its output; `None` if `timeout` passed first (the
/// process is killed then).
pub(crate) fn run_with_timeout(
    cmd: &mut Command,
    timeout: Option<Duration>,
) -> Result<Option<Captured>> {
    let mut child = spawn(cmd)?;
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(source) => {
                return Err(Error::Spawn {
                    program: display(cmd),
                    source,
                });
            }
        }
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(status.map(|status| Captured {
        status,
        stdout,
        stderr,
    }))
}

/// Runs `cmd` to completion, capturing its output, whatever its exit status.
pub(crate) fn run(cmd: &mut Command) -> Result<Captured> {
    match run_with_timeout(cmd, None)? {
        Some(c) => Ok(c),
        None => Err(Error::CommandFailed {
            what: "a command".into(),
            command: display(cmd),
            status: "did not finish".into(),
            output: String::new(),
        }),
    }
}

/// Runs `cmd` and requires success; `what` says what it was for, in the error.
pub(crate) fn run_ok(cmd: &mut Command, what: &str) -> Result<Captured> {
    let captured = run(cmd)?;
    if captured.status.success() {
        Ok(captured)
    } else {
        Err(failed(cmd, what, &captured))
    }
}

/// The error for a command that ran and failed.
pub(crate) fn failed(cmd: &Command, what: &str, captured: &Captured) -> Error {
    Error::CommandFailed {
        what: what.into(),
        command: display(cmd),
        status: describe(captured.status),
        output: tail(&captured.combined()),
    }
}

/// `exited with 1`, `was killed by signal 9`.
pub(crate) fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exited with {code}"),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(signal) = status.signal() {
                    return format!("was killed by signal {signal}");
                }
            }
            "was killed".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        let text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text);
        assert!(t.starts_with("line 16\n"), "{t}");
        assert!(t.ends_with("line 40"));
    }

    #[test]
    fn display_quotes_arguments_with_spaces() {
        let mut cmd = Command::new("docker");
        cmd.args(["run", "--label", "a b", ""]);
        assert_eq!(display(&cmd), "docker run --label 'a b' ''");
    }

    #[test]
    fn a_timeout_kills_the_command() {
        let mut cmd = Command::new("sleep");
        cmd.arg("5");
        let start = Instant::now();
        let r = run_with_timeout(&mut cmd, Some(Duration::from_millis(200))).unwrap();
        assert!(r.is_none());
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let e = run(&mut Command::new("cdb-no-such-program-here")).unwrap_err();
        assert!(matches!(e, Error::Spawn { .. }), "{e}");
    }
}
