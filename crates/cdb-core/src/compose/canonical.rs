//! Short syntax to long syntax, as Compose canonicalises a project: ports, volumes,
//! `depends_on`, `build`, service `networks`, `command`/`entrypoint` strings (split like a shell),
//! `healthcheck.test` strings (`CMD-SHELL`), durations (Go's notation), environment and labels
//! (mappings).

use crate::compose::merge::{default_dependency, list_to_mapping};
use crate::compose::yaml::{Key, Mapping, Node, Value};
use crate::diagnostic::Diagnostic;
use crate::source::Location;

/// A volume written in the short syntax, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShortVolume {
    /// `volume` or `bind`.
    pub kind: &'static str,
    /// Host path or volume name; empty for an anonymous volume.
    pub source: String,
    /// Path in the container.
    pub target: String,
    /// `:ro`.
    pub read_only: bool,
    /// `z` / `Z`.
    pub selinux: Option<String>,
    /// `shared`, `rslave` …
    pub propagation: Option<String>,
    /// `nocopy`.
    pub nocopy: bool,
    /// `cached`, `delegated`, `consistent`.
    pub consistency: Option<String>,
}

/// Parses `SOURCE:TARGET[:MODE]` or `TARGET` as Compose does.
pub fn parse_volume_short(spec: &str) -> Result<ShortVolume, String> {
    if spec.is_empty() {
        return Err("invalid empty volume spec".into());
    }
    let parts = split_volume_spec(spec);
    let mut volume = ShortVolume {
        kind: "volume",
        ..Default::default()
    };
    match parts.as_slice() {
        [target] => volume.target = target.to_string(),
        [source, target] => {
            volume.source = source.to_string();
            volume.target = target.to_string();
        }
        [source, target, options] => {
            volume.source = source.to_string();
            volume.target = target.to_string();
            for option in options.split(',') {
                match option {
                    "ro" => volume.read_only = true,
                    "rw" => volume.read_only = false,
                    "z" | "Z" => volume.selinux = Some(option.to_string()),
                    "nocopy" => volume.nocopy = true,
                    "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                        volume.propagation = Some(option.to_string())
                    }
                    "consistent" | "cached" | "delegated" => {
                        volume.consistency = Some(option.to_string())
                    }
                    _ => {}
                }
            }
        }
        _ => return Err(format!("invalid spec: {spec}: too many colons")),
    }
    if volume.target.is_empty() {
        return Err(format!(
            "invalid spec: {spec}: empty section between colons"
        ));
    }
    volume.target = clean_unix_path(&volume.target);
    if !volume.source.is_empty() && is_path_like(&volume.source) {
        volume.kind = "bind";
    }
    Ok(volume)
}

/// Go's `path.Clean` for the slash-separated paths of a container.
pub fn clean_unix_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn split_volume_spec(spec: &str) -> Vec<&str> {
    // Windows drive letters (`C:\x`) are not split; nothing else needs care on Linux.
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = spec.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            let is_drive = i == start + 1
                && bytes[start].is_ascii_alphabetic()
                && matches!(bytes.get(i + 1), Some(b'\\') | Some(b'/'));
            if !is_drive {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
        }
    }
    parts.push(&spec[start..]);
    parts
}

fn is_path_like(source: &str) -> bool {
    source.starts_with('.')
        || source.starts_with('/')
        || source.starts_with('~')
        || source.starts_with('\\')
        || (source.len() > 2
            && source.as_bytes()[0].is_ascii_alphabetic()
            && source.as_bytes()[1] == b':')
}

fn key(name: &str, loc: Location) -> Key {
    Key {
        name: name.to_string(),
        loc,
    }
}

fn map_node(entries: Vec<(&str, Node)>, loc: Location) -> Node {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(key(k, loc), v);
    }
    Node::new(Value::Map(m), loc)
}

fn invalid(loc: Location, message: String) -> Diagnostic {
    Diagnostic::error(crate::compose::validate::INVALID_VALUE, message).at(loc)
}

