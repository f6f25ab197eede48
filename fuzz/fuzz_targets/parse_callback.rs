//! cargo-fuzz target `parse_callback`: see `oauth_fuzz::callback`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::callback(data);
});
