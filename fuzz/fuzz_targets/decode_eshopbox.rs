//! cargo-fuzz target `decode_eshopbox`: `oauth_fuzz::decode_token_response`
//! with the provider fixed to eshopbox (so that `corpus/decode_eshopbox` stays usable).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_named("eshopbox", data);
});
