//! cargo-fuzz target `decode_aliexpress`: see `oauth_fuzz::decode_aliexpress`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_aliexpress(data);
});
