use std::time::Duration;

use oauth_sandbox::signature::aliexpress_sign;
use oauth_sandbox::{Provider, Sandbox};
use serde_json::Value;

use crate::common::{client, form, json, location, now_ms, query_of, with_query};

async fn consent(sandbox: &Sandbox, http: &reqwest::Client, extra: &[(&str, &str)]) -> String {
    let creds = &sandbox.credentials().aliexpress;
    let mut pairs = vec![
        ("response_type", "code"),
        ("force_auth", "true"),
        ("redirect_uri", creds.redirect_uri.as_str()),
        ("client_id", creds.app_key.as_str()),
        ("state", "ae-state"),
    ];
    pairs.extend_from_slice(extra);
    let url = with_query(
        &format!("{}/oauth/authorize", sandbox.aliexpress_base_url()),
        &pairs,
    );
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(location.starts_with(&creds.redirect_uri), "{location}");
    let params = query_of(&location);
    assert_eq!(params["state"], "ae-state");
    params["code"].clone()
}

/// Signs `common + own` for `api` and sends common parameters in the query, own
/// parameters in the form body (the Java SDK's layout).
async fn call(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    path: &str,
    api: Option<&str>,
    own: &[(&str, &str)],
    timestamp: &str,
) -> (u16, Value) {
    let creds = &sandbox.credentials().aliexpress;
    let mut common = vec![
        ("app_key", creds.app_key.as_str()),
        ("timestamp", timestamp),
        ("sign_method", "sha256"),
    ];
    let sign = aliexpress_sign(&creds.app_secret, api, common.iter().chain(own).copied());
    common.push(("sign", &sign));
    let url = with_query(&format!("{}{path}", sandbox.aliexpress_base_url()), &common);
    let response = http
        .post(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(form(own))
        .send()
        .await
        .unwrap();
    json(response).await
}

async fn create(sandbox: &Sandbox, http: &reqwest::Client, code: &str) -> (u16, Value) {
    call(
        sandbox,
        http,
        "/rest/auth/token/create",
        Some("/auth/token/create"),
        &[("code", code)],
        &now_ms(),
    )
    .await
}

async fn refresh(sandbox: &Sandbox, http: &reqwest::Client, token: &str) -> (u16, Value) {
    call(
        sandbox,
        http,
        "/rest/auth/token/refresh",
        Some("/auth/token/refresh"),
        &[("refresh_token", token)],
        &now_ms(),
    )
    .await
}

async fn seller_info(sandbox: &Sandbox, http: &reqwest::Client, session: &str) -> Value {
    let creds = &sandbox.credentials().aliexpress;
    let ts = now_ms();
    let mut params = vec![
        ("method", "aliexpress.solution.seller.info.query"),
        ("app_key", creds.app_key.as_str()),
        ("timestamp", ts.as_str()),
        ("sign_method", "sha256"),
        ("session", session),
    ];
    let sign = aliexpress_sign(&creds.app_secret, None, params.iter().copied());
    params.push(("sign", &sign));
    let url = with_query(&format!("{}/sync", sandbox.aliexpress_base_url()), &params);
    let (status, value) = json(http.get(url).send().await.unwrap()).await;
    assert_eq!(status, 200);
    value
}

fn assert_error(result: (u16, Value), code: &str) {
    let (status, value) = result;
    assert_eq!(status, 200, "{value}");
    assert_eq!(value["type"], "ISV", "{value}");
    assert_eq!(value["code"], code, "{value}");
    assert!(value["message"].is_string(), "{value}");
    assert!(value["request_id"].is_string(), "{value}");
    assert_eq!(value.as_object().unwrap().len(), 4, "{value}");
}

#[tokio::test]
async fn full_flow() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let code = consent(&sandbox, &http, &[]).await;
    assert!(code.starts_with("3_500123_"), "{code}");

    let (status, body) = create(&sandbox, &http, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "0");
    for field in [
        "expires_in",
        "refresh_expires_in",
        "expire_time",
        "refresh_token_valid_time",
    ] {
        assert!(body[field].is_u64(), "{field}: {body}");
    }
    for field in [
        "user_id",
        "seller_id",
        "havana_id",
        "user_nick",
        "account",
        "account_platform",
        "locale",
        "sp",
        "request_id",
    ] {
        assert!(body[field].is_string(), "{field}: {body}");
    }
    assert_eq!(body["expires_in"], 2_592_000);
    assert_eq!(body["refresh_expires_in"], 5_184_000);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh1 = body["refresh_token"].as_str().unwrap().to_owned();
    let valid_time = body["refresh_token_valid_time"].as_u64().unwrap();

    // The code is single use.
    assert_error(create(&sandbox, &http, &code).await, "InvalidCode");

    // Business API (/sync, `session`, no path prefix in the signature).
    let info = seller_info(&sandbox, &http, &access).await;
    let result = &info["aliexpress_solution_seller_info_query_response"]["result"];
    assert_eq!(result["success"], true, "{info}");
    let bad = seller_info(&sandbox, &http, "not-a-token").await;
    assert_eq!(bad["error_response"]["code"], "IllegalAccessToken", "{bad}");
    assert_eq!(bad["error_response"]["type"], "ISV");

    // System API (/rest/order/get, `access_token`, path prefix).
    let order = call(
        &sandbox,
        &http,
        "/rest/order/get",
        Some("/order/get"),
        &[("access_token", &access), ("order_id", "1234")],
        &now_ms(),
    )
    .await;
    assert_eq!(order.0, 200);
    assert_eq!(order.1["code"], "0", "{}", order.1);
    assert_eq!(order.1["result"]["order_id"], "1234");
    assert_error(
        call(
            &sandbox,
            &http,
            "/rest/order/get",
            Some("/order/get"),
            &[("access_token", "x"), ("order_id", "1")],
            &now_ms(),
        )
        .await,
        "IllegalAccessToken",
    );

    // Refresh rotates; the expiry stays the original one.
    let (status, body) = refresh(&sandbox, &http, &refresh1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "0");
    let refresh2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh1);
    assert_eq!(
        body["refresh_token_valid_time"].as_u64().unwrap(),
        valid_time
    );
    assert!(body["refresh_expires_in"].as_u64().unwrap() <= 5_184_000);
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    let info = seller_info(&sandbox, &http, &access2).await;
    assert!(info.get("error_response").is_none(), "{info}");

    // The old refresh token died at once.
    let old = refresh(&sandbox, &http, &refresh1).await;
    assert!(!old.1.to_string().contains(&refresh1));
    assert_error(old, "IllegalRefreshToken");
    // The new one works (and rotates again).
    let (status, body) = refresh(&sandbox, &http, &refresh2).await;
    assert_eq!((status, body["code"].as_str()), (200, Some("0")));
    assert_eq!(
        body["refresh_token_valid_time"].as_u64().unwrap(),
        valid_time
    );
    let refresh3 = body["refresh_token"].as_str().unwrap().to_owned();

    // Revocation: re-authorization required.
    sandbox.revoke(Provider::AliExpress);
    assert_error(
        refresh(&sandbox, &http, &refresh3).await,
        "IllegalRefreshToken",
    );
    assert_eq!(sandbox.token_requests(Provider::AliExpress), 6);
}

