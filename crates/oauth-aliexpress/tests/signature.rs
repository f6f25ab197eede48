//! The IOP signature: the three published vectors of the platform's
//! documentation, and its properties.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hmac::{Hmac, Mac};
use oauth_aliexpress::{AliExpress, ApiRequest, Client, Signer};
use oauth_core::{AccessToken, AppSecret, ManualClock};
use sha2::Sha256;
use std::sync::Arc;

fn signer(secret: &str) -> Signer {
    Signer::new(&AppSecret::new(secret)).unwrap()
}

/// An HMAC-SHA256 computed here, independently of the crate's signer.
fn independent_hmac(secret: &str, text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    hex::encode_upper(mac.finalize().into_bytes())
}

const CREATE_PARAMS: [(&str, &str); 4] = [
    ("app_key", "12345678"),
    ("code", "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26"),
    ("sign_method", "sha256"),
    ("timestamp", "1517820392000"),
];
const CREATE_SIGN: &str = "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81";

#[test]
fn published_vector_token_create() {
    let text = Signer::string_to_sign("/auth/token/create", CREATE_PARAMS);
    assert_eq!(
        text.expose_secret(),
        "/auth/token/createapp_key12345678code3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26sign_methodsha256timestamp1517820392000"
    );
    let sign = signer("helloworld").sign("/auth/token/create", CREATE_PARAMS);
    assert_eq!(sign.expose_secret(), CREATE_SIGN);
    assert_eq!(
        independent_hmac("helloworld", text.expose_secret()),
        CREATE_SIGN
    );
}

#[test]
fn published_vector_business_api() {
    let params = [
        ("access_token", "test"),
        ("aliexpress_category_id", "200135143"),
        ("app_key", "123456"),
        (
            "method",
            "aliexpress.logistics.redefining.getonlinelogisticsinfo",
        ),
        ("sign_method", "sha256"),
        ("timestamp", "1517820392000"),
    ];
    let api = "aliexpress.logistics.redefining.getonlinelogisticsinfo";
    let text = Signer::string_to_sign(api, params);
    assert_eq!(
        text.expose_secret(),
        "access_tokentestaliexpress_category_id200135143app_key123456methodaliexpress.logistics.redefining.getonlinelogisticsinfosign_methodsha256timestamp1517820392000"
    );
    assert_eq!(
        signer("helloworld").sign(api, params).expose_secret(),
        "F7F7926B67316C9D1E8E15F7E66940ED3059B1638C497D77973F30046EFB5BBB"
    );
}

#[test]
fn published_vector_system_api() {
    let params = [
        ("access_token", "test"),
        ("app_key", "123456"),
        ("order_id", "1234"),
        ("sign_method", "sha256"),
        ("timestamp", "1517820392000"),
    ];
    assert_eq!(
        signer("helloworld")
            .sign("/order/get", params)
            .expose_secret(),
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    );
}

/// Every permutation of the four parameters of the first vector.
fn permutations(items: &[(&'static str, &'static str)]) -> Vec<Vec<(&'static str, &'static str)>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

#[test]
fn signature_does_not_depend_on_insertion_order() {
    let all = permutations(&CREATE_PARAMS);
    assert_eq!(all.len(), 24);
    let signer = signer("helloworld");
    for order in all {
        assert_eq!(
            signer
                .sign("/auth/token/create", order.clone())
                .expose_secret(),
            CREATE_SIGN,
            "{order:?}"
        );
    }
}

#[test]
fn sorting_is_byte_wise() {
    // `Z` (0x5A) < `_` (0x5F) < `a` (0x61): byte order, not case-insensitive.
    let text = Signer::string_to_sign("x.y", [("a", "1"), ("_", "2"), ("Z", "3")]);
    assert_eq!(text.expose_secret(), "Z3_2a1");
}

