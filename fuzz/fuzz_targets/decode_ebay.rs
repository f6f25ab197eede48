//! cargo-fuzz target `decode_ebay`: see `oauth_fuzz::decode_ebay`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    oauth_fuzz::decode_ebay(data);
});
