//! cargo-fuzz target `decode_aliexpress`: `oauth_fuzz::decode_token_response`
//! with the provider fixed to aliexpress (so that `corpus/decode_aliexpress` stays usable).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_named("aliexpress", data);
});