#[tokio::test]
async fn parameters_anywhere() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = sandbox.credentials().aliexpress.clone();
    for layout in ["query", "body"] {
        let code = consent(&sandbox, &http, &[]).await;
        let ts = now_ms();
        let mut params = vec![
            ("app_key", creds.app_key.as_str()),
            ("timestamp", ts.as_str()),
            ("sign_method", "sha256"),
            ("partner_id", "sandbox-test"),
            ("code", code.as_str()),
        ];
        let sign = aliexpress_sign(
            &creds.app_secret,
            Some("/auth/token/create"),
            params.iter().copied(),
        );
        params.push(("sign", &sign));
        let url = format!("{}/rest/auth/token/create", sandbox.aliexpress_base_url());
        let request = if layout == "query" {
            http.post(with_query(&url, &params))
        } else {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&params))
        };
        let (status, body) = json(request.send().await.unwrap()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (200, Some("0")),
            "{layout}: {body}"
        );
    }
}

#[tokio::test]
async fn uuid_must_match() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let code = consent(&sandbox, &http, &[("uuid", "u-123")]).await;
    assert_error(create(&sandbox, &http, &code).await, "InvalidCode");
    let code = consent(&sandbox, &http, &[("uuid", "u-123")]).await;
    let (status, body) = call(
        &sandbox,
        &http,
        "/rest/auth/token/create",
        Some("/auth/token/create"),
        &[("code", &code), ("uuid", "u-123")],
        &now_ms(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (200, Some("0")));
}

