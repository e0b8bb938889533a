//! Checks of what the machine must provide before a command can run: Docker Compose v2.
//! (Only xtask runs external tools; the libraries stay free of process and network I/O.)

use std::process::Command;

/// Why Compose v2 cannot be used, as a message that says what to do.
pub fn require_compose_v2() -> Result<String, String> {
    let v2 = Command::new("docker")
        .args(["compose", "version", "--short"])
        .output();
    match v2 {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout)
                .trim()
                .trim_start_matches('v')
                .to_string();
            if version.starts_with('2') || version.starts_with('3') {
                return Ok(version);
            }
            Err(format!(
                "Docker Compose v2 is required, but `docker compose` reports version {version}. \
                 Install v2 with scripts/install-compose-v2.sh (see README, Prerequisites)."
            ))
        }
        Ok(_) | Err(_) => {
            let v1 = Command::new("docker-compose")
                .arg("version")
                .arg("--short")
                .output();
            let hint = "Install it with scripts/install-compose-v2.sh (see README, Prerequisites).";
            match v1 {
                Ok(out) if out.status.success() => Err(format!(
                    "Docker Compose v2 is required, but only the old docker-compose {} (v1) was found. {hint}",
                    String::from_utf8_lossy(&out.stdout).trim()
                )),
                _ => Err(format!(
                    "Docker Compose v2 is required, but `docker compose` is not available. {hint}"
                )),
            }
        }
    }
}
