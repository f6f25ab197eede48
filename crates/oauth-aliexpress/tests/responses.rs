//! Decoding of real token answers: numbers, numeric strings, numeric ids.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_aliexpress::{PROVIDER, SellerAccount, TokenResponse};
use oauth_core::{Error, IntoTokenSet, RawResponse, from_unix_millis, to_unix_millis};
use std::time::{SystemTime, UNIX_EPOCH};

fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
    TokenResponse::decode(response, UNIX_EPOCH)
}

fn decode_at(body: &str, received_at: SystemTime) -> TokenResponse {
    TokenResponse::decode(
        &RawResponse::new(
            PROVIDER,
            200,
            Some("application/json;charset=UTF-8"),
            body.to_owned(),
        ),
        received_at,
    )
    .unwrap()
}

fn decode(body: &str) -> TokenResponse {
    decode_at(body, UNIX_EPOCH)
}

fn account(fields: [Option<&str>; 9]) -> SellerAccount {
    let [
        seller_id,
        user_id,
        user_nick,
        account,
        account_platform,
        account_id,
        havana_id,
        locale,
        sp,
    ] = fields.map(|f| f.map(str::to_owned));
    let mut out = SellerAccount::default();
    out.seller_id = seller_id;
    out.user_id = user_id;
    out.user_nick = user_nick;
    out.account = account;
    out.account_platform = account_platform;
    out.account_id = account_id;
    out.havana_id = havana_id;
    out.locale = locale;
    out.sp = sp;
    out
}

#[test]
fn documented_response_with_numbers() {
    let r = decode(include_str!("fixtures/token_documented.json"));
    assert_eq!(
        r.access_token.expose_secret(),
        "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg"
    );
    assert_eq!(
        r.refresh_token.as_ref().unwrap().expose_secret(),
        "50001600c30atpedfgu3LVvik87Ixlsvle3mSoB7701cf5ce0ZJaa5sGjrs8"
    );
    assert_eq!(r.expires_in, Some(2_592_000));
    assert_eq!(r.refresh_expires_in, Some(5_183_988));
    assert_eq!(r.expire_time, Some(1_714_192_160_000));
    assert_eq!(r.refresh_token_valid_time, Some(1_716_784_148_000));
    assert_eq!(r.request_id.as_deref(), Some("212a69f317116001605067741"));
    assert_eq!(
        r.account,
        account([
            Some("2637908814"),
            Some("2637908814"),
            Some("kr1040"),
            Some("ae_test@163.com"),
            Some("buyerApp"),
            None,
            Some("3000021188814"),
            Some("zh_CN"),
            Some("ae"),
        ])
    );
    assert!(r.is_refreshable());
}

#[test]
fn documented_example_with_numeric_strings() {
    let r = decode_at(
        include_str!("fixtures/token_documented_strings.json"),
        from_unix_millis(1_600_000_000_000),
    );
    assert_eq!(r.expires_in, Some(10));
    assert_eq!(r.refresh_expires_in, Some(20));
    assert_eq!(r.expire_time, Some(1_517_820_402_000));
    assert_eq!(r.refresh_token_valid_time, Some(1_517_820_412_000));
    assert_eq!(
        r.account,
        account([
            Some("1234"),
            Some("1234"),
            Some("test_nick"),
            Some("test@aliexpress.com"),
            Some("seller_center"),
            Some("7890"),
            Some("5678"),
            Some("en_US"),
            Some("ae"),
        ])
    );
    // Relative lifetimes are preferred over the absolute times (which
    // depend on this machine's clock agreeing with the platform's): a
    // sample answer from 2018 read in 2020 still gives 10 s and 20 s.
    let set = r.into_token_set();
    assert_eq!(to_unix_millis(set.expires_at), 1_600_000_010_000);
    assert_eq!(
        set.refresh_token_expires_at.map(to_unix_millis),
        Some(1_600_000_020_000)
    );
}

#[test]
fn numeric_ids_become_strings_and_null_account_id_is_absent() {
    let r = decode(include_str!("fixtures/token_numeric_ids.json"));
    assert_eq!(r.account.user_id.as_deref(), Some("2637908814"));
    assert_eq!(r.account.seller_id.as_deref(), Some("2637908814"));
    assert_eq!(r.account.havana_id.as_deref(), Some("3000021188814"));
    assert_eq!(r.account.account_id, None);
    assert_eq!(r.expires_in, Some(86_400));
    assert_eq!(r.refresh_expires_in, Some(172_800));
}

#[test]
fn relative_expiries_are_used_when_absolute_ones_are_missing() {
    let body = r#"{"access_token":"a","refresh_token":"r","expires_in":"86400","refresh_expires_in":172800,"code":"0","unknown":{"nested":[1,2]}}"#;
    let now = from_unix_millis(1_715_220_392_000);
    let r = decode_at(body, now);
    assert_eq!(r.expire_time, None);
    assert_eq!(
        to_unix_millis(r.access_token_expires_at()),
        1_715_220_392_000 + 86_400_000
    );
    assert_eq!(
        r.refresh_token_expires_at().map(to_unix_millis),
        Some(1_715_220_392_000 + 172_800_000)
    );
}

#[test]
fn not_refreshable_answer() {
    let r = decode(include_str!("fixtures/token_not_refreshable.json"));
    assert_eq!(r.refresh_expires_in, Some(0));
    assert!(!r.is_refreshable());
    assert_eq!(r.refresh_token_expires_at(), None);
    let set = r.into_token_set();
    assert_eq!(set.refresh_token, None);
}

#[test]
fn every_truncation_of_every_fixture_decodes_without_panic() {
    let fixtures = [
        include_str!("fixtures/token_documented.json"),
        include_str!("fixtures/token_documented_strings.json"),
        include_str!("fixtures/token_numeric_ids.json"),
        include_str!("fixtures/error_a_IllegalRefreshToken.json"),
        include_str!("fixtures/error_b_IllegalRefreshToken.json"),
    ];
    let mut decoded = 0;
    for fixture in fixtures {
        let bytes = fixture.trim_end().as_bytes();
        for end in 0..bytes.len() {
            for status in [200, 400] {
                let response = RawResponse::new(PROVIDER, status, None, bytes[..end].to_vec());
                // A strict prefix of a JSON object is never a complete object.
                assert!(decode_token_response(&response).is_err(), "prefix {end}");
                decoded += 1;
            }
        }
        assert!(
            decode_token_response(&RawResponse::new(PROVIDER, 200, None, bytes.to_vec())).is_ok()
                == fixture.contains("access_token")
        );
    }
    assert!(decoded > 1_000);
}
