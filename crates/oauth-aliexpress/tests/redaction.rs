//! No public type that holds a secret, and no error, shows it in `{:?}` or
//! `{}`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_aliexpress::{
    AliExpress, ApiRequest, Client, IopError, PROVIDER, Signer, TokenResponse,
    classify_api_response,
};
use oauth_core::{
    AccessToken, AppSecret, AuthorizationCode, EndpointUrl, Error, IntoTokenSet, Provider,
    RawResponse, RefreshToken, TokenSet, from_unix_millis,
};
use std::time::UNIX_EPOCH;

fn decode_token_response(response: &RawResponse) -> Result<TokenResponse, Error> {
    TokenResponse::decode(response, UNIX_EPOCH)
}

const SENTINEL: &str = "SENTINEL7f3a9c2e1b";

fn secret(label: &str) -> String {
    format!("{SENTINEL}{label}")
}

fn app() -> AliExpress {
    AliExpress::new("12345678", AppSecret::new(secret("app")))
        .redirect_uri("https://app.example/callback")
}

fn client() -> Client {
    Client::builder(app()).build().unwrap()
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SENTINEL), "{what} leaks: {text}");
}

#[test]
fn client_signer_and_requests_are_redacted() {
    let client = client();
    let builder = Client::builder(AliExpress::new("1", AppSecret::new(secret("app"))));
    let text = Signer::string_to_sign("/x", [("code", secret("code").as_str())]);
    let create = app()
        .exchange_request(
            &client.request_context(),
            &AuthorizationCode::new(secret("code")),
        )
        .unwrap();
    let set = TokenSet::new(AccessToken::new(secret("at")), from_unix_millis(0))
        .with_refresh_token(RefreshToken::new(secret("rt")), None);
    let refresh = app()
        .refresh_request(&client.request_context(), &set)
        .unwrap();
    let api = ApiRequest::new("/order/get").secret_param("password", &secret("pw"));
    let signed = api.sign(&client, &AccessToken::new(secret("at"))).unwrap();
    let signer = Signer::new(&AppSecret::new(secret("app"))).unwrap();
    for (what, text) in [
        ("client", format!("{client:?} {client:#?}")),
        ("builder", format!("{builder:?}")),
        (
            "signer",
            format!("{signer:?} {:?}", client.provider().signer()),
        ),
        ("settings", format!("{:?} {:#?}", app(), client.provider())),
        (
            "attachment",
            format!("{:?} {:#?}", client.attachment(), client.attachment()),
        ),
        ("string to sign", format!("{text:?}")),
        ("create request", format!("{create:?}")),
        ("refresh request", format!("{refresh:?}")),
        ("api request", format!("{api:?}")),
        ("signed api request", format!("{signed:?} {signed:#?}")),
    ] {
        assert_clean(what, &text);
    }
}

#[test]
fn token_answers_and_sets_are_redacted() {
    let body = format!(
        r#"{{"access_token":"{}","refresh_token":"{}","expires_in":10,"refresh_expires_in":20,"code":"0"}}"#,
        secret("at"),
        secret("rt")
    );
    let response = RawResponse::new(PROVIDER, 200, Some("application/json"), body);
    let decoded = decode_token_response(&response).unwrap();
    let set: TokenSet = decoded.clone().into_token_set();
    assert_clean("response", &format!("{decoded:?} {decoded:#?}"));
    assert_clean("raw", &format!("{response:?}"));
    assert_clean("set", &format!("{set:?}"));
}

#[test]
fn errors_are_redacted() {
    let mut errors = Vec::new();
    let bodies = [
        (
            200,
            format!(
                r#"{{"code":"IllegalRefreshToken","message":"refresh token {} is invalid","request_id":"1"}}"#,
                secret("rt")
            ),
        ),
        (
            400,
            format!(
                r#"{{"error_response":{{"code":"IncompleteSignature","msg":"sign={} app_secret={}","request_id":"2"}}}}"#,
                secret("sign"),
                secret("app")
            ),
        ),
        (
            200,
            format!(
                r#"{{"access_token":"{}","expires_in":"soon"}}"#,
                secret("at")
            ),
        ),
        (200, format!(r#"{{"access_token":"{}","#, secret("at"))),
        (502, format!("<html>token {}</html>", secret("at"))),
        (
            200,
            format!(r#"{{"refresh_token":"{}","expires_in":1}}"#, secret("rt")),
        ),
    ];
    for (status, body) in bodies {
        let response = RawResponse::new(PROVIDER, status, Some("application/json"), body);
        errors.push(decode_token_response(&response).unwrap_err());
        if let Err(e) = classify_api_response(&response) {
            errors.push(e);
        }
        if let Some(iop) = IopError::from_response(&response) {
            errors.push(iop.to_error(status));
        }
    }
    errors.push(
        Client::builder(
            AliExpress::new("1", AppSecret::new(secret("app")))
                .redirect_uri(format!("not a url {}", secret("x"))),
        )
        .build()
        .unwrap_err(),
    );
    errors.push(
        ApiRequest::new("/order/get")
            .param("sign", secret("s"))
            .sign(&client(), &AccessToken::new(secret("at")))
            .unwrap_err(),
    );
    assert!(errors.len() >= 12, "{}", errors.len());
    for error in errors {
        assert_clean("error", &format!("{error} {error:?} {error:#?}"));
    }
}

#[tokio::test]
async fn refresh_failures_are_redacted() {
    // No server listens on this port: a transport error, which must not
    // carry the URL (whose query holds the signature) or the body.
    let client = Client::builder(app())
        .environment(oauth_aliexpress::Environment::Custom(
            EndpointUrl::parse("http://127.0.0.1:9").unwrap(),
        ))
        .build()
        .unwrap();
    let set = TokenSet::new(AccessToken::new(secret("at")), from_unix_millis(0))
        .with_refresh_token(RefreshToken::new(secret("rt")), None);
    let err = client.refresh(&set).await.unwrap_err();
    assert_clean("transport error", &format!("{err} {err:?}"));
    let none = TokenSet::new(AccessToken::new(secret("at")), from_unix_millis(0));
    let err = client.refresh(&none).await.unwrap_err();
    assert_clean("not supported", &format!("{err} {err:?}"));
}
