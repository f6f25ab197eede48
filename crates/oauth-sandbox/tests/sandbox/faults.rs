use std::time::{Duration, Instant};

use oauth_sandbox::{Fault, MAX_BODY_BYTES, Provider, Sandbox};

use crate::common::{basic, client};

/// An eBay client credentials request: the cheapest token request there is.
async fn app_token(
    sandbox: &Sandbox,
    http: &reqwest::Client,
) -> reqwest::Result<reqwest::Response> {
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
    .body("grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope")
    .send()
    .await
}

#[tokio::test]
async fn latency() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.inject(
        Provider::Ebay,
        Fault::Latency(Duration::from_millis(300)),
        1,
    );
    let started = Instant::now();
    let response = app_token(&sandbox, &http).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), 200);
    let started = Instant::now();
    app_token(&sandbox, &http).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn server_error_counted_down() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.inject(Provider::Ebay, Fault::ServerError(503), 2);
    for _ in 0..2 {
        let response = app_token(&sandbox, &http).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        assert!(
            text.starts_with("<!DOCTYPE html>") && text.contains("503"),
            "{text}"
        );
    }
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 200);
    assert_eq!(sandbox.token_requests(Provider::Ebay), 3);
}

#[tokio::test]
async fn malformed_body() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.inject(Provider::Ebay, Fault::MalformedBody, 1);
    let response = app_token(&sandbox, &http).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
    assert!(text.starts_with("{\"access_token\":"));
}

#[tokio::test]
async fn drop_connection() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.inject(Provider::Ebay, Fault::DropConnection, 1);
    let error = app_token(&sandbox, &http).await.unwrap_err();
    assert!(
        error.is_request() || error.is_connect() || error.is_body(),
        "{error:?}"
    );
    // The next request, on a fresh connection, is served.
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 200);
    // On a pooled (reused) connection too, the client sees the drop, not a silent retry.
    sandbox.inject(Provider::Ebay, Fault::DropConnection, 1);
    assert!(app_token(&sandbox, &http).await.is_err());
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 200);
    assert_eq!(sandbox.token_requests(Provider::Ebay), 4);

    // Same on a raw socket: the connection closes without a single byte.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    sandbox.inject(Provider::Eshopbox, Fault::DropConnection, 1);
    let mut socket = tokio::net::TcpStream::connect(sandbox.local_addr())
        .await
        .unwrap();
    let request = "POST /eshopbox/api/v1/generateToken HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = socket.read_to_end(&mut received).await;
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn rate_limit_per_provider() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.inject(
        Provider::Ebay,
        Fault::RateLimit {
            retry_after_secs: 7,
        },
        1,
    );
    let response = app_token(&sandbox, &http).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorId"], 2001);

    // AliExpress: its own error shape.
    sandbox.inject(
        Provider::AliExpress,
        Fault::RateLimit {
            retry_after_secs: 3,
        },
        1,
    );
    let response = http
        .post(format!(
            "{}/rest/auth/token/refresh",
            sandbox.aliexpress_base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "ApiCallLimit");

    // OrangeConnex.
    sandbox.inject(
        Provider::OrangeConnex,
        Fault::RateLimit {
            retry_after_secs: 1,
        },
        1,
    );
    let response = http
        .post(format!("{}/oauth/token", sandbox.orangeconnex_base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
}

#[tokio::test]
async fn faults_queue_in_order_and_stay_with_their_provider() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.inject(Provider::Ebay, Fault::ServerError(502), 1);
    sandbox.inject(
        Provider::Ebay,
        Fault::RateLimit {
            retry_after_secs: 1,
        },
        1,
    );
    sandbox.inject(Provider::Eshopbox, Fault::ServerError(500), 5);
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 502);
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 429);
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 200);
    sandbox.clear_faults(Provider::Eshopbox);
    let creds = &sandbox.credentials().eshopbox;
    let response = http
        .post(sandbox.eshopbox_token_url())
        .json(&serde_json::json!({
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": creds.refresh_token,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(sandbox.token_requests(Provider::Ebay), 3);
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);
}

#[tokio::test]
async fn huge_body_refused() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = &sandbox.credentials().ebay;
    let body = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(MAX_BODY_BYTES + 1)
    );
    let response = http
        .post(format!(
            "{}/identity/v1/oauth2/token",
            sandbox.ebay_base_url()
        ))
        .header(
            "authorization",
            basic(&creds.client_id, &creds.client_secret),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // Still serving.
    assert_eq!(app_token(&sandbox, &http).await.unwrap().status(), 200);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sandbox = Sandbox::start().await.unwrap();
    let addr = sandbox.local_addr();
    sandbox.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
