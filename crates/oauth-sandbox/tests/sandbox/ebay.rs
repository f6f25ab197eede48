use std::time::Duration;

use oauth_sandbox::{Provider, Sandbox};
use serde_json::json;

use crate::common::{basic, client, form, json, keys, location, query_of, with_query};

const SCOPES: &str =
    "https://api.ebay.com/oauth/api_scope https://api.ebay.com/oauth/api_scope/sell.account";

async fn consent(sandbox: &Sandbox, http: &reqwest::Client, state: &str) -> String {
    let creds = &sandbox.credentials().ebay;
    let url = with_query(
        &format!("{}/oauth2/authorize", sandbox.ebay_base_url()),
        &[
            ("client_id", &creds.client_id),
            ("redirect_uri", &creds.ru_name),
            ("response_type", "code"),
            ("scope", SCOPES),
            ("state", state),
        ],
    );
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(location.starts_with(&creds.accept_url), "{location}");
    // The code carries `^` and `#`: percent-encoded once in the redirect.
    assert!(
        location.contains("%5E") && location.contains("%23"),
        "{location}"
    );
    let params = query_of(&location);
    assert_eq!(params["state"], state);
    assert_eq!(params["expires_in"], "299");
    params["code"].clone()
}

async fn token(sandbox: &Sandbox, http: &reqwest::Client, body: &str) -> reqwest::Response {
    let creds = &sandbox.credentials().ebay;
    http.post(format!(
        "{}/identity/v1/oauth2/token",
        sandbox.ebay_base_url()
    ))
    .header(
        "authorization",
        basic(&creds.client_id, &creds.client_secret),
    )
    .header("content-type", "application/x-www-form-urlencoded")
    .body(body.to_owned())
    .send()
    .await
    .unwrap()
}

async fn privilege(sandbox: &Sandbox, http: &reqwest::Client, token: &str) -> u16 {
    http.get(format!(
        "{}/sell/account/v1/privilege",
        sandbox.ebay_base_url()
    ))
    .bearer_auth(token)
    .send()
    .await
    .unwrap()
    .status()
    .as_u16()
}

#[tokio::test]
async fn full_flow() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let ru_name = sandbox.credentials().ebay.ru_name.clone();
    let code = consent(&sandbox, &http, "st-1").await;
    assert!(code.starts_with("v^1.1#"));

    let exchange = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &ru_name),
    ]);
    let response = token(&sandbox, &http, &exchange).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "refresh_token_expires_in",
            "token_type"
        ]
    );
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["refresh_token_expires_in"], 47_304_000);
    assert_eq!(body["token_type"], "User Access Token");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

    // Single-use code; the error does not echo it.
    let (status, body) = json(token(&sandbox, &http, &exchange).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "the provided authorization grant code is invalid or was issued to another client"})
    );

    // Protected APIs.
    assert_eq!(privilege(&sandbox, &http, &access).await, 200);
    assert_eq!(privilege(&sandbox, &http, "v^1.1#forged").await, 401);
    let trading = |token: String| {
        http.post(format!("{}/ws/api.dll", sandbox.ebay_base_url()))
            .header("x-ebay-api-iaf-token", token)
            .header("x-ebay-api-call-name", "GetUser")
            .body("<GetUserRequest/>")
            .send()
    };
    let ok = trading(access.clone()).await.unwrap();
    assert_eq!(ok.status(), 200);
    let text = ok.text().await.unwrap();
    assert!(
        text.contains("<GetUserResponse") && text.contains("<Ack>Success</Ack>"),
        "{text}"
    );
    let bad = trading("nope".into()).await.unwrap().text().await.unwrap();
    assert!(
        bad.contains("<Ack>Failure</Ack>") && bad.contains("21916984"),
        "{bad}"
    );

    // Refresh with a subset of the consented scopes: no rotation.
    let refresh_body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("scope", "https://api.ebay.com/oauth/api_scope/sell.account"),
    ]);
    let (status, body) = json(token(&sandbox, &http, &refresh_body).await).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&body), ["access_token", "expires_in", "token_type"]);
    assert_eq!(body["token_type"], "User Access Token");
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(access2, access);
    assert_eq!(privilege(&sandbox, &http, &access2).await, 200);
    // Same refresh token again, without scope: still fine.
    let plain = form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
    let (status, _) = json(token(&sandbox, &http, &plain).await).await;
    assert_eq!(status, 200);

    // Scopes beyond the consent.
    let wider = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        (
            "scope",
            "https://api.ebay.com/oauth/api_scope/sell.inventory",
        ),
    ]);
    let (status, body) = json(token(&sandbox, &http, &wider).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");

    // Revocation: re-authorization required.
    sandbox.revoke(Provider::Ebay);
    let (status, body) = json(token(&sandbox, &http, &plain).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "the provided authorization refresh token is invalid or was issued to another client"})
    );
    assert!(!body.to_string().contains(&refresh));
    // Access tokens already issued live on until they expire.
    assert_eq!(privilege(&sandbox, &http, &access2).await, 200);
    sandbox.expire_access_tokens(Provider::Ebay);
    assert_eq!(privilege(&sandbox, &http, &access2).await, 401);
    assert_eq!(sandbox.token_requests(Provider::Ebay), 6);
}

