//! A YAML node tree that keeps what Compose needs and serde models drop: every node's file, line
//! and column, custom tags (`!reset`, `!override`), anchors and aliases (expanded, with a budget
//! against alias bombs) and merge keys (`<<: *base`, `<<: [*a, *b]`).
//!
//! Scalars are resolved the way Compose's YAML library (go-yaml v3) resolves them into untyped
//! values: YAML 1.2 core schema (`null`, `true`/`false`, integers in decimal, `0x`, `0o`, floats,
//! `.inf`, `.nan`), with quoted scalars always strings. The raw text of every scalar is kept so a
//! value can be written back exactly as the user wrote it.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YSpan, SpannedEventReceiver};

use crate::source::{FileId, Location};

/// How many nodes alias expansion may produce in one file before loading fails (a guard against
/// "billion laughs" documents).
const ALIAS_NODE_BUDGET: usize = 100_000;

/// One YAML node with its location and tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// A non-core tag written on the node, without the leading `!` (e.g. `reset`, `override`).
    pub tag: Option<String>,
    /// Where the node starts.
    pub loc: Location,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating point number; the raw text is kept for faithful output.
    Float(f64, String),
    /// A string (quoted, or plain text that resolves to nothing else).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping whose keys are strings, in document order.
    Map(Mapping),
}

/// A mapping with string keys, in document order, each key with its own location.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    entries: Vec<(Key, Node)>,
}

/// A mapping key and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key was written.
    pub loc: Location,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The value under `key`, mutable.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The key entry (with its location) for `key`.
    pub fn key(&self, key: &str) -> Option<&Key> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| k)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, replacing an existing value in place or appending.
    pub fn insert(&mut self, key: Key, value: Node) {
        if let Some(slot) = self.get_mut(&key.name) {
            *slot = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let index = self.entries.iter().position(|(k, _)| k.name == key)?;
        Some(self.entries.remove(index).1)
    }

    /// Removes `key`, returning its position and value (see [`Mapping::insert_at`]).
    pub fn remove_keep_position(&mut self, key: &str) -> Option<(usize, Node)> {
        let index = self.entries.iter().position(|(k, _)| k.name == key)?;
        Some((index, self.entries.remove(index).1))
    }

    /// Inserts `key` at `index` (clamped to the length).
    pub fn insert_at(&mut self, index: usize, key: Key, value: Node) {
        let index = index.min(self.entries.len());
        self.entries.insert(index, (key, value));
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Key, &mut Node)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.name.as_str())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the mapping is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps only the entries for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Key, &mut Node) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }
}

impl IntoIterator for Mapping {
    type Item = (Key, Node);
    type IntoIter = std::vec::IntoIter<(Key, Node)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Node {
    /// A node made by the loader (not written by the user) at `loc`.
    pub fn new(value: Value, loc: Location) -> Self {
        Node {
            value,
            tag: None,
            loc,
        }
    }

    /// A string node.
    pub fn str(s: impl Into<String>, loc: Location) -> Self {
        Node::new(Value::Str(s.into()), loc)
    }

    /// The mapping, if this is one.
    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The mapping, mutable, if this is one.
    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, if this is one.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The scalar as text, the way Go's `fmt.Sprint` prints the decoded value (what Compose
    /// does when it turns a typed scalar into a string, e.g. an environment value `1.50` → `1.5`).
    /// `None` for null, sequences and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f, _) => Some(go_float(*f)),
            Value::Str(s) => Some(s.clone()),
        }
    }

    /// A short word for the kind of value, for error messages ("a string", "a mapping" …).
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(..) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Formats a float the way Go's `%v` does (shortest representation, exponent from 1e21).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        // Go prints e.g. 1e+21 and 1e-05.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                let digits = if digits.len() < 2 {
                    format!("0{digits}")
                } else {
                    digits.to_string()
                };
                format!("{mantissa}e{sign}{digits}")
            }
            None => s,
        }
    } else {
        format!("{f}")
    }
}

/// A YAML document that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where the problem was found.
    pub loc: Location,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Parses every document of `source` (the text of file `file`).
pub fn parse_documents(file: FileId, source: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder {
        file,
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        budget: ALIAS_NODE_BUDGET,
        error: None,
    };
    let mut parser = Parser::new_from_str(source);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(scan_error(file, &e));
    }
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(builder.docs)
}

fn scan_error(file: FileId, e: &ScanError) -> YamlError {
    let m = e.marker();
    YamlError {
        loc: Location::new(file, m.line() as u32, m.col() as u32 + 1),
        message: e.info().to_string(),
    }
}

enum Frame {
    Seq {
        node: Node,
        items: Vec<Node>,
        anchor: usize,
    },
    Map {
        node: Node,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        anchor: usize,
    },
}

