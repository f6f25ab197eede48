//! cargo-fuzz target `aliexpress_signer`: see `oauth_fuzz::aliexpress_signer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::aliexpress_signer(data);
});
