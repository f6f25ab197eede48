//! The token calls on the wire, against httpmock: exact method, path,
//! query, headers and body, and a signature recomputed here, independently
//! of the crate, from what arrived.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use hmac::{Hmac, Mac};
use httpmock::HttpMockRequest;
use httpmock::prelude::*;
use oauth_aliexpress::{AliExpress, Client, ClientExt, Environment};
use oauth_core::http_types;
use oauth_core::url::form_urlencoded;
use oauth_core::{
    AccessToken, AppSecret, AttachTokenExt, AuthorizationCode, AuthorizationCodeGrant, EndpointUrl,
    Error, IntoTokenSet, ManualClock, RefreshGrant, RefreshToken, TokenSet, from_unix_millis,
    to_unix_millis,
};
use sha2::Sha256;
use std::sync::Arc;

const SECRET: &str = "helloworld";
const NOW_MS: u64 = 1_517_820_392_000;
const CODE: &str = "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26";
const FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";

const DOCUMENTED: &str = include_str!("fixtures/token_documented.json");
const NUMERIC_IDS: &str = include_str!("fixtures/token_numeric_ids.json");
const NOT_REFRESHABLE: &str = include_str!("fixtures/token_not_refreshable.json");
const ILLEGAL_REFRESH_TOKEN_A: &str = include_str!("fixtures/error_a_IllegalRefreshToken.json");

fn client(server: &MockServer, app_key: &str, partner_id: Option<&str>) -> Client {
    let mut app = AliExpress::new(app_key, AppSecret::new(SECRET))
        .redirect_uri("https://app.example/callback");
    if let Some(partner_id) = partner_id {
        app = app.partner_id(partner_id);
    }
    Client::builder(app)
        .environment(Environment::Custom(
            EndpointUrl::parse(&server.base_url()).unwrap(),
        ))
        .clock(Arc::new(ManualClock::at_unix_millis(NOW_MS)))
        .build()
        .unwrap()
}

/// Recomputes the signature of an arrived request from its query and form
/// body, with hmac/sha2 directly, and compares it with its `sign`.
fn signature_is_valid(request: &HttpMockRequest, api: &str) -> bool {
    let mut params: Vec<(String, String)> = request.query_params();
    params.extend(form_urlencoded::parse(request.body_ref()).into_owned());
    let Some(at) = params.iter().position(|(name, _)| name == "sign") else {
        return false;
    };
    let (_, sign) = params.remove(at);
    params.sort();
    let mut text = api.to_owned();
    for (name, value) in &params {
        text.push_str(name);
        text.push_str(value);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    hex::encode_upper(mac.finalize().into_bytes()) == sign
}

fn json(then: httpmock::Then, status: u16, body: &'static str) -> httpmock::Then {
    then.status(status)
        .header("content-type", "application/json;charset=UTF-8")
        .body(body)
}

#[tokio::test]
async fn create_token_request_and_documented_response() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/auth/token/create")
                .is_true(|req: &HttpMockRequest| {
                    req.uri().query()
                        == Some("app_key=12345678&sign_method=sha256&timestamp=1517820392000&sign=35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81")
                })
                .header("content-type", FORM)
                .header("accept", "application/json")
                .body(format!("code={CODE}"))
                .is_true(|req: &HttpMockRequest| signature_is_valid(req, "/auth/token/create"));
            json(then, 200, DOCUMENTED);
        })
        .await;
    let client = client(&server, "12345678", None);

    let response = client
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    mock.assert_async().await;

    assert_eq!(
        response.access_token.expose_secret(),
        "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg"
    );
    assert_eq!(response.expires_in, Some(2_592_000));
    assert_eq!(response.refresh_expires_in, Some(5_183_988));
    assert_eq!(response.expire_time, Some(1_714_192_160_000));
    assert_eq!(response.refresh_token_valid_time, Some(1_716_784_148_000));
    assert_eq!(response.account.seller_id.as_deref(), Some("2637908814"));
    assert_eq!(
        response.request_id.as_deref(),
        Some("212a69f317116001605067741")
    );

    // Relative lifetimes win over the absolute times.
    assert_eq!(to_unix_millis(response.received_at), NOW_MS);
    let set = response.into_token_set();
    assert_eq!(to_unix_millis(set.expires_at), NOW_MS + 2_592_000_000);
    assert_eq!(
        set.refresh_token_expires_at.map(to_unix_millis),
        Some(NOW_MS + 5_183_988_000)
    );
    assert_eq!(
        set.refresh_token.unwrap().expose_secret(),
        "50001600c30atpedfgu3LVvik87Ixlsvle3mSoB7701cf5ce0ZJaa5sGjrs8"
    );
}

