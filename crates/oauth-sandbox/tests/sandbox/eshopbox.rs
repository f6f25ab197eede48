use std::time::Duration;

use base64::Engine as _;
use oauth_sandbox::{Provider, Sandbox};
use serde_json::{Value, json};

use crate::common::{client, json, keys};

async fn generate(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    body: &Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = http
        .post(sandbox.eshopbox_token_url())
        .json(body)
        .send()
        .await
        .unwrap();
    let headers = response.headers().clone();
    let (status, value) = json(response).await;
    (status, value, headers)
}

fn grant(sandbox: &Sandbox, refresh_token: &str) -> Value {
    let creds = &sandbox.credentials().eshopbox;
    json!({
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    })
}

async fn me(sandbox: &Sandbox, http: &reqwest::Client, token: &str) -> u16 {
    http.get(format!("{}/api/v1/me", sandbox.eshopbox_base_url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
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
    let seeded = sandbox.credentials().eshopbox.refresh_token.clone();
    assert_eq!(
        seeded,
        oauth_sandbox::credentials::DEFAULT_ESHOPBOX_REFRESH_TOKEN
    );

    let (status, body, _) = generate(&sandbox, &http, &grant(&sandbox, &seeded)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "id_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(body["scope"], "openid profile offline_access");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().unwrap().to_owned();
    // JWT-shaped, with a readable payload.
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        86400
    );

    assert_eq!(me(&sandbox, &http, &access).await, 200);
    assert_eq!(me(&sandbox, &http, "forged").await, 401);

    // No rotation: the same refresh token works again.
    let (status, body, _) = generate(&sandbox, &http, &grant(&sandbox, &seeded)).await;
    assert_eq!(status, 200);
    assert_ne!(body["access_token"].as_str().unwrap(), access);

    sandbox.revoke(Provider::Eshopbox);
    let (status, body, _) = generate(&sandbox, &http, &grant(&sandbox, &seeded)).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
    );

    // An admin issues a new refresh token.
    let fresh = sandbox.issue_eshopbox_refresh_token();
    let (status, _, _) = generate(&sandbox, &http, &grant(&sandbox, &fresh)).await;
    assert_eq!(status, 200);
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 4);
}

#[tokio::test]
async fn client_and_body_checks() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = sandbox.credentials().eshopbox.clone();
    let unauthorized = json!({"error": "access_denied", "error_description": "Unauthorized"});

    let mut wrong_secret = grant(&sandbox, &creds.refresh_token);
    wrong_secret["client_secret"] = json!("nope");
    let (status, body, _) = generate(&sandbox, &http, &wrong_secret).await;
    assert_eq!((status, &body), (401, &unauthorized));
    assert!(!body.to_string().contains(&creds.refresh_token));

    let mut wrong_client = grant(&sandbox, &creds.refresh_token);
    wrong_client["client_id"] = json!("someone-else");
    let (status, body, _) = generate(&sandbox, &http, &wrong_client).await;
    assert_eq!((status, &body), (401, &unauthorized));

    let (status, body, _) = generate(&sandbox, &http, &grant(&sandbox, "unknown")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "invalid_grant");

    let mut other_grant = grant(&sandbox, &creds.refresh_token);
    other_grant["grant_type"] = json!("client_credentials");
    let (status, body, _) = generate(&sandbox, &http, &other_grant).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("unsupported_grant_type"))
    );

    for bad in ["{not json", "[1,2,3]", "\"string\"", ""] {
        let response = http
            .post(sandbox.eshopbox_token_url())
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        let (status, body) = json(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn rate_limit_knob() {
    let sandbox = Sandbox::builder()
        .eshopbox_rate_limit(2, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let http = client();
    let seeded = sandbox.credentials().eshopbox.refresh_token.clone();
    for _ in 0..2 {
        let (status, _, _) = generate(&sandbox, &http, &grant(&sandbox, &seeded)).await;
        assert_eq!(status, 200);
    }
    let (status, body, headers) = generate(&sandbox, &http, &grant(&sandbox, &seeded)).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_requests");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
}
