//! cargo-fuzz target `decode_orangeconnex`: `oauth_fuzz::decode_token_response`
//! with the provider fixed to orangeconnex (so that `corpus/decode_orangeconnex` stays usable).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_named("orangeconnex", data);
});
