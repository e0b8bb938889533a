//! Scanner reports: detection and parsing never panic, whatever the bytes; a report that parses
//! has the format `detect` names, and every diagnostic renders.
#![no_main]

use std::path::Path;

use cdb_core::SourceMap;
use cdb_security::scanners::{detect, parse_report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = detect(data);
    let mut sources = SourceMap::new();
    match parse_report(Path::new("/fuzz/report.json"), data, &mut sources) {
        Ok(report) => assert_eq!(Some(report.format), format),
        Err(diagnostic) => {
            let _ = diagnostic.render(&sources);
        }
    }
});
