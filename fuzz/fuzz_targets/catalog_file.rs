//! Any bytes as a catalog file: parsed and validated, or refused with errors; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = certequiv_storage::load_text("fuzz.toml", text);
    }
});
