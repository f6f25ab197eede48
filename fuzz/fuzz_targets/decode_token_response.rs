//! cargo-fuzz target `decode_token_response`: see
//! `oauth_fuzz::decode_token_response` (byte 0 picks the provider in
//! `oauth_all::PROVIDERS`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_token_response(data);
});