#[test]
fn signature_changes_with_any_name_value_secret_or_api() {
    let signer_ = signer("helloworld");
    let base = signer_.sign("/auth/token/create", CREATE_PARAMS);
    for i in 0..CREATE_PARAMS.len() {
        let mut renamed = CREATE_PARAMS.map(|(n, v)| (n.to_owned(), v.to_owned()));
        renamed[i].0.push('x');
        let changed = signer_.sign(
            "/auth/token/create",
            renamed.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        );
        assert_ne!(changed, base, "renaming param {i}");

        let mut revalued = CREATE_PARAMS.map(|(n, v)| (n.to_owned(), v.to_owned()));
        revalued[i].1.push('1');
        let changed = signer_.sign(
            "/auth/token/create",
            revalued.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        );
        assert_ne!(changed, base, "changing the value of param {i}");
    }
    assert_ne!(
        signer("helloworle").sign("/auth/token/create", CREATE_PARAMS),
        base
    );
    assert_ne!(signer_.sign("/auth/token/refresh", CREATE_PARAMS), base);
}

#[test]
fn empty_values_are_neither_signed_nor_sent() {
    let mut with_empty = CREATE_PARAMS.to_vec();
    with_empty.push(("uuid", ""));
    with_empty.insert(0, ("partner_id", ""));
    assert_eq!(
        signer("helloworld")
            .sign("/auth/token/create", with_empty.clone())
            .expose_secret(),
        CREATE_SIGN
    );
    assert!(
        !Signer::string_to_sign("/auth/token/create", with_empty)
            .expose_secret()
            .contains("uuid")
    );

    let client = Client::builder(
        AliExpress::new("123456", AppSecret::new("helloworld"))
            .redirect_uri("https://app.example/cb")
            .partner_id(""),
    )
    .clock(Arc::new(ManualClock::at_unix_millis(1_517_820_392_000)))
    .build()
    .unwrap();
    let signed = ApiRequest::new("/order/get")
        .param("order_id", "1234")
        .param("empty", "")
        .sign(&client, &AccessToken::new("test"))
        .unwrap();
    assert_eq!(signed.body(), b"access_token=test&order_id=1234");
    assert!(!signed.url().as_str().contains("empty"));
    assert!(!signed.url().as_str().contains("partner_id"));
    // Same signature as the published vector: the empty parameter was not signed.
    assert!(
        signed
            .url()
            .as_str()
            .ends_with("&sign=4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A")
    );
}

#[test]
fn non_ascii_values_are_signed_raw_and_encoded_only_for_transport() {
    let title = "Robe d'été 中文 100%";
    let text = Signer::string_to_sign("/product/post", [("app_key", "1"), ("title", title)]);
    assert_eq!(
        text.expose_secret(),
        format!("/product/postapp_key1title{title}")
    );
    let sign = signer("s3cr3t").sign("/product/post", [("app_key", "1"), ("title", title)]);
    assert_eq!(
        sign.expose_secret(),
        independent_hmac("s3cr3t", &format!("/product/postapp_key1title{title}"))
    );

    let client = Client::builder(
        AliExpress::new("1", AppSecret::new("s3cr3t")).redirect_uri("https://app.example/cb"),
    )
    .clock(Arc::new(ManualClock::at_unix_millis(1_000)))
    .build()
    .unwrap();
    let signed = ApiRequest::new("/product/post")
        .param("title", title)
        .sign(&client, &AccessToken::new("tok"))
        .unwrap();
    assert_eq!(
        std::str::from_utf8(signed.body()).unwrap(),
        "access_token=tok&title=Robe+d%27%C3%A9t%C3%A9+%E4%B8%AD%E6%96%87+100%25"
    );
    let expected = independent_hmac(
        "s3cr3t",
        &format!("/product/postaccess_tokentokapp_key1sign_methodsha256timestamp1000title{title}"),
    );
    assert_eq!(
        signed.url().as_str(),
        format!(
            "https://api-sg.aliexpress.com/rest/product/post?app_key=1&sign_method=sha256&timestamp=1000&sign={expected}"
        )
    );
}
