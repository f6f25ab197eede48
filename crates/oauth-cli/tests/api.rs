//! `oauth <provider> api` driven as a process, against a sandbox started in the test:
//! a call per provider, a rejected token refreshed and retried once, a token rejected
//! again (exit code 3), API errors (exit code 5, the body on stdout), `--include`, and
//! no token or secret in any output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use oauth_sandbox::{DEFAULT_ACCOUNT, Provider, Sandbox};
use serde_json::Value;

mod support;
use support::{Run, aliexpress_env, consent, ebay_env, eshopbox_env, orangeconnex_env};

/// `oauth args` with exactly `env`, killed after 30 s.
fn oauth(args: &[&str], env: &[(&str, String)]) -> impl Future<Output = Run> + Send + use<> {
    support::oauth(args, env, Duration::from_secs(30))
}

/// `authorize-url`, consent and `exchange` into `store`.
async fn connect(provider: &str, env: &[(&str, String)], store: &Path) {
    let authorize = oauth(&[provider, "authorize-url", "--json"], env)
        .await
        .ok()
        .json();
    let landed = consent(authorize["url"].as_str().unwrap()).await;
    let state = authorize["state"].as_str().unwrap();
    oauth(
        &[
            provider,
            "exchange",
            "--store",
            store.to_str().unwrap(),
            "--state",
            state,
            "--redirect-url",
            &landed,
        ],
        env,
    )
    .await
    .ok();
}

/// The stored tokens of every account in the token file: access and refresh tokens.
fn stored_secrets(store: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(store) else {
        return Vec::new();
    };
    let file: Value = serde_json::from_str(&text).unwrap();
    let mut secrets = Vec::new();
    for entry in file["accounts"].as_object().unwrap().values() {
        for key in ["access_token", "refresh_token"] {
            if let Some(token) = entry["tokens"][key].as_str() {
                secrets.push(token.to_owned());
            }
        }
    }
    secrets
}

/// The sandbox's secret credentials.
fn sandbox_secrets(sandbox: &Sandbox) -> Vec<String> {
    let creds = sandbox.credentials();
    vec![
        creds.ebay.client_secret.clone(),
        creds.aliexpress.app_secret.clone(),
        creds.orangeconnex.client_key.clone().unwrap(),
        creds.eshopbox.client_secret.clone(),
        creds.eshopbox.refresh_token.clone(),
    ]
}

/// Asserts that no token ever stored (`seen`, plus the file's current ones) and no
/// sandbox secret appears in `run`'s stdout or stderr.
fn assert_no_secret(run: &Run, sandbox: &Sandbox, store: &Path, seen: &[String]) {
    let all = run.all();
    let mut secrets = sandbox_secrets(sandbox);
    secrets.extend(stored_secrets(store));
    secrets.extend(seen.iter().cloned());
    assert!(!secrets.is_empty());
    for secret in secrets {
        assert!(!all.contains(&secret), "a secret was printed: {run:#?}");
    }
    // Nor a signature or a request header.
    for marker in ["sign=", "Bearer ", "access_token=", "session="] {
        assert!(!all.contains(marker), "{marker} printed: {run:#?}");
    }
}

/// API counters of the sandbox's default account.
fn api_counts(sandbox: &Sandbox, provider: Provider) -> (u64, u64) {
    let counters = sandbox.counters();
    let counts = counters
        .provider(provider)
        .api_accounts
        .get(DEFAULT_ACCOUNT)
        .cloned()
        .unwrap_or_default();
    (counts.requests, counts.token_rejected)
}

