//! cargo-fuzz target `decode_orangeconnex`: see `oauth_fuzz::decode_orangeconnex`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_orangeconnex(data);
});