/// Canonicalises one volume entry of a service.
pub fn volume(node: Node) -> Result<Node, Diagnostic> {
    let loc = node.loc;
    match &node.value {
        Value::Str(spec) => {
            let v = parse_volume_short(spec).map_err(|e| invalid(loc, e))?;
            let mut entries = vec![("type", Node::str(v.kind, loc))];
            if !v.source.is_empty() {
                entries.push(("source", Node::str(v.source.clone(), loc)));
            }
            entries.push(("target", Node::str(v.target.clone(), loc)));
            if v.read_only {
                entries.push(("read_only", Node::new(Value::Bool(true), loc)));
            }
            // `cached`/`delegated`/`consistent` are accepted and dropped, as Compose does.
            if v.kind == "bind" {
                let mut bind = Vec::new();
                if let Some(p) = &v.propagation {
                    bind.push(("propagation", Node::str(p.clone(), loc)));
                }
                if let Some(s) = &v.selinux {
                    bind.push(("selinux", Node::str(s.clone(), loc)));
                }
                bind.push(("create_host_path", Node::new(Value::Bool(true), loc)));
                entries.push(("bind", map_node(bind, loc)));
            } else {
                let mut vol = Vec::new();
                if v.nocopy {
                    vol.push(("nocopy", Node::new(Value::Bool(true), loc)));
                }
                entries.push(("volume", map_node(vol, loc)));
            }
            Ok(map_node(entries, loc))
        }
        Value::Map(_) => {
            let mut node = node;
            if let Some(m) = node.as_map_mut() {
                if let Some(t) = m.get_mut("tmpfs").and_then(Node::as_map_mut)
                    && let Some(size) = t.get_mut("size")
                    && let Some(text) = size.scalar_text()
                {
                    let bytes = ram_in_bytes(&text).map_err(|e| invalid(size.loc, e))?;
                    size.value = Value::Str(bytes.to_string());
                }
                // Go omits false booleans of the long syntax when it prints the project.
                drop_false(m, "read_only");
                if let Some(b) = m.get_mut("bind").and_then(Node::as_map_mut) {
                    drop_false(b, "create_host_path");
                }
                if let Some(v) = m.get_mut("volume").and_then(Node::as_map_mut) {
                    drop_false(v, "nocopy");
                }
            }
            Ok(node)
        }
        _ => Err(invalid(
            loc,
            format!(
                "a volume must be a string or a mapping, found {}",
                node.kind_name()
            ),
        )),
    }
}

fn drop_false(m: &mut Mapping, key: &str) {
    if matches!(m.get(key).map(|n| &n.value), Some(Value::Bool(false))) {
        m.remove(key);
    }
}

/// Parses a size such as `64m`, `1.5g` or `1024` into bytes, with binary multipliers, as
/// Docker's `RAMInBytes` does.
pub fn ram_in_bytes(text: &str) -> Result<i64, String> {
    let bad = || format!("invalid size: {text:?}");
    let t = text.trim();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let number: f64 = t[..digits_end].parse().map_err(|_| bad())?;
    let unit = t[digits_end..].trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let multiplier: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    Ok((number * multiplier) as i64)
}

/// Canonicalises a service's `ports` (one short entry may become several long ones).
pub fn ports(node: Node) -> Result<Node, Diagnostic> {
    let loc = node.loc;
    let Value::Seq(items) = node.value else {
        return Err(invalid(loc, "ports must be a list".into()));
    };
    let mut out = Vec::new();
    for item in items {
        let iloc = item.loc;
        match &item.value {
            Value::Int(target) => out.push(port_node(None, *target, None, "tcp", iloc)),
            Value::Str(spec) => {
                for p in parse_port_short(spec).map_err(|e| invalid(iloc, e))? {
                    out.push(port_node(
                        p.host_ip.as_deref(),
                        p.target,
                        p.published.as_deref(),
                        &p.protocol,
                        iloc,
                    ));
                }
            }
            Value::Map(_) => {
                let mut item = item;
                if let Some(m) = item.as_map_mut() {
                    if !m.contains("mode") {
                        m.insert_at(0, key("mode", iloc), Node::str("ingress", iloc));
                    }
                    if !m.contains("protocol") {
                        m.insert(key("protocol", iloc), Node::str("tcp", iloc));
                    }
                    if let Some(p) = m.get_mut("published")
                        && let Some(text) = p.scalar_text()
                    {
                        p.value = Value::Str(text);
                    }
                    if let Some(t) = m.get_mut("target")
                        && let Value::Str(s) = &t.value
                        && let Ok(n) = s.parse::<i64>()
                    {
                        t.value = Value::Int(n);
                    }
                }
                out.push(item);
            }
            _ => {
                return Err(invalid(
                    iloc,
                    format!(
                        "a port must be a number, a string or a mapping, found {}",
                        item.kind_name()
                    ),
                ));
            }
        }
    }
    Ok(Node::new(Value::Seq(out), loc))
}