struct Builder {
    file: FileId,
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    budget: usize,
    error: Option<YamlError>,
}

impl Builder {
    fn loc(&self, span: &YSpan) -> Location {
        Location::new(
            self.file,
            span.start.line() as u32,
            span.start.col() as u32 + 1,
        )
    }

    fn fail(&mut self, loc: Location, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                loc,
                message: message.into(),
            });
        }
    }

    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }

    fn finish_map(&mut self, mut node: Node, entries: Vec<(Node, Node)>) -> Option<Node> {
        let mut mapping = Mapping::new();
        // Merge keys: explicit keys win over merged ones; among merged sources the first wins.
        let mut merged: Vec<(Key, Node)> = Vec::new();
        for (key, value) in entries {
            // A quoted "<<" carries the `quoted` marker tag and is an ordinary key.
            let is_merge_key =
                matches!(&key.value, Value::Str(s) if s == "<<") && key.tag.is_none();
            let name = match key_text(&key) {
                Some(name) => name,
                None => {
                    self.fail(
                        key.loc,
                        format!("mapping keys must be strings, found {}", key.kind_name()),
                    );
                    return None;
                }
            };
            if is_merge_key {
                let sources: Vec<Node> = match value.value {
                    Value::Map(_) => vec![value],
                    Value::Seq(items) => items,
                    _ => {
                        self.fail(
                            value.loc,
                            "map merge requires map or sequence of maps as the value",
                        );
                        return None;
                    }
                };
                for source in sources {
                    let Value::Map(m) = source.value else {
                        self.fail(
                            source.loc,
                            "map merge requires map or sequence of maps as the value",
                        );
                        return None;
                    };
                    for (k, v) in m {
                        if !merged.iter().any(|(mk, _)| mk.name == k.name) {
                            merged.push((k, v));
                        }
                    }
                }
                continue;
            }
            if let Some(previous) = mapping.key(&name) {
                let line = previous.loc.line;
                self.fail(
                    key.loc,
                    format!("mapping key \"{name}\" already defined at line {line}"),
                );
                return None;
            }
            mapping.entries.push((Key { name, loc: key.loc }, value));
        }
        for (k, v) in merged {
            if !mapping.contains(&k.name) {
                mapping.entries.push((k, v));
            }
        }
        node.value = Value::Map(mapping);
        Some(node)
    }

    fn count_nodes(node: &Node) -> usize {
        1 + match &node.value {
            Value::Seq(items) => items.iter().map(Self::count_nodes).sum(),
            Value::Map(m) => m.entries.iter().map(|(_, v)| Self::count_nodes(v)).sum(),
            _ => 0,
        }
    }
}

fn key_text(key: &Node) -> Option<String> {
    match &key.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(_, raw) => Some(raw.clone()),
        Value::Null => Some(String::new()),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

fn tag_name(tag: Option<&saphyr_parser::Tag>) -> (Option<String>, Option<String>) {
    // Returns (custom tag, core tag suffix).
    match tag {
        None => (None, None),
        Some(t) if t.is_yaml_core_schema() => (None, Some(t.suffix.clone())),
        Some(t) => {
            let name = if t.handle == "!" {
                t.suffix.clone()
            } else {
                format!("{}{}", t.handle, t.suffix)
            };
            (Some(name), None)
        }
    }
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: YSpan) {
        if self.error.is_some() {
            return;
        }
        let loc = self.loc(&span);
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {}
            Event::DocumentEnd => {
                self.anchors.clear();
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    self.fail(loc, "unknown anchor");
                    return;
                };
                let cost = Self::count_nodes(&node);
                if cost > self.budget {
                    self.fail(
                        loc,
                        "alias expansion exceeds the node budget (possible billion-laughs document)",
                    );
                    return;
                }
                self.budget -= cost;
                self.push_value(node, 0);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let (custom, core) = tag_name(tag.as_deref());
                let value = resolve_scalar(&text, style, core.as_deref());
                let quoted_merge_key = style != ScalarStyle::Plain && text == "<<";
                let node = Node {
                    value,
                    tag: if quoted_merge_key {
                        Some("quoted".into())
                    } else {
                        custom
                    },
                    loc,
                };
                self.push_value(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                let (custom, _) = tag_name(tag.as_deref());
                self.stack.push(Frame::Seq {
                    node: Node {
                        value: Value::Null,
                        tag: custom,
                        loc,
                    },
                    items: Vec::new(),
                    anchor,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    mut node,
                    items,
                    anchor,
                }) = self.stack.pop()
                {
                    node.value = Value::Seq(items);
                    self.push_value(node, anchor);
                }
            }
            Event::MappingStart(anchor, tag) => {
                let (custom, _) = tag_name(tag.as_deref());
                self.stack.push(Frame::Map {
                    node: Node {
                        value: Value::Null,
                        tag: custom,
                        loc,
                    },
                    entries: Vec::new(),
                    pending_key: None,
                    anchor,
                });
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    node,
                    entries,
                    anchor,
                    ..
                }) = self.stack.pop()
                    && let Some(node) = self.finish_map(node, entries)
                {
                    self.push_value(node, anchor);
                }
            }
        }
    }
}

