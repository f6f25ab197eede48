//! `POST …/paste/{provider}`: a pasted refresh token of a provider without a
//! consent step, validated by one refresh and installed; refused tokens, the
//! authorization hook, cross-site requests, bounds, and providers that need
//! consent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::{StatusCode, header};
use oauth_core::test_util::recording::ScriptedResponse;
use oauth_core::{AccountKey, TokenStore};

const URI: &str = "/oauth/paste/keyonly";

/// An answer without a refresh token (as Eshopbox's): the pasted one is kept.
fn refresh_answer() -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        format!(r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":7200}}"#),
    )
}

#[tokio::test]
async fn the_status_page_has_a_paste_form_only_for_providers_without_consent() {
    let h = paste_harness().await;
    let page = get(&h.app, "/oauth/status", true, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains(&format!(
        "<form id=\"paste-keyonly\" method=\"post\" action=\"{BASE}/paste/keyonly\""
    )));
    assert!(body.contains("<label for=\"paste-account-keyonly\">"));
    assert!(body.contains("id=\"paste-account-keyonly\" name=\"account\""));
    assert!(body.contains("<label for=\"paste-refresh-token-keyonly\">"));
    assert!(body.contains(
        "<input type=\"password\" id=\"paste-refresh-token-keyonly\" name=\"refresh_token\""
    ));
    assert!(body.contains("<button type=\"submit\" id=\"paste-keyonly-submit\">"));
    assert!(!body.contains("paste-shopx"));
    // The connect forms are unchanged, and none for a provider without consent
    // (a connect could only fail).
    assert!(body.contains("id=\"connect-shopx-submit\""));
    assert!(!body.contains("id=\"connect-keyonly\""));
}