#[tokio::test]
async fn client_credentials() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("scope", "https://api.ebay.com/oauth/api_scope"),
    ]);
    let (status, token_body) = json(token(&sandbox, &http, &body).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&token_body),
        ["access_token", "expires_in", "token_type"]
    );
    assert_eq!(token_body["token_type"], "Application Access Token");
    assert_eq!(token_body["expires_in"], 7200);
    let access = token_body["access_token"].as_str().unwrap();
    assert_eq!(privilege(&sandbox, &http, access).await, 200);

    let user_scope = form(&[
        ("grant_type", "client_credentials"),
        ("scope", "https://api.ebay.com/oauth/api_scope/sell.account"),
    ]);
    let (status, body) = json(token(&sandbox, &http, &user_scope).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = json(token(&sandbox, &http, "grant_type=client_credentials").await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn client_authentication_and_request_shape() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let url = format!("{}/identity/v1/oauth2/token", sandbox.ebay_base_url());
    let body = "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope";
    let client_id = sandbox.credentials().ebay.client_id.clone();
    let unauthorized =
        json!({"error": "invalid_client", "error_description": "client authentication failed"});
    for authorization in [
        Some(basic(&client_id, "wrong-secret")),
        Some("Basic %%%not-base64%%%".to_owned()),
        Some(format!("Basic {}", "/w==")), // decodes to invalid UTF-8
        Some("Bearer something".to_owned()),
        None,
    ] {
        let mut request = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let (status, value) = json(request.send().await.unwrap()).await;
        assert_eq!(status, 401);
        assert_eq!(value, unauthorized);
    }

    // JSON instead of a form.
    let creds = &sandbox.credentials().ebay;
    let response = http
        .post(&url)
        .header(
            "authorization",
            basic(&creds.client_id, &creds.client_secret),
        )
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    let (status, value) = json(response).await;
    assert_eq!(
        (status, value["error"].as_str()),
        (400, Some("invalid_request"))
    );

    let (status, value) = json(token(&sandbox, &http, "grant_type=password").await).await;
    assert_eq!(
        (status, value["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    // Invalid UTF-8 and bad percent-encoding in the form: an error, not a crash.
    let response = http
        .post(&url)
        .header(
            "authorization",
            basic(&creds.client_id, &creds.client_secret),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![
            b'g', b'r', b'a', b'n', b't', b'_', b't', b'y', b'p', b'e', b'=', 0xff, b'%', b'z',
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn code_checks() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let ru_name = sandbox.credentials().ebay.ru_name.clone();

    // Wrong redirect_uri at the exchange.
    let code = consent(&sandbox, &http, "s").await;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://elsewhere.example/cb"),
    ]);
    let (status, value) = json(token(&sandbox, &http, &body).await).await;
    assert_eq!(
        (status, value["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(!value.to_string().contains(&code));

    // Expired code (five minutes by default).
    let code = consent(&sandbox, &http, "s").await;
    sandbox.advance_time(Duration::from_secs(300));
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &ru_name),
    ]);
    let (status, value) = json(token(&sandbox, &http, &body).await).await;
    assert_eq!(
        (status, value["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn refresh_token_expires() {
    let sandbox = Sandbox::builder()
        .refresh_token_lifetime(Duration::from_secs(60))
        .access_token_lifetime(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    let http = client();
    let ru_name = sandbox.credentials().ebay.ru_name.clone();
    let code = consent(&sandbox, &http, "s").await;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &ru_name),
    ]);
    let (_, value) = json(token(&sandbox, &http, &body).await).await;
    assert_eq!(value["expires_in"], 10);
    assert_eq!(value["refresh_token_expires_in"], 60);
    let access = value["access_token"].as_str().unwrap().to_owned();
    let refresh = value["refresh_token"].as_str().unwrap().to_owned();
    sandbox.advance_time(Duration::from_secs(11));
    assert_eq!(privilege(&sandbox, &http, &access).await, 401);
    sandbox.advance_time(Duration::from_secs(50));
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
    let (status, value) = json(token(&sandbox, &http, &body).await).await;
    assert_eq!(
        (status, value["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}
