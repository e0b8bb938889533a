//! Writes a JSON value as block-style YAML (what `--format yaml` prints). Strings are quoted
//! whenever a YAML reader could take them for something else.

use serde_json::Value as Json;

/// Renders `value` as a YAML document.
pub fn to_yaml(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(m) if !m.is_empty() => write_map(m, 0, &mut out),
        Json::Array(a) if !a.is_empty() => write_seq(a, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(level: usize, out: &mut String) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_map(m: &serde_json::Map<String, Json>, level: usize, out: &mut String) {
    for (k, v) in m {
        indent(level, out);
        out.push_str(&quote_if_needed(k));
        out.push(':');
        write_value_after_key(v, level, out);
    }
}

fn write_value_after_key(v: &Json, level: usize, out: &mut String) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(m, level + 1, out);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(a, level + 1, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn write_seq(a: &[Json], level: usize, out: &mut String) {
    for item in a {
        indent(level, out);
        out.push('-');
        match item {
            Json::Object(m) if !m.is_empty() => {
                // First key on the dash line, the rest indented under it.
                let mut first = true;
                for (k, v) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(level + 1, out);
                    }
                    out.push_str(&quote_if_needed(k));
                    out.push(':');
                    write_value_after_key(v, level + 1, out);
                }
            }
            Json::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(inner, level + 1, out);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn scalar(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => quote_if_needed(s),
        Json::Array(_) => "[]".into(),
        Json::Object(_) => "{}".into(),
    }
}

fn quote_if_needed(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        && s.parse::<f64>().is_err()
        && !s.starts_with(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '-' | '?'
                        | ':'
                        | ','
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '#'
                        | '&'
                        | '*'
                        | '!'
                        | '|'
                        | '>'
                        | '\''
                        | '"'
                        | '%'
                        | '@'
                        | '`'
                )
        })
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.chars().any(|c| c.is_control())
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if plain_ok {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_would_change_type() {
        let v = serde_json::json!({"a": "1", "b": "true", "c": "x: y", "d": [ {"e": 1, "f": "g"} ], "h": {}});
        assert_eq!(
            to_yaml(&v),
            "a: \"1\"\nb: \"true\"\nc: \"x: y\"\nd:\n  - e: 1\n    f: g\nh: {}\n"
        );
    }
}
