//! cargo-fuzz target `decode_eshopbox`: see `oauth_fuzz::decode_eshopbox`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_eshopbox(data);
});