#[tokio::test]
async fn create_token_with_uuid_and_partner_id_is_signed_over_query_and_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/auth/token/create")
                .query_param("app_key", "12345678")
                .query_param("partner_id", "commerce-oauth")
                .query_param("sign_method", "sha256")
                .query_param("timestamp", "1517820392000")
                .query_param_exists("sign")
                .query_param_missing("code")
                .query_param_missing("uuid")
                .header("content-type", FORM)
                .body(format!("code={CODE}&uuid=u-7%2Bx"))
                .is_true(|req: &HttpMockRequest| signature_is_valid(req, "/auth/token/create"));
            json(then, 200, NUMERIC_IDS);
        })
        .await;
    let client = client(&server, "12345678", Some("commerce-oauth"));
    let set = client
        .exchange_code_with_uuid(&AuthorizationCode::new(CODE), Some("u-7+x"))
        .await
        .unwrap()
        .into_token_set();
    mock.assert_async().await;
    assert_eq!(to_unix_millis(set.expires_at), NOW_MS + 86_400_000);
}

#[tokio::test]
async fn exchange_code_through_the_trait_sends_no_uuid() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/auth/token/create")
                .body(format!("code={CODE}"));
            json(then, 200, DOCUMENTED);
        })
        .await;
    let client = client(&server, "12345678", None);
    let set = AuthorizationCodeGrant::exchange_code(&client, &AuthorizationCode::new(CODE))
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(to_unix_millis(set.expires_at), NOW_MS + 2_592_000_000);
    let url =
        AuthorizationCodeGrant::authorize_url(&client, &oauth_core::CsrfState::from_stored("s-1"))
            .unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "{}/oauth/authorize?response_type=code&force_auth=true&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&client_id=12345678&state=s-1",
            server.base_url()
        )
    );
}

fn previous_set() -> TokenSet {
    TokenSet::new(
        AccessToken::new("old-access"),
        from_unix_millis(NOW_MS + 1_000),
    )
    .with_refresh_token(
        RefreshToken::new("50001600c30atpedfgu3LVvik87Ixlsvle3mSoB7701cf5ce0ZJaa5sGjrs8"),
        Some(from_unix_millis(1_716_784_148_000)),
    )
}

#[tokio::test]
async fn refresh_rotates_and_keeps_the_original_refresh_expiry() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/auth/token/refresh")
                .is_true(|req: &HttpMockRequest| {
                    let query = req.uri().query().unwrap_or_default().to_owned();
                    query.starts_with(
                        "app_key=12345678&sign_method=sha256&timestamp=1517820392000&sign=",
                    ) && query.len()
                        == "app_key=12345678&sign_method=sha256&timestamp=1517820392000&sign=".len()
                            + 64
                })
                .header("content-type", FORM)
                .body("refresh_token=50001600c30atpedfgu3LVvik87Ixlsvle3mSoB7701cf5ce0ZJaa5sGjrs8")
                .is_true(|req: &HttpMockRequest| signature_is_valid(req, "/auth/token/refresh"));
            json(then, 200, NUMERIC_IDS);
        })
        .await;
    let client = client(&server, "12345678", None);
    assert!(client.rotates_refresh_token());
    let previous = previous_set();
    let set = client.refresh(&previous).await.unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(
        set.access_token.expose_secret(),
        "50000800a14b0Ohd3ft1bV8XoEZ1c8a4b2eclHkvxT7s6ECjCq1rBPmLQgE6ug"
    );
    assert_eq!(
        set.refresh_token.as_ref().unwrap().expose_secret(),
        "50001800a14b0Ohd3ft1bV8XoEZ1c8a4b2eclHkvxT7s6ECjCq9vW3kLxFh2a"
    );
    // The answer says 1715393192000; the original expiry is kept.
    assert_eq!(
        set.refresh_token_expires_at.map(to_unix_millis),
        Some(1_716_784_148_000)
    );
    assert_eq!(to_unix_millis(set.expires_at), NOW_MS + 86_400_000);
}

#[tokio::test]
async fn refresh_is_not_retried_once_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/auth/token/refresh");
            then.status(503).body("Service Unavailable");
        })
        .await;
    let client = client(&server, "12345678", None);
    let err = client.refresh(&previous_set()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(matches!(err, Error::Transient { .. }));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn grant_with_refresh_expires_in_zero_fails_fast() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/auth/token/create");
            json(then, 200, NOT_REFRESHABLE);
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/auth/token/refresh");
            json(then, 200, NUMERIC_IDS);
        })
        .await;
    let client = client(&server, "12345678", None);
    let response = client
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    assert_eq!(response.refresh_expires_in, Some(0));
    assert!(!response.is_refreshable());
    let set = response.into_token_set();
    assert_eq!(set.refresh_token, None);
    assert_eq!(set.refresh_token_expires_at, None);
    assert_eq!(to_unix_millis(set.expires_at), NOW_MS + 2_592_000_000);

    let err = client.refresh(&set).await.unwrap_err();
    assert!(matches!(err, Error::RefreshNotSupported { .. }), "{err:?}");
    assert!(err.requires_reauthorization());
    create.assert_calls_async(1).await;
    refresh.assert_calls_async(0).await;
}

