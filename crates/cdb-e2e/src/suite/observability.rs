//! every service's `/health` and `/metrics`, and every Prometheus scrape target up.

use std::collections::BTreeSet;

use hyper::Method;

use super::{Ctx, Target, TestDef, TestResult};

/// Checks a Prometheus text exposition: every sample belongs to a family declared by `# TYPE`,
/// no family is declared twice, every value is a number. Returns the family names.
pub fn check_exposition(text: &str) -> Result<BTreeSet<String>, String> {
    let mut families = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let name = parts.next().unwrap_or_default().to_string();
            let kind = parts.next().unwrap_or_default();
            if !matches!(
                kind,
                "counter" | "gauge" | "histogram" | "summary" | "untyped"
            ) {
                return Err(format!("line {line_no}: unknown type `{kind}`"));
            }
            if !families.insert(name.clone()) {
                return Err(format!("line {line_no}: family {name} declared twice"));
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let name = &line[..name_end];
        let value = line.rsplit(' ').next().unwrap_or_default();
        if value.parse::<f64>().is_err() && !matches!(value, "+Inf" | "-Inf" | "NaN") {
            return Err(format!("line {line_no}: value `{value}` is not a number"));
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| families.contains(*f)))
            .unwrap_or(name);
        if !families.contains(family) {
            return Err(format!("line {line_no}: sample {name} has no # TYPE line"));
        }
    }
    Ok(families)
}

async fn health_and_metrics(ctx: &Ctx, service: &str) -> TestResult {
    let contract = ctx
        .target
        .contract
        .services
        .get(service)
        .ok_or_else(|| format!("{service} is not in the contract"))?;
    let base = ctx
        .target
        .services
        .get(service)
        .ok_or_else(|| format!("{service} has no published port"))?;
    let (status, body) = ctx
        .http
        .send(Method::GET, &format!("{base}{}", contract.health), None)
        .await
        .map_err(|e| e.to_string())?;
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("{service} /health is not JSON: {e}"))?;
    if !status.is_success() || json["status"] != "ok" {
        return Err(format!("{service} /health answered {status}: {json}"));
    }
    let (status, body) = ctx
        .http
        .send(Method::GET, &format!("{base}{}", contract.metrics), None)
        .await
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{service} /metrics answered {status}"));
    }
    let text = String::from_utf8_lossy(&body);
    let families = check_exposition(&text).map_err(|e| format!("{service} /metrics: {e}"))?;
    for required in [
        "cdb_messages_in_total",
        "cdb_messages_out_total",
        "cdb_processing_seconds",
        "process_resident_memory_bytes",
    ] {
        if !families.contains(required) {
            return Err(format!("{service} /metrics lacks {required}"));
        }
    }
    Ok(())
}

async fn prometheus_targets_up(ctx: &Ctx) -> TestResult {
    let Some(prom) = &ctx.target.prometheus_url else {
        return Err("the stack runs no Prometheus".into());
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = ctx
            .http
            .send(Method::GET, &format!("{prom}/api/v1/targets"), None)
            .await
            .map_err(|e| e.to_string())?;
        let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let targets = json["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let down: Vec<String> = targets
            .iter()
            .filter(|t| t["health"] != "up")
            .map(|t| format!("{} ({}: {})", t["scrapeUrl"], t["health"], t["lastError"]))
            .collect();
        let expected = ctx.target.contract.services.len();
        let app_targets = targets
            .iter()
            .filter(|t| t["labels"]["job"] != "prometheus")
            .count();
        if status.is_success() && down.is_empty() && app_targets >= expected {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "{app_targets} of {expected} service targets found; not up: {}",
                down.join("; ")
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// One test per service, and the scrape targets when Prometheus runs.
pub fn tests(target: &Target) -> Vec<TestDef> {
    let mut out: Vec<TestDef> = target
        .contract
        .services
        .iter()
        .map(|(name, c)| {
            let service = name.clone();
            TestDef {
                name: format!("A-08 {name} /health and /metrics"),
                critical: c.critical,
                restarts: false,
                run: Box::new(move |ctx| {
                    let service = service.clone();
                    Box::pin(async move { health_and_metrics(ctx, &service).await })
                }),
            }
        })
        .collect();
    if target.prometheus_url.is_some() {
        out.push(crate::test_def!(
            "A-08 every Prometheus scrape target is up",
            true,
            prometheus_targets_up
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exposition_without_type_lines_is_refused() {
        assert!(check_exposition("# TYPE a counter\na 1\n").is_ok());
        assert!(check_exposition("a 1\n").unwrap_err().contains("no # TYPE"));
        assert!(
            check_exposition("# TYPE a counter\na x\n")
                .unwrap_err()
                .contains("not a number")
        );
        let h = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\nh_count 1\n";
        assert!(check_exposition(h).is_ok());
    }
}
