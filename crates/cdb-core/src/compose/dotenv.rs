//! TEMPORARY: replaced by the full implementation.
#![allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DotenvError { pub line: usize, pub column: usize, pub message: String }
pub fn parse_dotenv(source: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<indexmap::IndexMap<String, String>, DotenvError> {
    let _ = lookup;
    let mut m = indexmap::IndexMap::new();
    for l in source.lines() { if let Some((k, v)) = l.split_once('=') { m.insert(k.trim().to_string(), v.trim().to_string()); } }
    Ok(m)
}
