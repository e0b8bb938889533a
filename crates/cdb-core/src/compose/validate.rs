//! The part of the Compose JSON schema that a user trips over: unknown attributes (a typo such
//! as `imagee`) and values of the wrong type for the attributes cdb reads. Each problem points at
//! the line where it was written.

use crate::compose::yaml::{Node, Value};
use crate::diagnostic::Diagnostic;

/// Diagnostic code: an attribute Compose does not know.
pub const UNKNOWN_KEY: &str = "compose::unknown-key";
/// Diagnostic code: a value of the wrong type or form.
pub const INVALID_VALUE: &str = "compose::invalid-value";

const TOP_LEVEL: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

const SERVICE: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

const HEALTHCHECK: &[&str] = &[
    "disable",
    "interval",
    "retries",
    "test",
    "timeout",
    "start_period",
    "start_interval",
];

const BUILD: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "provenance",
    "sbom",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
];

fn unknown(file: &str, path: &str, node: &Node, allowed: &[&str], out: &mut Vec<Diagnostic>) {
    let Some(m) = node.as_map() else {
        return;
    };
    for (k, _) in m.iter() {
        if k.name.starts_with("x-") || allowed.contains(&k.name.as_str()) {
            continue;
        }
        let hint = closest(&k.name, allowed)
            .map(|c| format!("did you mean `{c}`?"))
            .unwrap_or_else(|| {
                "remove it, or prefix it with `x-` to keep it as an extension".to_string()
            });
        out.push(
            Diagnostic::error(
                UNKNOWN_KEY,
                format!(
                    "validating {file}: {path} additional properties '{}' not allowed",
                    k.name
                ),
            )
            .at(k.loc)
            .with_label("unknown attribute")
            .with_help(hint),
        );
    }
}

/// The allowed name closest to `name` (edit distance ≤ 2), to suggest a fix for a typo.
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn expect(ok: bool, file: &str, path: &str, node: &Node, what: &str, out: &mut Vec<Diagnostic>) {
    if !ok {
        out.push(
            Diagnostic::error(
                INVALID_VALUE,
                format!("validating {file}: {path} must be {what}"),
            )
            .at(node.loc)
            .with_label(format!("found {}", node.kind_name())),
        );
    }
}

fn is_string_list(node: &Node) -> bool {
    node.as_seq()
        .is_some_and(|items| items.iter().all(|i| matches!(i.value, Value::Str(_))))
}

fn is_list_or_map(node: &Node) -> bool {
    matches!(node.value, Value::Seq(_) | Value::Map(_))
}

/// Checks the merged model after a file was merged in; `file` names that file in messages.
pub fn validate(root: &Node, file: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(top) = root.as_map() else {
        return out;
    };
    unknown(file, "(root)", root, TOP_LEVEL, &mut out);
    if let Some(services) = top.get("services") {
        let Some(services) = services.as_map() else {
            expect(false, file, "services", services, "a mapping", &mut out);
            return out;
        };
        for (name, service) in services.iter() {
            let path = format!("services.{}", name.name);
            if service.is_null() {
                continue;
            }
            let Some(s) = service.as_map() else {
                expect(false, file, &path, service, "a mapping", &mut out);
                continue;
            };
            unknown(file, &path, service, SERVICE, &mut out);
            for (k, v) in s.iter() {
                let p = format!("{path}.{}", k.name);
                match k.name.as_str() {
                    "image" | "container_name" | "network_mode" | "hostname" | "user" => expect(
                        matches!(v.value, Value::Str(_)),
                        file,
                        &p,
                        v,
                        "a string",
                        &mut out,
                    ),
                    "command" | "entrypoint" => {
                        if let Some(items) = v.as_seq() {
                            for (i, item) in items.iter().enumerate() {
                                expect(
                                    matches!(item.value, Value::Str(_)),
                                    file,
                                    &format!("{p}.{i}"),
                                    item,
                                    "a string",
                                    &mut out,
                                );
                            }
                        } else {
                            expect(
                                matches!(v.value, Value::Str(_) | Value::Null),
                                file,
                                &p,
                                v,
                                "a string or a list of strings",
                                &mut out,
                            );
                        }
                    }
                    "environment" | "labels" | "annotations" | "sysctls" => expect(
                        is_list_or_map(v) || v.is_null(),
                        file,
                        &p,
                        v,
                        "a list or a mapping",
                        &mut out,
                    ),
                    "ports" | "volumes" | "expose" | "secrets" | "configs" | "dns" | "cap_add"
                    | "cap_drop" => expect(
                        matches!(v.value, Value::Seq(_)),
                        file,
                        &p,
                        v,
                        "a list",
                        &mut out,
                    ),
                    "profiles" => expect(
                        is_string_list(v),
                        file,
                        &p,
                        v,
                        "a list of strings",
                        &mut out,
                    ),
                    "depends_on" | "networks" => expect(
                        is_list_or_map(v) || v.is_null(),
                        file,
                        &p,
                        v,
                        "a list or a mapping",
                        &mut out,
                    ),
                    "build" => {
                        expect(
                            matches!(v.value, Value::Str(_) | Value::Map(_)),
                            file,
                            &p,
                            v,
                            "a string or a mapping",
                            &mut out,
                        );
                        unknown(file, &p, v, BUILD, &mut out);
                    }
                    "healthcheck" => {
                        expect(
                            matches!(v.value, Value::Map(_)),
                            file,
                            &p,
                            v,
                            "a mapping",
                            &mut out,
                        );
                        unknown(file, &p, v, HEALTHCHECK, &mut out);
                    }
                    "extends" => expect(
                        matches!(v.value, Value::Str(_) | Value::Map(_)),
                        file,
                        &p,
                        v,
                        "a string or a mapping",
                        &mut out,
                    ),
                    _ => {}
                }
            }
        }
    }
    for section in ["volumes", "networks", "secrets", "configs"] {
        if let Some(v) = top.get(section) {
            expect(
                matches!(v.value, Value::Map(_) | Value::Null),
                file,
                section,
                v,
                "a mapping",
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_attribute() {
        assert_eq!(closest("imagee", SERVICE), Some("image"));
        assert_eq!(closest("zzzzzzzz", SERVICE), None);
    }
}