/// Refresh requests of the sandbox's default account.
fn refreshes(sandbox: &Sandbox, provider: Provider) -> u64 {
    sandbox
        .counters()
        .provider(provider)
        .accounts
        .get(DEFAULT_ACCOUNT)
        .map_or(0, |counts| counts.refresh_token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_calls_its_api() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();

    // eBay REST: Authorization: Bearer.
    let env = ebay_env(&sandbox);
    connect("ebay", &env, &store).await;
    let run = oauth(
        &[
            "ebay",
            "api",
            "GET",
            "/sell/account/v1/privilege",
            "--store",
            store_arg,
        ],
        &env,
    )
    .await
    .ok();
    // Not a terminal: the exact bytes, JSON as the API sent it.
    let body = run.json();
    assert!(body.get("sellingLimit").is_some(), "{run:#?}");
    assert_eq!(run.stderr, "");
    assert_eq!(sandbox.api_requests(Provider::Ebay), 1);
    assert_no_secret(&run, &sandbox, &store, &[]);

    // A path with a query, and --param: the query parameters add up.
    let run = oauth(
        &[
            "ebay",
            "api",
            "/sell/inventory/v1/inventory_item?offset=0",
            "--param",
            "limit=2",
            "--store",
            store_arg,
        ],
        &env,
    )
    .await
    .ok();
    assert_eq!(run.json()["limit"], 2, "{run:#?}");

    // eBay Trading: X-EBAY-API-IAF-TOKEN, an XML body from a file.
    let request = dir.path().join("req.xml");
    std::fs::write(
        &request,
        r#"<?xml version="1.0" encoding="utf-8"?><GeteBayOfficialTimeRequest xmlns="urn:ebay:apis:eBLBaseComponents"/>"#,
    )
    .unwrap();
    let data = format!("@{}", request.display());
    let run = oauth(
        &[
            "ebay",
            "api",
            "POST",
            "/ws/api.dll",
            "--trading",
            "--header",
            "X-EBAY-API-CALL-NAME:GeteBayOfficialTime",
            "--data",
            &data,
            "--store",
            store_arg,
        ],
        &env,
    )
    .await
    .ok();
    assert!(run.stdout.contains("<Ack>Success</Ack>"), "{run:#?}");
    assert!(
        run.stdout.contains("GeteBayOfficialTimeResponse"),
        "{run:#?}"
    );
    assert_no_secret(&run, &sandbox, &store, &[]);

    // AliExpress: a business API name, parameters in the query, signed.
    let env = aliexpress_env(&sandbox);
    connect("aliexpress", &env, &store).await;
    let run = oauth(
        &[
            "aliexpress",
            "api",
            "aliexpress.solution.order.get",
            "--param",
            "param0={\"current_page\":1,\"page_size\":2}",
            "--store",
            store_arg,
        ],
        &env,
    )
    .await
    .ok();
    let body = run.json();
    assert!(
        body.get("aliexpress_solution_order_get_response").is_some(),
        "{run:#?}"
    );
    assert_eq!(sandbox.api_requests(Provider::AliExpress), 1);
    assert_no_secret(&run, &sandbox, &store, &[]);

    // OrangeConnex: Access-Token: Bearer and clientKey; a JSON body given inline.
    let env = orangeconnex_env(&sandbox);
    connect("orangeconnex", &env, &store).await;
    let run = oauth(
        &[
            "orangeconnex",
            "api",
            "POST",
            "/openapi/3pp/sku/v3/creation",
            "--data",
            r#"{"sellerSkuId":"SKU-42"}"#,
            "--store",
            store_arg,
        ],
        &env,
    )
    .await
    .ok();
    let body = run.json();
    assert_eq!(body["success"], true, "{run:#?}");
    assert_eq!(body["data"]["sellerSkuId"], "SKU-42", "{run:#?}");
    assert_eq!(sandbox.api_requests(Provider::OrangeConnex), 1);
    assert_no_secret(&run, &sandbox, &store, &[]);

    // Eshopbox: no consent; the first call fetches and saves the first token.
    let env = eshopbox_env(&sandbox);
    let run = oauth(
        &["eshopbox", "api", "GET", "/api/v1/me", "--store", store_arg],
        &env,
    )
    .await
    .ok();
    assert!(run.json().get("workspace").is_some(), "{run:#?}");
    assert_eq!(sandbox.api_requests(Provider::Eshopbox), 1);
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);
    assert!(
        std::fs::read_to_string(&store)
            .unwrap()
            .contains("eshopbox/default")
    );
    assert_no_secret(&run, &sandbox, &store, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_refreshed_once_and_the_call_retried_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let mut seen = Vec::new();

    for (provider, sandbox_provider, env, args) in [
        (
            "ebay",
            Provider::Ebay,
            ebay_env(&sandbox),
            vec!["GET", "/sell/account/v1/privilege"],
        ),
        (
            // The rejection hides in a 200 (`IllegalAccessToken`).
            "aliexpress",
            Provider::AliExpress,
            aliexpress_env(&sandbox),
            vec!["aliexpress.solution.seller.info.query"],
        ),
        (
            "orangeconnex",
            Provider::OrangeConnex,
            orangeconnex_env(&sandbox),
            vec!["GET", "/openapi/3pp/sku/v3/list"],
        ),
    ] {
        connect(provider, &env, &store).await;
        seen.extend(stored_secrets(&store));
        let before = refreshes(&sandbox, sandbox_provider);
        assert!(sandbox.reject_access_tokens(sandbox_provider, Some(DEFAULT_ACCOUNT)) > 0);
        let mut argv = vec![provider, "api"];
        argv.extend(args);
        argv.extend(["--store", store_arg]);
        let run = oauth(&argv, &env).await;
        assert_eq!(run.code, Some(0), "{provider}: {run:#?}");
        run.json();
        // Two API requests, the first rejected; one refresh.
        assert_eq!(api_counts(&sandbox, sandbox_provider), (2, 1), "{provider}");
        assert_eq!(
            refreshes(&sandbox, sandbox_provider),
            before + 1,
            "{provider}"
        );
        seen.extend(stored_secrets(&store));
        assert_no_secret(&run, &sandbox, &store, &seen);
    }

    // Eshopbox, through the admin endpoint this time.
    let env = eshopbox_env(&sandbox);
    oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    seen.extend(stored_secrets(&store));
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/reject-access-tokens", sandbox.admin_url()))
        .json(&serde_json::json!({"provider": "eshopbox", "account": DEFAULT_ACCOUNT}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let tokens_before = sandbox.token_requests(Provider::Eshopbox);
    let run = oauth(
        &["eshopbox", "api", "/api/v1/orders", "--store", store_arg],
        &env,
    )
    .await
    .ok();
    assert!(run.json().get("data").is_some(), "{run:#?}");
    assert_eq!(api_counts(&sandbox, Provider::Eshopbox), (2, 1));
    assert_eq!(
        sandbox.token_requests(Provider::Eshopbox),
        tokens_before + 1
    );
    seen.extend(stored_secrets(&store));
    assert_no_secret(&run, &sandbox, &store, &seen);

    // The refreshed token was saved: the next call uses it, no refresh.
    let run = oauth(
        &["eshopbox", "api", "/api/v1/me", "--store", store_arg],
        &env,
    )
    .await
    .ok();
    run.json();
    assert_eq!(api_counts(&sandbox, Provider::Eshopbox), (3, 1));
    assert_eq!(
        sandbox.token_requests(Provider::Eshopbox),
        tokens_before + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_again_after_the_refresh_exits_3() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let env = ebay_env(&sandbox);
    connect("ebay", &env, &store).await;
    let mut seen = stored_secrets(&store);
    sandbox.reject_access_tokens_persistently(Provider::Ebay, DEFAULT_ACCOUNT);

    let run = oauth(
        &[
            "ebay",
            "api",
            "GET",
            "/sell/account/v1/privilege",
            "--store",
            store_arg,
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("rejected the access token, and again after a refresh"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("hint: the grant may have been revoked: run `oauth ebay authorize-url`")
    );
    // One refresh, one retry, never a third request.
    assert_eq!(api_counts(&sandbox, Provider::Ebay), (2, 2));
    assert_eq!(refreshes(&sandbox, Provider::Ebay), 1);
    seen.extend(stored_secrets(&store));
    assert_no_secret(&run, &sandbox, &store, &seen);

    let json = oauth(
        &[
            "ebay",
            "api",
            "GET",
            "/sell/account/v1/privilege",
            "--store",
            store_arg,
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(json.code, Some(3));
    let error = &json.json()["error"];
    assert_eq!(error["kind"], "rejected_after_refresh");
    assert_eq!(error["reauthorize"], true);
    assert_eq!(error["exit_code"], 3);
    assert_eq!(error["provider"], "ebay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_error_exits_5_with_the_body_on_stdout() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let env = ebay_env(&sandbox);
    connect("ebay", &env, &store).await;

    // eBay answers 400 (errorId 2004) for a limit outside 1..=200.
    let args = [
        "ebay",
        "api",
        "GET",
        "/sell/inventory/v1/inventory_item",
        "--param",
        "limit=0",
        "--store",
        store_arg,
    ];
    let run = oauth(&args, &env).await;
    assert_eq!(run.code, Some(5), "{run:#?}");
    assert_eq!(run.json()["errors"][0]["errorId"], 2004, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("oauth: the eBay API answered 400 Bad Request"),
        "{run:#?}"
    );
    assert_no_secret(&run, &sandbox, &store, &[]);

    // --json: one object on stdout, with the status and the body.
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let run = oauth(&with_json, &env).await;
    assert_eq!(run.code, Some(5), "{run:#?}");
    let error = &run.json()["error"];
    assert_eq!(error["kind"], "api_error");
    assert_eq!(error["exit_code"], 5);
    assert_eq!(error["status"], 400);
    assert_eq!(error["body"]["errors"][0]["errorId"], 2004);
    assert_eq!(error["reauthorize"], false);

    // AliExpress reports errors in a 200: still an API error.
    let env = aliexpress_env(&sandbox);
    connect("aliexpress", &env, &store).await;
    let run = oauth(
        &[
            "aliexpress",
            "api",
            "aliexpress.solution.no.such.api",
            "--store",
            store_arg,
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(5), "{run:#?}");
    assert_eq!(
        run.json()["error_response"]["code"],
        "InvalidApiName",
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("the AliExpress API answered 200 OK: "),
        "{run:#?}"
    );
    assert_no_secret(&run, &sandbox, &store, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_prints_the_status_line_and_response_headers() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let env = eshopbox_env(&sandbox);
    let run = oauth(
        &[
            "eshopbox",
            "api",
            "GET",
            "/api/v1/me",
            "--include",
            "--store",
            store.to_str().unwrap(),
        ],
        &env,
    )
    .await
    .ok();
    let (head, body) = run.stdout.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"), "{run:#?}");
    let headers: Vec<&str> = lines.collect();
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("content-type: application/json")),
        "{headers:?}"
    );
    // Response headers only: never the request's.
    assert!(!head.to_ascii_lowercase().contains("authorization"));
    let body: Value = serde_json::from_str(body).unwrap();
    assert!(body.get("workspace").is_some());
    assert_no_secret(&run, &sandbox, &store, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_would_leak_or_leave_the_host_are_refused() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let env = eshopbox_env(&sandbox);
    for (args, says) in [
        (
            vec!["GET", "https://evil.example/steal"],
            "must start with `/`",
        ),
        (vec!["GET", "//evil.example/steal"], "must start with `/`"),
        (
            vec!["/api/v1/me", "--header", "Authorization:Bearer x"],
            "attaches the token",
        ),
        (
            vec!["/api/v1/me", "--header", "no-colon-SENTINEL"],
            "has no `:`",
        ),
        (vec!["/api/v1/me", "--param", "SENTINEL"], "has no `=`"),
    ] {
        let mut argv = vec!["eshopbox", "api"];
        argv.extend(args);
        argv.extend(["--store", store_arg]);
        let run = oauth(&argv, &env).await;
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stderr.contains(says), "{says}: {run:#?}");
        assert!(!run.all().contains("SENTINEL"), "{run:#?}");
    }
    // Nothing was sent, no token fetched.
    assert_eq!(sandbox.api_requests(Provider::Eshopbox), 0);
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 0);

    // eBay's --trading needs the call's name.
    let run = oauth(
        &[
            "ebay",
            "api",
            "POST",
            "/ws/api.dll",
            "--trading",
            "--store",
            store_arg,
        ],
        &ebay_env(&sandbox),
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("X-EBAY-API-CALL-NAME"), "{run:#?}");

    // Without eBay tokens in the store: authorize first (exit code 3), nothing sent.
    oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    let run = oauth(
        &[
            "ebay",
            "api",
            "/sell/account/v1/privilege",
            "--store",
            store_arg,
        ],
        &ebay_env(&sandbox),
    )
    .await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert_eq!(sandbox.api_requests(Provider::Ebay), 0);
}

/// A server that answers every request with `status`, the extra header `header` and
/// `body` (JSON), for answers the sandbox does not give; its base URL.
fn scripted(status: &str, header: (&str, &str), body: &str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{}: {}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        header.0,
        header.1,
        body.len()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_secrets_are_masked_in_every_encoding() {
    const SECRET: &str = "SENTINEL/esb/client-secret-0003";
    const REFRESH: &str = "SENTINEL/esb/refresh-token-0004";
    let sandbox = Sandbox::builder()
        .eshopbox_client("sentinel-esb-id", SECRET, REFRESH)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let env = eshopbox_env(&sandbox);
    // JSON with `\/` (PHP's json_encode), and percent-encoded in a header.
    let body = format!(
        r#"{{"error":"bad client","client_secret":"{}","refresh":"{}"}}"#,
        SECRET.replace('/', "\\/"),
        REFRESH.replace('/', "\\/")
    );
    let base = scripted(
        "400 Bad Request",
        ("x-echo", &SECRET.replace('/', "%2F")),
        &body,
    );
    let args = [
        "eshopbox",
        "api",
        "/api/v1/me",
        "--include",
        "--api-base-url",
        &base,
        "--store",
        store_arg,
    ];
    let run = oauth(&args, &env).await;
    assert_eq!(run.code, Some(5), "{run:#?}");
    assert!(run.stdout.contains("x-echo: [REDACTED]"), "{run:#?}");
    let (_, printed) = run.stdout.split_once("\n\n").unwrap();
    let printed: Value = serde_json::from_str(printed).unwrap();
    assert_eq!(printed["client_secret"], "[REDACTED]", "{run:#?}");
    assert_eq!(printed["refresh"], "[REDACTED]", "{run:#?}");

    let mut with_json = args.to_vec();
    with_json.push("--json");
    let json_run = oauth(&with_json, &env).await;
    assert_eq!(json_run.code, Some(5), "{json_run:#?}");
    let error = &json_run.json()["error"];
    assert_eq!(
        error["body"]["client_secret"], "[REDACTED]",
        "{json_run:#?}"
    );
    assert_eq!(error["headers"]["x-echo"], "[REDACTED]", "{json_run:#?}");

    for run in [&run, &json_run] {
        for form in [
            "esb/client",
            "esb\\/client",
            "esb%2Fclient",
            "esb\\/refresh",
        ] {
            assert!(!run.all().contains(form), "{form}: {run:#?}");
        }
        assert_no_secret(run, &sandbox, &store, &[SECRET.into(), REFRESH.into()]);
    }
}

/// As for `token`: a stored set minted from another refresh token than the configured
/// one (an administrator issued a new one) is dropped before the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eshopbox_api_drops_a_stale_stored_set() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let env = eshopbox_env(&sandbox);
    oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);

    // The stored set now comes from another refresh token.
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&store).unwrap()).unwrap();
    file["accounts"]["eshopbox/default"]["tokens"]["refresh_token"] =
        Value::String("an-older-refresh-token".into());
    std::fs::write(&store, file.to_string()).unwrap();

    let run = oauth(
        &["eshopbox", "api", "GET", "/api/v1/me", "--store", store_arg],
        &env,
    )
    .await
    .ok();
    assert!(run.json().get("workspace").is_some(), "{run:#?}");
    // A new set from the configured refresh token, saved.
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 2);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&store).unwrap()).unwrap();
    assert_eq!(
        file["accounts"]["eshopbox/default"]["tokens"]["refresh_token"],
        sandbox.credentials().eshopbox.refresh_token.as_str()
    );
    assert_no_secret(&run, &sandbox, &store, &[]);
}
