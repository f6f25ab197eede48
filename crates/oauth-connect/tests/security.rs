//! The connect flow and the status page, in process (`tower::ServiceExt::oneshot`),
//! against a scripted token endpoint (`RecordingServer`) and the generic RFC 6749
//! provider: state, cookie, replay, expiry, foreign state, declined consent, the
//! authorization hook, open redirects, secrets in pages, JSON and logs, the
//! status page's states.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::{StatusCode, header};
use oauth_core::test_util::recording::ScriptedResponse;
use oauth_core::{
    AccessToken, AccountKey, Error, ProviderDetails, RefreshStarted, RefreshToken, TokenSet,
    TokenStore,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[tokio::test]
async fn a_connect_redirects_binds_exchanges_installs_and_cannot_be_replayed() {
    let h = harness().await;
    let answer = get(&h.app, "/oauth/connect/shopx?account=seller-1", true, None).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let location = answer.header(header::LOCATION).to_owned();
    assert!(
        location.starts_with(&format!(
            "{}/oauth/authorize?response_type=code",
            h.server.base_url()
        )),
        "{location}"
    );
    assert!(
        location.contains("redirect_uri=https%3A%2F%2Fshop.example%2Foauth%2Fcallback%2Fshopx")
    );
    assert_no_secret(&location);
    let (state, cookie) = start(&h, "seller-1").await;
    // 256 bits, base64url.
    assert_eq!(state.len(), 43);
    assert_eq!(cookie.len(), "oauth_connect=".len() + 43);

    h.server.push_responses([token_answer()]);
    let answer = callback(&h.app, &state, Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.outcome(), "connected");
    assert!(answer.body.contains("id=\"connected-account\">seller-1<"));
    assert_no_secret(&answer.body);
    // The cookie is cleared.
    assert!(answer.header(header::SET_COOKIE).contains("Max-Age=0"));
    let requests = h.server.requests();
    assert_eq!(requests.len(), 1);
    assert!(String::from_utf8_lossy(requests[0].body()).contains(CODE));
    // Installed: the pool serves it.
    let token = h.pool.access_token("seller-1").await.unwrap();
    assert_eq!(token.expose_secret(), ACCESS);
    let connected = h.connected.lock().unwrap().clone();
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0].account, "seller-1");

    // Replayed: a clear page, no token request.
    let replay = callback(&h.app, &state, Some(&cookie)).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.outcome(), "unknown-state");
    assert_eq!(h.server.requests().len(), 1);
}

