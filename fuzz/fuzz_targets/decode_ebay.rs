//! cargo-fuzz target `decode_ebay`: `oauth_fuzz::decode_token_response`
//! with the provider fixed to ebay (so that `corpus/decode_ebay` stays usable).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_named("ebay", data);
});