/// Resolves a scalar's text to a value as go-yaml v3 does for untyped targets.
fn resolve_scalar(text: &str, style: ScalarStyle, core_tag: Option<&str>) -> Value {
    if let Some(tag) = core_tag {
        return match tag {
            "str" | "binary" | "timestamp" => Value::Str(text.to_string()),
            "null" => Value::Null,
            "bool" => parse_bool(text).map_or_else(|| Value::Str(text.to_string()), Value::Bool),
            "int" => parse_int(text).map_or_else(|| Value::Str(text.to_string()), Value::Int),
            "float" => parse_float(text)
                .or_else(|| parse_int(text).map(|i| i as f64))
                .map_or_else(
                    || Value::Str(text.to_string()),
                    |f| Value::Float(f, text.into()),
                ),
            _ => Value::Str(text.to_string()),
        };
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return Value::Float(f, text.to_string());
    }
    Value::Str(text.to_string())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let first = text.chars().next()?;
    if !(first.is_ascii_digit() || first == '-' || first == '+') {
        return None;
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    let (negative, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    if digits.is_empty() {
        return None;
    }
    let magnitude: i128 = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        // Go's ParseInt with base 0 reads a leading zero as octal.
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i128>().ok()?
    };
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // YAML 1.2 core float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let bytes = text.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Node {
        parse_documents(FileId(0), src).unwrap().remove(0)
    }

    #[test]
    fn scalars_resolve_like_go_yaml() {
        let n = parse("a: 1\nb: '1'\nc: 1.50\nd: true\ne: yes\nf: ~\ng: 0x10\nh: 1e3\ni: 010\n");
        let m = n.as_map().unwrap();
        assert_eq!(m.get("a").unwrap().value, Value::Int(1));
        assert_eq!(m.get("b").unwrap().value, Value::Str("1".into()));
        assert_eq!(m.get("c").unwrap().scalar_text().unwrap(), "1.5");
        assert_eq!(m.get("d").unwrap().value, Value::Bool(true));
        assert_eq!(m.get("e").unwrap().value, Value::Str("yes".into()));
        assert!(m.get("f").unwrap().is_null());
        assert_eq!(m.get("g").unwrap().value, Value::Int(16));
        assert_eq!(m.get("h").unwrap().scalar_text().unwrap(), "1000");
        assert_eq!(m.get("i").unwrap().value, Value::Int(8));
    }

    #[test]
    fn merge_keys_and_anchors() {
        let n = parse(
            "x-base: &base\n  a: 1\n  b: 2\nx-more: &more\n  c: 3\n  a: 9\ns:\n  <<: [*base, *more]\n  b: 5\n",
        );
        let s = n.as_map().unwrap().get("s").unwrap().as_map().unwrap();
        assert_eq!(s.get("a").unwrap().value, Value::Int(1));
        assert_eq!(s.get("b").unwrap().value, Value::Int(5));
        assert_eq!(s.get("c").unwrap().value, Value::Int(3));
    }

    #[test]
    fn quoted_merge_key_is_a_plain_key() {
        let n = parse("s:\n  \"<<\": 1\n");
        let s = n.as_map().unwrap().get("s").unwrap().as_map().unwrap();
        assert_eq!(s.get("<<").unwrap().value, Value::Int(1));
    }

    #[test]
    fn tags_and_locations_are_kept() {
        let n = parse("services:\n  a:\n    ports: !reset []\n    image: !override x\n");
        let a = n
            .as_map()
            .unwrap()
            .get("services")
            .unwrap()
            .as_map()
            .unwrap();
        let a = a.get("a").unwrap().as_map().unwrap();
        let ports = a.get("ports").unwrap();
        assert_eq!(ports.tag.as_deref(), Some("reset"));
        assert_eq!((ports.loc.line, ports.loc.col), (3, 12));
        assert_eq!(a.get("image").unwrap().tag.as_deref(), Some("override"));
        assert_eq!(a.key("image").unwrap().loc.line, 4);
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let e = parse_documents(FileId(0), "a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.loc.line, 3);
        assert!(e.message.contains("already defined at line 1"), "{e}");
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_documents(FileId(0), &src).unwrap_err();
        assert!(e.message.contains("budget"), "{e}");
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1000.0), "1000");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.00001), "1e-05");
    }
}