fn port_node(
    host_ip: Option<&str>,
    target: i64,
    published: Option<&str>,
    protocol: &str,
    loc: Location,
) -> Node {
    let mut entries = vec![("mode", Node::str("ingress", loc))];
    if let Some(ip) = host_ip {
        entries.push(("host_ip", Node::str(ip, loc)));
    }
    entries.push(("target", Node::new(Value::Int(target), loc)));
    if let Some(p) = published {
        entries.push(("published", Node::str(p, loc)));
    }
    entries.push(("protocol", Node::str(protocol, loc)));
    map_node(entries, loc)
}

/// One port of a short-syntax entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortPort {
    /// Host address, if one was given.
    pub host_ip: Option<String>,
    /// Container port.
    pub target: i64,
    /// Host port or range, if one was given.
    pub published: Option<String>,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

fn parse_range(text: &str) -> Result<(i64, i64), String> {
    let bad = || format!("invalid port range: {text}");
    let check = |(a, b): (i64, i64)| {
        if a > 65535 || b > 65535 {
            Err(format!("invalid port {text}: a port is at most 65535"))
        } else {
            Ok((a, b))
        }
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let a: i64 = a.parse().map_err(|_| bad())?;
            let b: i64 = b.parse().map_err(|_| bad())?;
            if b < a {
                return Err(bad());
            }
            check((a, b))
        }
        None => {
            let p: i64 = text
                .parse()
                .map_err(|_| format!("invalid containerPort: {text}"))?;
            check((p, p))
        }
    }
}

