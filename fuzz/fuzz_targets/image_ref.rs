//! Image references: parsing never panics, and a parsed reference round-trips through its
//! normalised form.
#![no_main]

use cdb_core::image::ImageRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(reference) = ImageRef::parse(text) {
        let again = ImageRef::parse(&reference.normalized()).expect("normalised form parses");
        assert_eq!(again, reference);
        let _ = reference.tag_version();
    }
});