#[tokio::test]
async fn refresh_error_on_http_400_means_reauthorization() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/auth/token/refresh");
            json(then, 400, ILLEGAL_REFRESH_TOKEN_A);
        })
        .await;
    let client = client(&server, "12345678", None);
    let err = client.refresh(&previous_set()).await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert_eq!(err.provider_code(), Some("IllegalRefreshToken"));
    assert_eq!(err.request_id(), Some("2101d05f1715220392"));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn base_path_of_a_custom_environment_is_kept() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/ae/rest/auth/token/create");
            json(then, 200, DOCUMENTED);
        })
        .await;
    let app = AliExpress::new("12345678", AppSecret::new(SECRET))
        .redirect_uri("https://app.example/callback");
    let client = Client::builder(app)
        .environment(Environment::custom(&server.url("/ae")).unwrap())
        .build()
        .unwrap();
    client
        .exchange_code(&AuthorizationCode::new(CODE))
        .await
        .unwrap();
    mock.assert_async().await;
}

fn offline_client(app_key: &str) -> Client {
    let app = AliExpress::new(app_key, AppSecret::new(SECRET))
        .redirect_uri("https://app.example/callback");
    Client::builder(app)
        .clock(Arc::new(ManualClock::at_unix_millis(NOW_MS)))
        .build()
        .unwrap()
}

#[test]
fn attach_token_signs_a_system_call_in_the_query() {
    let client = offline_client("123456");
    let mut request =
        http_types::Request::get("https://api-sg.aliexpress.com/rest/order/get?order_id=1234")
            .body(())
            .unwrap();
    client
        .attachment()
        .attach_to(&AccessToken::new("test"), &mut request)
        .unwrap();
    // The third published vector.
    assert_eq!(
        request.uri().to_string(),
        "https://api-sg.aliexpress.com/rest/order/get?access_token=test&app_key=123456&order_id=1234&sign_method=sha256&timestamp=1517820392000&sign=4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    );
}

#[test]
fn attach_token_signs_a_business_call_with_session() {
    let client = offline_client("123456");
    let mut request = http_types::Request::get(
        "https://api-sg.aliexpress.com/sync?method=aliexpress.logistics.redefining.getonlinelogisticsinfo&aliexpress_category_id=200135143",
    )
    .body(())
    .unwrap();
    client
        .attachment()
        .attach_to(&AccessToken::new("test"), &mut request)
        .unwrap();
    let text = "aliexpress_category_id200135143app_key123456methodaliexpress.logistics.redefining.getonlinelogisticsinfosessiontestsign_methodsha256timestamp1517820392000";
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    let sign = hex::encode_upper(mac.finalize().into_bytes());
    assert_eq!(
        request.uri().to_string(),
        format!(
            "https://api-sg.aliexpress.com/sync?aliexpress_category_id=200135143&app_key=123456&method=aliexpress.logistics.redefining.getonlinelogisticsinfo&session=test&sign_method=sha256&timestamp=1517820392000&sign={sign}"
        )
    );
}

#[test]
fn attach_token_refuses_what_it_cannot_sign() {
    let client = offline_client("123456");
    for uri in [
        "https://api-sg.aliexpress.com/other/path",
        "https://api-sg.aliexpress.com/sync?x=1",
        "https://api-sg.aliexpress.com/rest/order/get?sign=ABC",
        "https://api-sg.aliexpress.com/rest/order/get?access_token=other",
        "/rest/order/get",
    ] {
        let mut request = http_types::Request::get(uri).body(()).unwrap();
        let err = client
            .attachment()
            .attach_to(&AccessToken::new("SENTINEL-token"), &mut request)
            .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{uri}: {err:?}");
        assert!(!err.to_string().contains("SENTINEL"));
    }
}

#[test]
fn api_request_for_a_system_call_matches_the_published_vector() {
    let client = offline_client("123456");
    let signed = oauth_aliexpress::ApiRequest::new("/order/get")
        .param("order_id", "1234")
        .sign(&client, &AccessToken::new("test"))
        .unwrap();
    assert_eq!(
        signed.url().as_str(),
        "https://api-sg.aliexpress.com/rest/order/get?app_key=123456&sign_method=sha256&timestamp=1517820392000&sign=4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    );
    assert_eq!(signed.body(), b"access_token=test&order_id=1234");
    let request = signed.into_http_request().unwrap();
    assert_eq!(request.method(), http_types::Method::POST);
    assert_eq!(request.headers()["content-type"], FORM);
    for bad in [
        oauth_aliexpress::ApiRequest::new("order/get"),
        oauth_aliexpress::ApiRequest::new(""),
        oauth_aliexpress::ApiRequest::new("/order/get").param("sign", "x"),
        oauth_aliexpress::ApiRequest::new("/order/get").param("app_key", "x"),
        oauth_aliexpress::ApiRequest::new("/order/get").param("", "x"),
    ] {
        assert!(matches!(
            bad.sign(&client, &AccessToken::new("t")),
            Err(Error::Configuration { .. })
        ));
    }
    assert!(matches!(
        oauth_aliexpress::ApiRequest::new("/order/get").sign(&client, &AccessToken::new("")),
        Err(Error::Configuration { .. })
    ));
}
