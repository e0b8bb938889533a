//! Bad configuration never panics: a malformed variable is one clear log line and exit 2; an
//! unreachable Redis at start is a 503 `/health` while the service retries, and SIGTERM still
//! ends it with exit 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cdb-paper");

fn run(role: &str, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg(role)
        .env_clear()
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("cdb-paper runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_malformed_variable_is_one_line_and_exit_2() {
    for (var, value) in [
        ("RISK_MAX_ORDER_NOTIONAL", "abc"),
        ("RISK_MAX_ORDERS_PER_SECOND", "-3"),
        ("HTTP_ADDR", "not-an-address"),
        ("REDIS_URL", "http://wrong-scheme"),
    ] {
        let (code, text) = run("risk-manager", &[(var, value)]);
        assert_eq!(code, 2, "{var}={value}: {text}");
        assert!(
            text.contains(var),
            "{var}={value}: the message names it: {text}"
        );
        assert!(!text.contains("panicked"), "{text}");
        assert_eq!(text.trim().lines().count(), 1, "{var}={value}: {text}");
    }
}

#[test]
fn an_unknown_role_is_a_usage_error() {
    let (code, text) = run("nope", &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unknown role"), "{text}");
}

#[test]
fn an_unreachable_redis_is_a_503_while_retrying_and_sigterm_still_exits_0() {
    // A free port for the HTTP server; Redis on a port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .arg("risk-manager")
        .env_clear()
        .env("NO_COLOR", "1")
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = None;
    while Instant::now() < deadline {
        if let Ok(out) = Command::new(BIN)
            .arg("healthcheck")
            .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
            .output()
        {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            if text.contains("503") || text.contains("unavailable") {
                status = Some((out.status.code(), text));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().unwrap();
    let (code, text) = status.expect("/health answered 503 while Redis is unreachable");
    assert_ne!(code, Some(0), "the healthcheck fails: {text}");
    assert_eq!(exit.code(), Some(0), "SIGTERM while retrying exits 0");
}
