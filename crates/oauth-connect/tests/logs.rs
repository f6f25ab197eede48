//! No token, secret, code, state or cookie value in the TRACE logs (its own
//! test binary: tracing's callsite cache is per process, and other tests
//! running without a subscriber would disable the callsites).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use http::StatusCode;
use oauth_core::test_util::recording::ScriptedResponse;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_secret_code_or_state_in_pages_json_urls_or_trace_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = harness().await;
    let mut seen = String::new();
    let (state, cookie) = start(&h, "seller-1").await;
    h.server.push_responses([token_answer()]);
    let answer = callback(&h.app, &state, Some(&cookie)).await;
    assert_eq!(answer.outcome(), "connected");
    seen.push_str(&answer.body);
    // A failed exchange too.
    let (state2, cookie2) = start(&h, "seller-2").await;
    h.server.push_responses([ScriptedResponse::json(
        400,
        format!(r#"{{"error":"invalid_grant","error_description":"bad {CODE}"}}"#),
    )]);
    let answer = callback(&h.app, &state2, Some(&cookie2)).await;
    assert_eq!(answer.outcome(), "exchange-failed");
    seen.push_str(&answer.body);
    for uri in ["/oauth/status", "/oauth/status.json"] {
        let answer = get(&h.app, uri, true, None).await;
        assert_eq!(answer.status, StatusCode::OK);
        for (_, value) in &answer.headers {
            seen.push_str(value.to_str().unwrap());
        }
        seen.push_str(&answer.body);
    }
    assert!(seen.contains("seller-1"));
    assert_no_secret(&seen);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("account connected"), "{logs}");
    assert_no_secret(&logs);
    assert!(!logs.contains(&state) && !logs.contains(&state2));
    assert!(!logs.contains(&cookie[14..]) && !logs.contains(&cookie2[14..]));
}

#[tokio::test]
async fn no_pasted_refresh_token_in_pages_json_or_trace_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = paste_harness().await;
    let mut seen = String::new();
    h.server.push_responses([token_answer()]);
    let answer = post_form(
        &h.app,
        "/oauth/paste/keyonly",
        &paste_body("workspace-1"),
        FORM_HEADERS,
    )
    .await;
    assert_eq!(answer.outcome(), "connected", "{}", answer.body);
    seen.push_str(&answer.body);
    h.server.push_responses([ScriptedResponse::json(
        400,
        format!(r#"{{"error":"invalid_grant","error_description":"bad {PASTED}"}}"#),
    )]);
    let answer = post_form(
        &h.app,
        "/oauth/paste/keyonly",
        &paste_body("workspace-2"),
        FORM_HEADERS,
    )
    .await;
    assert_eq!(answer.outcome(), "token-refused");
    seen.push_str(&answer.body);
    for uri in ["/oauth/status", "/oauth/status.json"] {
        let answer = get(&h.app, uri, true, None).await;
        for (_, value) in &answer.headers {
            seen.push_str(value.to_str().unwrap());
        }
        seen.push_str(&answer.body);
    }
    assert!(seen.contains("workspace-1"));
    assert_no_secret(&seen);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("pasted refresh token"), "{logs}");
    assert!(logs.contains("did not give tokens"), "{logs}");
    assert_no_secret(&logs);
}