/// Parses `[[IP:]HOST:]CONTAINER[/PROTOCOL]` (with ranges) as Docker does.
pub fn parse_port_short(spec: &str) -> Result<Vec<ShortPort>, String> {
    let (body, protocol) = match spec.rsplit_once('/') {
        Some((b, p)) => (b, p.to_string()),
        None => (spec, "tcp".to_string()),
    };
    if protocol.is_empty() {
        return Err(format!("no protocol specified: {spec}"));
    }
    // Split off an IPv6 host address in brackets, or an IPv4 one.
    let (ip, rest) = if let Some(stripped) = body.strip_prefix('[') {
        match stripped.split_once("]:") {
            Some((ip, rest)) => (Some(ip.to_string()), rest.to_string()),
            None => return Err(format!("invalid IP address: {body}")),
        }
    } else {
        let colons = body.matches(':').count();
        if colons >= 2 {
            match body.rsplit_once(':').and_then(|(head, c)| {
                head.rsplit_once(':')
                    .map(|(ip, h)| (ip.to_string(), format!("{h}:{c}")))
            }) {
                Some((ip, rest)) => (Some(ip), rest),
                None => (None, body.to_string()),
            }
        } else {
            (None, body.to_string())
        }
    };
    let ip = ip.filter(|i| !i.is_empty());
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (h.to_string(), c.to_string()),
        None => (String::new(), rest),
    };
    if container.is_empty() {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let (cstart, cend) = parse_range(&container)?;
    if cstart == 0 {
        return Err(format!("service port {spec} is missing a target port"));
    }
    let mut out = Vec::new();
    if host.is_empty() {
        for p in cstart..=cend {
            out.push(ShortPort {
                host_ip: ip.clone(),
                target: p,
                published: None,
                protocol: protocol.clone(),
            });
        }
        return Ok(out);
    }
    let (hstart, hend) = parse_range(&host).map_err(|_| format!("invalid hostPort: {host}"))?;
    if cend - cstart == hend - hstart {
        for i in 0..=(cend - cstart) {
            out.push(ShortPort {
                host_ip: ip.clone(),
                target: cstart + i,
                published: Some((hstart + i).to_string()),
                protocol: protocol.clone(),
            });
        }
    } else if cstart == cend {
        out.push(ShortPort {
            host_ip: ip,
            target: cstart,
            published: Some(host),
            protocol,
        });
    } else {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    Ok(out)
}

/// Canonicalises `build` (a string is the context; `args` and `labels` become mappings).
pub fn build(node: Node) -> Result<Node, Diagnostic> {
    let loc = node.loc;
    let mut node = match node.value {
        Value::Str(s) => map_node(vec![("context", Node::str(s, loc))], loc),
        Value::Map(_) => node,
        _ => {
            return Err(invalid(
                loc,
                format!(
                    "build must be a string or a mapping, found {}",
                    node.kind_name()
                ),
            ));
        }
    };
    if let Some(m) = node.as_map_mut() {
        if !m.contains("context") {
            m.insert_at(0, key("context", loc), Node::str(".", loc));
        }
        if !m.contains("dockerfile") && !m.contains("dockerfile_inline") {
            m.insert_at(1, key("dockerfile", loc), Node::str("Dockerfile", loc));
        }
        if let Some(size) = m.get_mut("shm_size")
            && let Some(text) = size.scalar_text()
        {
            let bytes = ram_in_bytes(&text).map_err(|e| invalid(size.loc, e))?;
            size.value = Value::Str(bytes.to_string());
        }
        if let Some(Value::Seq(hosts)) = m.get_mut("extra_hosts").map(|h| &mut h.value) {
            for host in hosts.iter_mut() {
                // `name:ip` is written `name=ip`, as Compose prints it (IPv6 keeps its colons).
                if let Value::Str(h) = &mut host.value
                    && !h.contains('=')
                    && let Some((name, ip)) = h.split_once(':')
                {
                    *h = format!("{name}={ip}");
                }
            }
        }
        if let Some(Value::Seq(secrets)) = m.get_mut("secrets").map(|h| &mut h.value) {
            for secret in secrets.iter_mut() {
                if let Value::Str(name) = &secret.value {
                    let sloc = secret.loc;
                    *secret = map_node(vec![("source", Node::str(name.clone(), sloc))], sloc);
                }
            }
        }
        for field in ["args", "labels"] {
            if let Some(v) = m.get_mut(field) {
                *v = key_value_mapping(
                    std::mem::replace(v, Node::new(Value::Null, loc)),
                    field == "labels",
                );
            }
        }
    }
    Ok(node)
}

/// Turns a list of `KEY=VALUE` / `KEY` (or a mapping) into a mapping of strings; `KEY` alone
/// (or a null value) becomes null, or the empty string when `empty_for_missing`.
pub fn key_value_mapping(node: Node, empty_for_missing: bool) -> Node {
    let loc = node.loc;
    let missing = |l: Location| {
        if empty_for_missing {
            Node::str("", l)
        } else {
            Node::new(Value::Null, l)
        }
    };
    let mut out = Mapping::new();
    match node.value {
        Value::Seq(items) => {
            for item in items {
                let text = item.scalar_text().unwrap_or_default();
                match text.split_once('=') {
                    Some((k, v)) => out.insert(key(k, item.loc), Node::str(v, item.loc)),
                    None => out.insert(key(&text, item.loc), missing(item.loc)),
                }
            }
        }
        Value::Map(m) => {
            for (k, v) in m {
                let value = match v.scalar_text() {
                    Some(text) => Node::str(text, v.loc),
                    None => missing(v.loc),
                };
                out.insert(k, value);
            }
        }
        _ => return node,
    }
    Node::new(Value::Map(out), loc)
}

/// Canonicalises `depends_on`: every entry gets a `condition` and `required`.
pub fn depends_on(node: Node) -> Node {
    let mut node = list_to_mapping(node, Some(&default_dependency));
    if let Some(m) = node.as_map_mut() {
        for (_, dep) in m.iter_mut() {
            let dloc = dep.loc;
            if dep.is_null() {
                *dep = default_dependency(dloc);
            }
            if let Some(d) = dep.as_map_mut() {
                if !d.contains("condition") {
                    d.insert(key("condition", dloc), Node::str("service_started", dloc));
                }
                if !d.contains("required") {
                    d.insert(key("required", dloc), Node::new(Value::Bool(true), dloc));
                }
            }
        }
    }
    node
}

/// Splits a command string the way Compose does (shell words: quotes and backslashes).
pub fn shell_split(input: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => current.push(ch),
                        None => return Err(format!("invalid command line string: {input}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => current.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                current.push('\\');
                                current.push(ch);
                            }
                            None => return Err(format!("invalid command line string: {input}")),
                        },
                        Some(ch) => current.push(ch),
                        None => return Err(format!("invalid command line string: {input}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(ch) => current.push(ch),
                    None => current.push('\\'),
                }
            }
            _ => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// Canonicalises `command` / `entrypoint`: a string is split into words.
pub fn shell_command(node: Node) -> Result<Node, Diagnostic> {
    let loc = node.loc;
    match &node.value {
        Value::Str(s) => {
            let words = shell_split(s).map_err(|e| invalid(loc, e))?;
            Ok(Node::new(
                Value::Seq(words.into_iter().map(|w| Node::str(w, loc)).collect()),
                loc,
            ))
        }
        _ => Ok(node),
    }
}

/// Canonicalises `healthcheck`: a string `test` becomes `CMD-SHELL`, durations are written as
/// Go writes them (`90s` → `1m30s`).
pub fn healthcheck(node: Node) -> Result<Node, Diagnostic> {
    let mut node = node;
    if let Some(m) = node.as_map_mut() {
        if let Some(test) = m.get_mut("test")
            && let Value::Str(s) = &test.value
        {
            let loc = test.loc;
            let s = s.clone();
            test.value = Value::Seq(vec![Node::str("CMD-SHELL", loc), Node::str(s, loc)]);
        }
        for field in ["interval", "timeout", "start_period", "start_interval"] {
            if let Some(d) = m.get_mut(field)
                && !d.is_null()
            {
                if !matches!(d.value, Value::Str(_)) {
                    return Err(invalid(
                        d.loc,
                        format!(
                            "healthcheck.{field} must be a string such as \"30s\", found {}",
                            d.kind_name()
                        ),
                    ));
                }
                let text = d.scalar_text().unwrap_or_default();
                let nanos = parse_go_duration(&text).map_err(|e| invalid(d.loc, e))?;
                d.value = Value::Str(format_go_duration(nanos));
            }
        }
        if let Some(r) = m.get_mut("retries")
            && let Value::Str(s) = &r.value
            && let Ok(n) = s.parse::<i64>()
        {
            r.value = Value::Int(n);
        }
    }
    Ok(node)
}

/// Parses a Go duration (`1m30s`, `500ms`, `1.5h`, `90`) into nanoseconds. A bare number is
/// read as seconds, as Compose does.
pub fn parse_go_duration(text: &str) -> Result<i128, String> {
    let bad = || format!("invalid duration {text:?}");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("time: missing unit in duration {text:?}"));
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {text:?}"))?;
        if num_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            // Compose's duration parser also takes days and weeks.
            "d" => 86_400e9,
            "w" => 604_800e9,
            _ => return Err(format!("unknown unit {unit:?} in duration {text:?}")),
        };
        total += number * scale;
    }
    let nanos = total.round() as i128;
    Ok(if negative { -nanos } else { nanos })
}