#[tokio::test]
async fn signature_rejected() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = sandbox.credentials().aliexpress.clone();
    let code = consent(&sandbox, &http, &[]).await;
    let ts = now_ms();
    let common = [
        ("app_key", creds.app_key.as_str()),
        ("timestamp", ts.as_str()),
        ("sign_method", "sha256"),
    ];
    let own = [("code", code.as_str())];
    let url = format!("{}/rest/auth/token/create", sandbox.aliexpress_base_url());
    let send = |sign: String| {
        let mut query = common.to_vec();
        query.push(("sign", &sign));
        let target = with_query(&url, &query);
        http.post(target)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&own))
            .send()
    };
    let good = aliexpress_sign(
        &creds.app_secret,
        Some("/auth/token/create"),
        common.iter().chain(&own).copied(),
    );
    let wrong_cases = [
        // Wrong secret.
        aliexpress_sign(
            "not-the-secret",
            Some("/auth/token/create"),
            common.iter().chain(&own).copied(),
        ),
        // No path prefix.
        aliexpress_sign(&creds.app_secret, None, common.iter().chain(&own).copied()),
        // Body parameter not signed.
        aliexpress_sign(
            &creds.app_secret,
            Some("/auth/token/create"),
            common.iter().copied(),
        ),
        // Lowercase hex.
        good.to_lowercase(),
    ];
    for sign in wrong_cases {
        let (status, body) = json(send(sign).await.unwrap()).await;
        assert_error((status, body.clone()), "IncompleteSignature");
        assert_eq!(
            body["message"],
            "The request signature does not conform to platform standards"
        );
    }
    // The code was not consumed by the rejected attempts.
    let (status, body) = json(send(good).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (200, Some("0")), "{body}");

    // Missing parameters, wrong app key.
    let (status, body) = json(http.post(&url).send().await.unwrap()).await;
    assert_error((status, body), "MissingParameter");
    let other_key = with_query(
        &url,
        &[
            ("app_key", "999"),
            ("timestamp", &ts),
            ("sign_method", "sha256"),
            ("sign", "00"),
        ],
    );
    assert_error(
        json(http.post(other_key).send().await.unwrap()).await,
        "InvalidAppKey",
    );
    let md5 = with_query(
        &url,
        &[
            ("app_key", &creds.app_key),
            ("timestamp", &ts),
            ("sign_method", "md5"),
            ("sign", "00"),
        ],
    );
    assert_error(
        json(http.post(md5).send().await.unwrap()).await,
        "InvalidSignMethod",
    );
    // A parameter given twice.
    let twice = with_query(
        &url,
        &[("app_key", &creds.app_key), ("app_key", &creds.app_key)],
    );
    assert_error(
        json(http.post(twice).send().await.unwrap()).await,
        "InvalidParameter",
    );
}

#[tokio::test]
async fn stale_timestamp_rejected() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let code = consent(&sandbox, &http, &[]).await;
    let now: u64 = now_ms().parse().unwrap();
    for skew in [-11 * 60_000_i64, 11 * 60_000] {
        let ts = now.saturating_add_signed(skew).to_string();
        let result = call(
            &sandbox,
            &http,
            "/rest/auth/token/create",
            Some("/auth/token/create"),
            &[("code", &code)],
            &ts,
        )
        .await;
        assert_error(result, "InvalidTimestamp");
    }
    assert_error(
        call(
            &sandbox,
            &http,
            "/rest/auth/token/create",
            Some("/auth/token/create"),
            &[("code", &code)],
            "yesterday",
        )
        .await,
        "InvalidTimestamp",
    );
    // Within the tolerance.
    let ts = (now - 9 * 60_000).to_string();
    let (status, body) = call(
        &sandbox,
        &http,
        "/rest/auth/token/create",
        Some("/auth/token/create"),
        &[("code", &code)],
        &ts,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (200, Some("0")), "{body}");

    // Tolerance switched off: any timestamp goes.
    let lax = Sandbox::builder()
        .timestamp_tolerance(None)
        .start()
        .await
        .unwrap();
    let code = consent(&lax, &http, &[]).await;
    let (status, body) = call(
        &lax,
        &http,
        "/rest/auth/token/create",
        Some("/auth/token/create"),
        &[("code", &code)],
        "1517820392000",
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (200, Some("0")), "{body}");

    // A tighter tolerance.
    let strict = Sandbox::builder()
        .timestamp_tolerance(Some(Duration::from_secs(5)))
        .start()
        .await
        .unwrap();
    let code = consent(&strict, &http, &[]).await;
    let ts = (now - 60_000).to_string();
    assert_error(
        call(
            &strict,
            &http,
            "/rest/auth/token/create",
            Some("/auth/token/create"),
            &[("code", &code)],
            &ts,
        )
        .await,
        "InvalidTimestamp",
    );
}

#[tokio::test]
async fn refresh_token_expiry_is_not_extended() {
    let sandbox = Sandbox::builder()
        .lifetimes(
            Provider::AliExpress,
            oauth_sandbox::Lifetimes::new(
                Duration::from_secs(60),
                Duration::from_secs(100),
                Duration::from_secs(300),
            ),
        )
        .start()
        .await
        .unwrap();
    let http = client();
    let code = consent(&sandbox, &http, &[]).await;
    let (_, body) = create(&sandbox, &http, &code).await;
    assert_eq!(body["refresh_expires_in"], 100);
    let first = body["refresh_token"].as_str().unwrap().to_owned();
    sandbox.advance_time(Duration::from_secs(60));
    let (_, body) = refresh(&sandbox, &http, &first).await;
    assert_eq!(body["code"], "0", "{body}");
    let remaining = body["refresh_expires_in"].as_u64().unwrap();
    assert!((39..=40).contains(&remaining), "{remaining}");
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    sandbox.advance_time(Duration::from_secs(41));
    assert_error(
        refresh(&sandbox, &http, &second).await,
        "IllegalRefreshToken",
    );
}
