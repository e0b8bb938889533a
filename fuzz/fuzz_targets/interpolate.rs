//! Interpolation of arbitrary text never panics, and escaped text comes back unchanged.
#![no_main]

use cdb_core::compose::interpolate::{escape_dollars, interpolate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lookup = |name: &str| match name.len() % 3 {
        0 => None,
        1 => Some(String::new()),
        _ => Some(format!("v{name}")),
    };
    let _ = interpolate(text, &lookup);
    let escaped = escape_dollars(text);
    let back = interpolate(&escaped, &|_| None).expect("escaped text always interpolates");
    assert_eq!(back.value, text);
});
