//! `--fix`: rewrites only the offending image values, in place, to the policy's recommended
//! reference (and, with `--pin-digest`, to `tag@sha256:…` from the local engine), keeping every
//! comment and all other bytes of the file as they are.
//!
//! The edit replaces the reference where it is written: the whole scalar when the value is the
//! reference itself (quoted or not), or the reference inside a `${VAR:-default}` default — so
//! the variable keeps working. A value whose reference is not written out (e.g.
//! `${REGISTRY}/app:${TAG}`) is left alone and reported as not fixable.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cdb_core::source::SourceMap;
use similar::TextDiff;

use crate::model::{Finding, ImageUse, Level};
use crate::policy::Policy;

/// One replacement in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The file.
    pub path: PathBuf,
    /// Byte range of the text replaced.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// The text written instead.
    pub replacement: String,
    /// The reference before.
    pub from: String,
    /// The reference after.
    pub to: String,
}

/// The planned edits and the image uses that could not be fixed (with the reason).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Edits, in file order.
    pub edits: Vec<Edit>,
    /// Image uses with a blocking or warning finding that no edit fixes.
    pub skipped: Vec<(String, String)>,
}

/// Plans the edits for every image use that has a pinning or policy finding at warn or block
/// level. `digests` maps a reference (as the new value will read) to the `sha256:…` digest the
/// local engine knows for it, for `--pin-digest`.
pub fn plan(
    images: &[ImageUse],
    findings: &[Finding],
    policy: &Policy,
    digests: &BTreeMap<String, String>,
    pin_digest: bool,
    sources: &SourceMap,
) -> Plan {
    let mut out = Plan::default();
    for image in images {
        let needs_fix = findings.iter().any(|f| {
            f.image == image.reference
                && f.vulnerability.is_none()
                && f.level >= Level::Warn
                && (f.code.starts_with("pin::") || f.code.starts_with("policy::"))
        });
        if !needs_fix && !pin_digest {
            continue;
        }
        let recommended = match &image.parsed {
            Ok(parsed) if needs_fix => policy.recommended_for(parsed).map(str::to_string),
            _ => None,
        };
        let mut target = recommended.unwrap_or_else(|| image.reference.clone());
        if pin_digest && !target.contains('@') {
            if let Some(digest) = digests.get(&target) {
                target = format!("{target}@{digest}");
            } else {
                out.skipped.push((
                    target.clone(),
                    "not pinned by digest: the local engine has no RepoDigest for it (an image gets one when it is pulled from or pushed to a registry)".into(),
                ));
                if !needs_fix {
                    continue;
                }
            }
        }
        if target == image.reference {
            if needs_fix {
                out.skipped.push((
                    image.reference.clone(),
                    "the policy has no recommended reference for this image".into(),
                ));
            }
            continue;
        }
        let Some(file) = sources.get(image.loc.file) else {
            continue;
        };
        let start = sources.byte_offset(image.loc);
        let line_end = file.text[start..]
            .find('\n')
            .map_or(file.text.len(), |i| start + i);
        let token = &file.text[start..line_end];
        match token.find(&image.reference) {
            Some(at) => out.edits.push(Edit {
                path: file.path.clone(),
                start: start + at,
                end: start + at + image.reference.len(),
                replacement: target.clone(),
                from: image.reference.clone(),
                to: target,
            }),
            None => out.skipped.push((
                image.reference.clone(),
                format!(
                    "the reference is not written out at {}:{} (built from variables)",
                    file.path.display(),
                    image.loc.line
                ),
            )),
        }
    }
    out.skipped.sort();
    out.skipped.dedup();
    out.edits
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.start.cmp(&b.start)));
    out.edits
        .dedup_by(|a, b| a.path == b.path && a.start == b.start);
    out
}

/// The new text of every edited file.
pub fn apply(plan: &Plan, sources: &SourceMap) -> BTreeMap<PathBuf, (String, String)> {
    let mut out: BTreeMap<PathBuf, (String, String)> = BTreeMap::new();
    let texts: BTreeMap<PathBuf, String> = sources
        .files()
        .map(|(_, f)| (f.path.clone(), f.text.clone()))
        .collect();
    for path in plan.edits.iter().map(|e| e.path.clone()) {
        if out.contains_key(&path) {
            continue;
        }
        let Some(old) = texts.get(&path) else {
            continue;
        };
        let mut new = old.clone();
        // Apply from the end so earlier offsets stay valid.
        for e in plan.edits.iter().filter(|e| e.path == path).rev() {
            if e.end <= new.len() && new.is_char_boundary(e.start) && new.is_char_boundary(e.end) {
                new.replace_range(e.start..e.end, &e.replacement);
            }
        }
        out.insert(path, (old.clone(), new));
    }
    out
}

/// A unified diff of one file's change, with `a/` and `b/` paths relative to `root`.
pub fn unified_diff(
    path: &std::path::Path,
    root: &std::path::Path,
    old: &str,
    new: &str,
) -> String {
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}