#[tokio::test]
async fn the_cookie_is_secure_httponly_lax_and_scoped_to_the_callback() {
    let h = harness().await;
    let answer = get(&h.app, "/oauth/connect/shopx?account=seller-1", true, None).await;
    let cookie = answer.header(header::SET_COOKIE);
    assert!(cookie.starts_with("oauth_connect="), "{cookie}");
    for attribute in [
        "; Path=/oauth/callback/shopx",
        "; Max-Age=600",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Secure",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");

    // Plain HTTP only on loopback, and then without Secure.
    let local = harness_at("http://127.0.0.1:8080/oauth").await.unwrap();
    let answer = get(&local.app, "/oauth/connect/shopx?account=a", true, None).await;
    let cookie = answer.header(header::SET_COOKIE);
    assert!(cookie.contains("; HttpOnly; SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    let Err(err) = harness_at("http://shop.example/oauth").await else {
        panic!("a plain-HTTP public base URL off loopback was accepted");
    };
    assert!(err.to_string().contains("https"), "{err}");
}

#[tokio::test]
async fn an_expired_state_gets_a_clear_page_and_no_token_request() {
    let h = harness().await;
    let (state, cookie) = start(&h, "seller-1").await;
    h.clock.advance(Duration::from_secs(601));
    h.server.push_responses([token_answer()]);
    let answer = callback(&h.app, &state, Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.outcome(), "expired");
    assert!(answer.body.contains("expired"));
    assert!(h.server.requests().is_empty());
}

#[tokio::test]
async fn a_foreign_state_or_a_missing_or_wrong_cookie_gets_no_token_request() {
    let h = harness().await;
    h.server.push_responses([token_answer()]);
    let (state_a, cookie_a) = start(&h, "seller-a").await;
    let (state_b, cookie_b) = start(&h, "seller-b").await;
    // The attacker's state (b) with the victim's cookie (a).
    let answer = callback(&h.app, &state_b, Some(&cookie_a)).await;
    assert_eq!(answer.outcome(), "invalid-state");
    // The victim's connect is spent by that attempt.
    let answer = callback(&h.app, &state_a, Some(&cookie_a)).await;
    assert_eq!(answer.outcome(), "unknown-state");
    // No cookie.
    let answer = callback(&h.app, &state_b, None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.outcome(), "missing-cookie");
    // A cookie of nothing.
    let answer = callback(
        &h.app,
        &state_b,
        Some("oauth_connect=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await;
    assert_eq!(answer.outcome(), "unknown-state");
    // Two cookies: refused.
    let answer = callback(&h.app, &state_b, Some(&format!("{cookie_b}; {cookie_a}"))).await;
    assert_eq!(answer.outcome(), "missing-cookie");
    // No state at all.
    let answer = get(
        &h.app,
        &format!("/oauth/callback/shopx?code={CODE}"),
        false,
        Some(&cookie_b),
    )
    .await;
    assert_eq!(answer.outcome(), "invalid-state");
    assert!(h.server.requests().is_empty());
}

#[tokio::test]
async fn a_declined_consent_and_provider_errors_get_a_page_and_no_token_request() {
    let h = harness().await;
    let (state, cookie) = start(&h, "seller-1").await;
    let answer = get(
        &h.app,
        &format!("/oauth/callback/shopx?error=access_denied&error_description=User+declined&state={state}"),
        false,
        Some(&cookie),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.outcome(), "denied");
    assert!(answer.body.contains("declined"));

    let (state, cookie) = start(&h, "seller-1").await;
    let answer = get(
        &h.app,
        &format!("/oauth/callback/shopx?error=server_error&state={state}"),
        false,
        Some(&cookie),
    )
    .await;
    assert_eq!(answer.outcome(), "provider-error");
    assert!(answer.body.contains("server_error"));
    assert!(h.server.requests().is_empty());
    assert!(
        h.store
            .list_accounts("shopx", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_authorization_hook_refusing_is_403_and_nothing_else() {
    let h = harness().await;
    for (uri, operator) in [
        ("/oauth/connect/shopx?account=seller-1", false),
        ("/oauth/connect/shopx?account=not-yours", true),
        ("/oauth/status", false),
        ("/oauth/status.json", false),
    ] {
        let answer = get(&h.app, uri, operator, None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
        assert!(answer.headers.get(header::LOCATION).is_none());
        assert!(!answer.body.contains("seller"), "{}", answer.body);
    }
}

#[tokio::test]
async fn a_connect_from_another_site_is_refused() {
    let h = harness().await;
    let uri = "/oauth/connect/shopx?account=seller-1";
    // A link or redirect from another site carries the host's `SameSite=Lax`
    // session (here: the operator header the hook accepts), yet starts nothing.
    for site in ["cross-site", "same-site"] {
        let answer = get_with(
            &h.app,
            uri,
            &[("x-operator", "yes"), ("sec-fetch-site", site)],
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{site}");
        assert_eq!(answer.outcome(), "cross-site-request", "{site}");
        assert!(answer.body.contains("another site"), "{}", answer.body);
        assert!(answer.headers.get(header::SET_COOKIE).is_none(), "{site}");
        assert!(answer.headers.get(header::LOCATION).is_none(), "{site}");
        assert_eq!(
            answer.header(header::CONTENT_SECURITY_POLICY),
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
        );
    }
    // The status page's form and links (`same-origin`), an address typed or
    // opened by a program (`none`) and clients without the header start.
    for site in [Some("same-origin"), Some("none"), None] {
        let mut headers = vec![("x-operator", "yes")];
        if let Some(site) = site {
            headers.push(("sec-fetch-site", site));
        }
        let answer = get_with(&h.app, uri, &headers).await;
        assert_eq!(
            answer.status,
            StatusCode::FOUND,
            "{site:?}: {}",
            answer.body
        );
        assert!(
            answer
                .header(header::SET_COOKIE)
                .starts_with("oauth_connect=")
        );
    }
    // The hook still decides for an accepted navigation.
    let answer = get_with(&h.app, uri, &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.outcome(), "forbidden");
    assert_eq!(h.server.requests().len(), 0);
}

#[tokio::test]
async fn return_url_prefixes_match_whole_path_segments() {
    let h = harness_returning_to(BASE, "https://shop.example/admin")
        .await
        .unwrap();
    let start_with = |target: &str| {
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        format!("/oauth/connect/shopx?account=seller-1&return_to={encoded}")
    };
    for target in [
        "https://shop.example/admin-evil/",
        "https://shop.example/admin-evil",
        "https://shop.example/adminx",
        "/admin-evil/steal",
        "/admin/../admin-evil",
        "/admin%2F..%2Fadmin-evil",
    ] {
        let answer = get(&h.app, &start_with(target), true, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(answer.outcome(), "return-not-allowed", "{target}");
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
    for target in [
        "https://shop.example/admin",
        "https://shop.example/admin/",
        "/admin/sellers?tab=1",
    ] {
        let answer = get(&h.app, &start_with(target), true, None).await;
        assert_eq!(
            answer.status,
            StatusCode::FOUND,
            "{target}: {}",
            answer.body
        );
    }
    // A prefix ending in `/` covers what starts with it, and not its parent.
    let h = harness().await;
    for (target, status) in [
        ("/admin/sellers", StatusCode::FOUND),
        ("/admin/", StatusCode::FOUND),
        ("/admin", StatusCode::BAD_REQUEST),
        ("/admin-evil/", StatusCode::BAD_REQUEST),
    ] {
        let answer = get(&h.app, &start_with(target), true, None).await;
        assert_eq!(answer.status, status, "{target}");
    }
}

#[tokio::test]
async fn return_urls_off_the_allow_list_are_refused() {
    let h = harness().await;
    for target in [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "https://shop.example/other",
        "https://shop.example.evil.example/admin/",
        "http://shop.example/admin/",
        "https://user@shop.example/admin/",
        "/\\evil.example/admin/",
        "javascript:alert(1)",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let answer = get(
            &h.app,
            &format!("/oauth/connect/shopx?account=seller-1&return_to={encoded}"),
            true,
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(answer.outcome(), "return-not-allowed");
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
    // On the list (relative, resolved against the base): a link after the connect.
    let answer = get(
        &h.app,
        "/oauth/connect/shopx?account=seller-1&return_to=%2Fadmin%2Fsellers",
        true,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let location = url::Url::parse(answer.header(header::LOCATION)).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cookie = answer.header(header::SET_COOKIE).split(';').next().unwrap();
    h.server.push_responses([token_answer()]);
    let answer = callback(&h.app, &state, Some(cookie)).await;
    assert!(
        answer
            .body
            .contains("<a id=\"continue\" href=\"https://shop.example/admin/sellers\">"),
        "{}",
        answer.body
    );
}

fn set(access_expires: SystemTime, refresh: Option<SystemTime>) -> TokenSet {
    TokenSet::new(AccessToken::new(ACCESS), access_expires)
        .with_refresh_token(RefreshToken::new(REFRESH), refresh)
}

#[tokio::test]
async fn the_status_page_shows_each_state_and_never_a_token() {
    let h = harness().await;
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let hour = Duration::from_secs(3600);
    h.pool
        .install("fresh", set(now + 3 * hour, Some(now + 10 * hour)))
        .await
        .unwrap();
    h.pool
        .install("expired", set(now + hour, None))
        .await
        .unwrap();
    h.pool
        .install("dead-refresh", set(now + 3 * hour, Some(now + 2 * hour)))
        .await
        .unwrap();
    h.pool
        .install(
            "no-refresh",
            TokenSet::new(AccessToken::new(ACCESS), now + hour),
        )
        .await
        .unwrap();
    h.pool
        .install("rate-limited", set(now + 3 * hour, None))
        .await
        .unwrap();
    h.pool
        .install("revoked", set(now + hour, None))
        .await
        .unwrap();
    let mut refreshing = set(now + 3 * hour, None);
    refreshing.refresh_started = Some(RefreshStarted::new(now, &RefreshToken::new(REFRESH)));
    h.store
        .save(&AccountKey::new("shopx", "refreshing"), &refreshing, None)
        .await
        .unwrap();
    h.clock.advance(2 * hour + Duration::from_secs(1));
    h.connect.note_failure(
        "shopx",
        "rate-limited",
        &Error::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
            details: ProviderDetails::new("shopx"),
        },
    );
    // The provider says the refresh token of "revoked" is dead: an event.
    h.server
        .push_responses([ScriptedResponse::json(400, r#"{"error":"invalid_grant"}"#)]);
    assert!(h.pool.access_token("revoked").await.is_err());
    // The provider is down while "server-down" needs a refresh: the
    // manager's RefreshFailed event says failing, with the retry time.
    h.pool
        .install("server-down", set(oauth_core::Clock::now(&*h.clock), None))
        .await
        .unwrap();
    // (The harness's HTTP client makes one attempt.)
    h.server
        .push_responses([ScriptedResponse::new(503, "text/html", "down")]);
    assert!(h.pool.access_token("server-down").await.is_err());

    let json = get(&h.app, "/oauth/status.json", true, None).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.header(header::CONTENT_TYPE), "application/json");
    assert_no_secret(&json.body);
    let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    let accounts = value["accounts"].as_array().unwrap();
    let state_of = |account: &str| {
        let row = accounts
            .iter()
            .find(|a| a["account"] == account)
            .unwrap_or_else(|| panic!("{account} not listed: {}", json.body));
        row["state"].as_str().unwrap().to_owned()
    };
    assert_eq!(accounts.len(), 8);
    assert_eq!(state_of("fresh"), "fresh");
    assert_eq!(state_of("expired"), "expired");
    assert_eq!(state_of("dead-refresh"), "reauthorize");
    assert_eq!(state_of("no-refresh"), "reauthorize");
    assert_eq!(state_of("rate-limited"), "failing");
    assert_eq!(state_of("refreshing"), "refreshing");
    assert_eq!(state_of("revoked"), "reauthorize");
    let limited = accounts
        .iter()
        .find(|a| a["account"] == "rate-limited")
        .unwrap();
    assert_eq!(limited["retry_at"], "2023-11-15T00:13:51Z");
    assert_eq!(limited["last_error"], "rate_limited");
    let revoked = accounts.iter().find(|a| a["account"] == "revoked").unwrap();
    assert_eq!(revoked["last_error"], "reauthorization_required");
    assert_eq!(state_of("server-down"), "failing");
    let down = accounts
        .iter()
        .find(|a| a["account"] == "server-down")
        .unwrap();
    assert_eq!(down["last_error"], "transient");
    assert!(down["retry_at"].is_string(), "{down}");
    let fresh = accounts.iter().find(|a| a["account"] == "fresh").unwrap();
    assert_eq!(fresh["access_token_expires_at"], "2023-11-15T01:13:20Z");
    assert_eq!(fresh["refresh_token_expires_at"], "2023-11-15T08:13:20Z");
    assert_eq!(fresh["last_refresh"], "2023-11-14T22:13:20Z");
    assert_eq!(
        fresh["reconnect_url"],
        "https://shop.example/oauth/connect/shopx?account=fresh"
    );

    let page = get(&h.app, "/oauth/status", true, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_no_secret(&page.body);
    for fragment in [
        "<html lang=\"en\">",
        "<h1>Connected accounts</h1>",
        "<table id=\"status-table\">",
        "<th scope=\"col\">State</th>",
        "<th scope=\"row\">fresh</th>",
        "id=\"account-shopx-revoked\" data-provider=\"shopx\" data-account=\"revoked\" data-state=\"reauthorize\"",
        "<a id=\"reconnect-shopx-fresh\" href=\"https://shop.example/oauth/connect/shopx?account=fresh\">",
        "<form id=\"connect-shopx\" method=\"get\" action=\"https://shop.example/oauth/connect/shopx\">",
        "<label for=\"account-shopx\">",
        "<input type=\"text\" id=\"account-shopx\" name=\"account\"",
        "<button type=\"submit\" id=\"connect-shopx-submit\">",
        "next retry <time datetime=\"2023-11-15T00:13:51Z\">",
    ] {
        assert!(
            page.body.contains(fragment),
            "{fragment} missing: {}",
            page.body
        );
    }
    assert!(!page.body.contains("<script"));
    let csp = page.header(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("default-src 'none'"), "{csp}");

    // Reconnecting lifts the latch.
    let (state, cookie) = start(&h, "revoked").await;
    h.server.push_responses([token_answer()]);
    let answer = callback(&h.app, &state, Some(&cookie)).await;
    assert_eq!(answer.outcome(), "connected");
    let json = get(&h.app, "/oauth/status.json", true, None).await;
    let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    let revoked = value["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "revoked")
        .unwrap()
        .clone();
    assert_eq!(revoked["state"], "fresh", "{revoked}");
    assert_eq!(revoked["last_error"], serde_json::Value::Null);
}

#[tokio::test]
async fn unknown_providers_and_bad_accounts_are_refused() {
    let h = harness().await;
    let answer = get(&h.app, "/oauth/connect/other?account=a", true, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    for uri in [
        "/oauth/connect/shopx",
        "/oauth/connect/shopx?account=",
        "/oauth/connect/shopx?account=a%0Ab",
    ] {
        let answer = get(&h.app, uri, true, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(answer.outcome(), "invalid-account");
    }
    let answer = get(
        &h.app,
        "/oauth/connect/shopx?account=a&account=b",
        true,
        None,
    )
    .await;
    assert_eq!(answer.outcome(), "invalid-request");
    // HTML in an account id is escaped.
    let answer = get(
        &h.app,
        "/oauth/connect/shopx?account=%3Cscript%3E",
        true,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::FOUND);
}