/// Writes nanoseconds the way Go's `time.Duration.String` does.
pub fn format_go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let negative = nanos < 0;
    let n = nanos.unsigned_abs();
    let sign = if negative { "-" } else { "" };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", trim_fraction(n, 1_000));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", trim_fraction(n, 1_000_000));
    }
    let hours = n / 3_600_000_000_000;
    let minutes = (n / 60_000_000_000) % 60;
    let secs = trim_fraction(n % 60_000_000_000, 1_000_000_000);
    let mut out = String::from(sign);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{secs}s"));
    out
}

fn trim_fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.to_string().len() - 1;
    let frac = format!("{frac:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        for (input, expected) in [
            ("90s", "1m30s"),
            ("1h", "1h0m0s"),
            ("500ms", "500ms"),
            ("1.5s", "1.5s"),
            ("2us", "2µs"),
            ("1m30s", "1m30s"),
        ] {
            let n = parse_go_duration(input).unwrap();
            assert_eq!(format_go_duration(n), expected, "{input}");
        }
        assert!(parse_go_duration("5 parsecs").is_err());
        assert!(
            parse_go_duration("90").is_err(),
            "a unit is required, as in Compose"
        );
        assert_eq!(
            format_go_duration(parse_go_duration("1d").unwrap()),
            "24h0m0s"
        );
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            shell_split(r#"echo "hi there" 'a b' c\ d"#).unwrap(),
            vec!["echo", "hi there", "a b", "c d"]
        );
        assert!(shell_split("echo 'unterminated").is_err());
    }

    #[test]
    fn short_ports() {
        let p = parse_port_short("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(p[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(p[0].published.as_deref(), Some("8080"));
        assert_eq!((p[0].target, p[0].protocol.as_str()), (80, "udp"));
        assert_eq!(parse_port_short("3000-3002:3000-3002").unwrap().len(), 3);
        let p = parse_port_short("[::1]:90:90").unwrap();
        assert_eq!(p[0].host_ip.as_deref(), Some("::1"));
        let p = parse_port_short("127.0.0.1::82").unwrap();
        assert_eq!(p[0].published, None);
        assert!(parse_port_short("abc").is_err());
    }

    #[test]
    fn short_volumes() {
        let v = parse_volume_short("./src:/src:ro").unwrap();
        assert_eq!((v.kind, v.read_only), ("bind", true));
        let v = parse_volume_short("data:/data").unwrap();
        assert_eq!(v.kind, "volume");
        let v = parse_volume_short("/anon").unwrap();
        assert_eq!((v.source.as_str(), v.target.as_str()), ("", "/anon"));
    }
}