#[tokio::test]
async fn a_pasted_token_is_validated_by_one_refresh_and_installed() {
    let h = paste_harness().await;
    h.server.push_responses([refresh_answer()]);
    let answer = post_form(&h.app, URI, &paste_body("workspace-1"), FORM_HEADERS).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.outcome(), "connected");
    assert!(
        answer
            .body
            .contains("id=\"connected-account\">workspace-1<")
    );
    assert_no_secret(&answer.body);
    assert_no_secret(&format!("{:?}", answer.headers));
    let requests = h.server.requests();
    assert_eq!(requests.len(), 1);
    let sent = String::from_utf8_lossy(requests[0].body()).into_owned();
    assert!(sent.contains("grant_type=refresh_token"), "{sent}");
    assert!(sent.contains(PASTED), "{sent}");
    // Installed: the pool serves it without another request, and the
    // stored set keeps the pasted refresh token.
    let token = h.pool.access_token("workspace-1").await.unwrap();
    assert_eq!(token.expose_secret(), ACCESS);
    assert_eq!(h.server.requests().len(), 1);
    let stored = h
        .store
        .load(&AccountKey::new("keyonly", "workspace-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tokens.refresh_token.unwrap().expose_secret(), PASTED);
    assert_eq!(h.connected.lock().unwrap()[0].account, "workspace-1");
    let json = get(&h.app, "/oauth/status.json", true, None).await;
    assert!(
        json.body.contains(r#""account":"workspace-1""#),
        "{}",
        json.body
    );
    assert!(json.body.contains(r#""provider":"keyonly""#));
    // Reconnecting such an account is pasting a new refresh token.
    assert!(
        json.body.contains(r##""reconnect_url":"#paste-keyonly""##),
        "{}",
        json.body
    );
    assert_no_secret(&json.body);
    // Same-origin by `Origin` alone (a browser without Sec-Fetch-Site).
    h.server.push_responses([refresh_answer()]);
    let answer = post_form(
        &h.app,
        URI,
        &paste_body("workspace-2"),
        &[
            ("x-operator", "yes"),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            ),
            ("origin", "https://shop.example"),
        ],
    )
    .await;
    assert_eq!(answer.outcome(), "connected", "{}", answer.body);
}

#[tokio::test]
async fn a_refused_token_installs_nothing() {
    let h = paste_harness().await;
    h.server.push_responses([ScriptedResponse::json(
        400,
        format!(r#"{{"error":"invalid_grant","error_description":"bad {PASTED}"}}"#),
    )]);
    let answer = post_form(&h.app, URI, &paste_body("workspace-1"), FORM_HEADERS).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.outcome(), "token-refused");
    assert_no_secret(&answer.body);
    assert_eq!(h.server.requests().len(), 1);
    assert!(
        h.store
            .load(&AccountKey::new("keyonly", "workspace-1"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(h.connected.lock().unwrap().is_empty());
    let json = get(&h.app, "/oauth/status.json", true, None).await;
    assert!(!json.body.contains("workspace-1"), "{}", json.body);
    // A provider failure that is not a refusal.
    h.server
        .push_responses([ScriptedResponse::json(503, r#"{"error":"unavailable"}"#)]);
    let answer = post_form(&h.app, URI, &paste_body("workspace-1"), FORM_HEADERS).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(answer.outcome(), "refresh-failed");
    assert!(
        h.store
            .load(&AccountKey::new("keyonly", "workspace-1"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_hook_guards_the_paste() {
    let h = paste_harness().await;
    let not_operator = &FORM_HEADERS[1..];
    let answer = post_form(&h.app, URI, &paste_body("workspace-1"), not_operator).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.outcome(), "forbidden");
    let answer = post_form(&h.app, URI, &paste_body("not-yours"), FORM_HEADERS).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(h.server.requests().len(), 0);
    assert!(
        oauth_core::list_all_accounts(h.store.as_ref(), "keyonly")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_cross_site_or_malformed_post_sends_no_request() {
    let h = paste_harness().await;
    let form = ("content-type", "application/x-www-form-urlencoded");
    let operator = ("x-operator", "yes");
    for headers in [
        // No proof of origin at all.
        vec![operator, form],
        vec![operator, form, ("origin", "null")],
        vec![operator, form, ("origin", "https://evil.example")],
        vec![operator, form, ("sec-fetch-site", "cross-site")],
        vec![operator, form, ("sec-fetch-site", "same-site")],
        vec![
            operator,
            form,
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://shop.example"),
        ],
    ] {
        let answer = post_form(&h.app, URI, &paste_body("workspace-1"), &headers).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(answer.outcome(), "cross-site-request", "{headers:?}");
        assert_no_secret(&answer.body);
    }
    // Not a form.
    let answer = post_form(
        &h.app,
        URI,
        &paste_body("workspace-1"),
        &[
            operator,
            ("content-type", "text/plain"),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.outcome(), "invalid-request");
    // Too large.
    let big = format!("account=a&refresh_token={}", "x".repeat(20_000));
    let answer = post_form(&h.app, URI, &big, FORM_HEADERS).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Missing, empty or repeated fields.
    for (body, outcome) in [
        (format!("refresh_token={PASTED}"), "invalid-account"),
        ("account=a&refresh_token=".to_owned(), "invalid-token"),
        ("account=a&refresh_token=%0A".to_owned(), "invalid-token"),
        ("account=a".to_owned(), "invalid-token"),
        (format!("{}&account=b", paste_body("a")), "invalid-request"),
    ] {
        let answer = post_form(&h.app, URI, &body, FORM_HEADERS).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.outcome(), outcome, "{body}");
        assert_no_secret(&answer.body);
    }
    assert_eq!(h.server.requests().len(), 0);
    assert!(
        oauth_core::list_all_accounts(h.store.as_ref(), "keyonly")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn providers_that_need_consent_have_no_paste_route() {
    let h = paste_harness().await;
    for uri in ["/oauth/paste/shopx", "/oauth/paste/unknown"] {
        let answer = post_form(&h.app, uri, &paste_body("workspace-1"), FORM_HEADERS).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.outcome(), "not-found");
    }
    assert_eq!(h.server.requests().len(), 0);
}

#[tokio::test]
async fn providers_without_consent_have_no_connect_route() {
    let h = paste_harness().await;
    // A 404 before the authorization hook (an operator or not, an account the
    // hook refuses or not): no redirect, no cookie, nothing stored.
    for (uri, operator) in [
        ("/oauth/connect/keyonly?account=w", true),
        ("/oauth/connect/keyonly?account=w", false),
        ("/oauth/connect/keyonly?account=not-yours", true),
        ("/oauth/connect/keyonly", true),
    ] {
        let answer = get(&h.app, uri, operator, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.outcome(), "not-found", "{uri}");
        assert!(answer.headers.get(header::LOCATION).is_none());
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
    assert_eq!(h.server.requests().len(), 0);
    assert!(h.connected.lock().unwrap().is_empty());
    // The provider with a consent page still starts.
    let answer = get(&h.app, "/oauth/connect/shopx?account=w", true, None).await;
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
}
