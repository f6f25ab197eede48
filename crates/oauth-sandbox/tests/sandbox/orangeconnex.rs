use oauth_sandbox::{OrangeConnexErrorStatus, Provider, Sandbox};
use serde_json::json;

use crate::common::{client, json, keys, location, query_of, with_query};

async fn consent(sandbox: &Sandbox, http: &reqwest::Client) -> String {
    let creds = &sandbox.credentials().orangeconnex;
    let url = with_query(
        &format!("{}/oauth/authorize", sandbox.orangeconnex_base_url()),
        &[
            ("response_type", "code"),
            ("client_id", &creds.client_id),
            ("redirect_uri", &creds.redirect_uri),
            ("state", "oc-state"),
        ],
    );
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(location.starts_with(&creds.redirect_uri), "{location}");
    // A base64 code: `+`, `/` and `=` arrive percent-encoded once.
    assert!(
        location.contains("%2B") && location.contains("%2F") && location.contains("%3D"),
        "{location}"
    );
    let params = query_of(&location);
    assert_eq!(params["state"], "oc-state");
    params["code"].clone()
}

async fn token(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    params: &[(&str, &str)],
    client_key: Option<&str>,
) -> (u16, serde_json::Value) {
    let url = with_query(
        &format!("{}/oauth/token", sandbox.orangeconnex_base_url()),
        params,
    );
    let mut request = http.post(url);
    if let Some(key) = client_key {
        request = request.header("clientKey", key);
    }
    json(request.send().await.unwrap()).await
}

async fn exchange(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    code: &str,
) -> (u16, serde_json::Value) {
    let creds = sandbox.credentials().orangeconnex.clone();
    token(
        sandbox,
        http,
        &[
            ("client_id", &creds.client_id),
            ("grant_type", "authorization_code"),
            ("redirect_uri", &creds.redirect_uri),
            ("code", code),
        ],
        creds.client_key.as_deref(),
    )
    .await
}

async fn refresh(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    refresh_token: &str,
) -> (u16, serde_json::Value) {
    let creds = sandbox.credentials().orangeconnex.clone();
    token(
        sandbox,
        http,
        &[
            ("client_id", &creds.client_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        creds.client_key.as_deref(),
    )
    .await
}

async fn sku_list(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    token: &str,
    client_key: Option<&str>,
) -> u16 {
    let mut request = http
        .get(format!(
            "{}/openapi/3pp/sku/v3/list",
            sandbox.orangeconnex_base_url()
        ))
        .header("Access-Token", format!("Bearer {token}"));
    if let Some(key) = client_key {
        request = request.header("clientKey", key);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn full_flow() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let key = sandbox.credentials().orangeconnex.client_key.clone();
    let code = consent(&sandbox, &http).await;
    let (status, body) = exchange(&sandbox, &http, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "bearer");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh1 = body["refresh_token"].as_str().unwrap().to_owned();

    let (status, body) = exchange(&sandbox, &http, &code).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid authorization code"})
    );

    assert_eq!(
        sku_list(&sandbox, &http, &access, key.as_deref()).await,
        200
    );
    assert_eq!(sku_list(&sandbox, &http, &access, None).await, 401);
    assert_eq!(sku_list(&sandbox, &http, &access, Some("wrong")).await, 401);
    assert_eq!(
        sku_list(&sandbox, &http, "forged", key.as_deref()).await,
        401
    );

    // Refresh: by default the same refresh token comes back and stays valid.
    let (status, body) = refresh(&sandbox, &http, &refresh1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["refresh_token"], refresh1.as_str());
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(access2, access);
    assert_eq!(
        sku_list(&sandbox, &http, &access2, key.as_deref()).await,
        200
    );
    let (status, _) = refresh(&sandbox, &http, &refresh1).await;
    assert_eq!(status, 200);

    sandbox.revoke(Provider::OrangeConnex);
    let (status, body) = refresh(&sandbox, &http, &refresh1).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid refresh token"})
    );
    assert_eq!(sandbox.token_requests(Provider::OrangeConnex), 5);
}

#[tokio::test]
async fn rotation_knob() {
    let sandbox = Sandbox::builder()
        .orangeconnex_rotates_refresh_tokens(true)
        .start()
        .await
        .unwrap();
    let http = client();
    let code = consent(&sandbox, &http).await;
    let (_, body) = exchange(&sandbox, &http, &code).await;
    let refresh1 = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&sandbox, &http, &refresh1).await;
    assert_eq!(status, 200);
    let refresh2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh1);
    let (status, body) = refresh(&sandbox, &http, &refresh1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&sandbox, &http, &refresh2).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn request_checks() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = sandbox.credentials().orangeconnex.clone();

    // redirect_uri must equal the one used at authorize.
    let code = consent(&sandbox, &http).await;
    let (status, body) = token(
        &sandbox,
        &http,
        &[
            ("client_id", &creds.client_id),
            ("grant_type", "authorization_code"),
            ("redirect_uri", "https://other.example/cb"),
            ("code", &code),
        ],
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Redirect URI mismatch."})
    );

    // clientKey: optional on the token endpoint, but a wrong one is refused.
    let code = consent(&sandbox, &http).await;
    let params = [
        ("client_id", creds.client_id.as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", creds.redirect_uri.as_str()),
        ("code", code.as_str()),
    ];
    let (status, body) = token(&sandbox, &http, &params, Some("wrong-key")).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "Bad client credentials"})
    );
    let (status, _) = token(&sandbox, &http, &params, None).await;
    assert_eq!(status, 200);

    // Parameters in the body instead of the query string are not read.
    let code = consent(&sandbox, &http).await;
    let body_params = crate::common::form(&[
        ("client_id", &creds.client_id),
        ("grant_type", "authorization_code"),
        ("redirect_uri", &creds.redirect_uri),
        ("code", &code),
    ]);
    let response = http
        .post(format!("{}/oauth/token", sandbox.orangeconnex_base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body_params)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // Unknown client, unknown grant type.
    let (status, body) = token(
        &sandbox,
        &http,
        &[
            ("client_id", "other"),
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token(
        &sandbox,
        &http,
        &[("client_id", &creds.client_id), ("grant_type", "password")],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    // Authorize: an unregistered redirect_uri is answered in place.
    let url = with_query(
        &format!("{}/oauth/authorize", sandbox.orangeconnex_base_url()),
        &[
            ("response_type", "code"),
            ("client_id", &creds.client_id),
            ("redirect_uri", "https://evil.example/cb"),
            ("state", "s"),
        ],
    );
    let (status, body) = json(http.get(url).send().await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn errors_with_status_200() {
    let sandbox = Sandbox::builder()
        .orangeconnex_error_status(OrangeConnexErrorStatus::AlwaysOk)
        .start()
        .await
        .unwrap();
    let http = client();
    let (status, body) = refresh(&sandbox, &http, "unknown").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid refresh token"})
    );
}
