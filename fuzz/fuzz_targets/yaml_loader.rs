//! The whole Compose loader (YAML, anchors, merge keys, tags, interpolation, merge, extends,
//! canonical forms) never panics on arbitrary files: it returns a project or a diagnostic.
#![no_main]

use std::path::PathBuf;

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The input may hold two files separated by a form feed: a base and an override.
    let mut parts = text.splitn(2, '\u{c}');
    let base = parts.next().unwrap_or_default();
    let mut options = ComposeOptions {
        cwd: PathBuf::from("/fuzz"),
        ..Default::default()
    };
    options.files.push(PathBuf::from("/fuzz/compose.yaml"));
    options.contents.insert(PathBuf::from("/fuzz/compose.yaml"), base.to_string());
    if let Some(over) = parts.next() {
        options.files.push(PathBuf::from("/fuzz/override.yaml"));
        options.contents.insert(PathBuf::from("/fuzz/override.yaml"), over.to_string());
    }
    options.environment.insert("SET".into(), "value".into());
    let mut sources = SourceMap::new();
    match load(&options, &mut sources) {
        Ok(loaded) => {
            let _ = loaded.project.to_compose_json();
        }
        Err(diagnostic) => {
            let _ = diagnostic.render(&sources);
        }
    }
});
