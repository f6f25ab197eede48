//! Seller onboarding in a real browser: headless Chromium, driven through
//! chromedriver (`OAUTH_TEST_WEBDRIVER_URL`, started by `cargo xtask ci` and
//! `cargo xtask with-servers`), opens the sandbox's HTML consent pages the way a
//! connect flow does (the provider client's `authorize_url`), signs in, agrees or
//! declines, and lands on a callback page served by this test; the code is then
//! exchanged with the provider client. The consent pages get basic accessibility
//! checks (one `h1`, labelled inputs, named buttons, contrast >= 4.5:1 from
//! `getComputedStyle`) and a screenshot in `target/browser-artifacts/`.
//!
//! Without `OAUTH_TEST_WEBDRIVER_URL` these tests fail: they never skip.
//!
//! The WebDriver client (`webdriver/mod.rs`, shared with `connect_browser.rs`) is a few
//! calls of the W3C WebDriver JSON protocol over the reqwest client the tests already
//! use (no WebDriver crate: fantoccini or thirtyfour would add their own HTTP stacks and
//! about 40 crates to build for ten endpoints).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;
mod webdriver;

use std::time::Duration;

use oauth_all::core::{CsrfState, parse_callback};
use oauth_sandbox::{DEFAULT_ACCOUNT, Provider};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use support::{Harness, Sweep};
use webdriver::{Browser, assert_accessible, decode_base64, sign_in};

// ---- the application's callback ------------------------------------------------

/// A loopback HTTP server standing for the application's redirect URI: it answers a
/// small HTML page and hands over each URL it receives.
struct Callback {
    base: String,
    received: mpsc::UnboundedReceiver<String>,
}

impl Callback {
    async fn start() -> Callback {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, received) = mpsc::unbounded_channel();
        let origin = base.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                let origin = origin.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let target = text.split(' ').nth(1).unwrap_or("/").to_owned();
                    if target.starts_with("/app/") {
                        let _ = tx.send(format!("{origin}{target}"));
                    }
                    let body = "<!DOCTYPE html><html lang=\"en\"><head><title>Callback</title>\
                                </head><body><h1>Callback received</h1></body></html>";
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Callback { base, received }
    }

    fn url(&self, provider: Provider) -> String {
        format!("{}/app/callback/{}", self.base, provider.path_segment())
    }

    async fn next(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(20), self.received.recv())
            .await
            .expect("the browser reached the callback")
            .unwrap()
    }
}

async fn harness(callback: &Callback) -> Harness {
    Harness::start_with(|builder| {
        builder
            .ebay_accept_url(callback.url(Provider::Ebay))
            .aliexpress_redirect_uri(callback.url(Provider::AliExpress))
            .orangeconnex_redirect_uri(callback.url(Provider::OrangeConnex))
    })
    .await
}

// ---- the flows -------------------------------------------------------------------

async fn consent_in_browser(provider: Provider) {
    let mut callback = Callback::start().await;
    let h = harness(&callback).await;
    let mut sweep = Sweep::new();
    let client = h.any_client(provider, &mut sweep);
    let browser = Browser::start().await;
    let name = provider.path_segment();

    // A wrong seller: the login page again, with the error on it.
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    browser.goto(url.as_str()).await;
    browser.wait_for_h1("Sign in to").await;
    assert_accessible(&browser, &format!("{name} login page")).await;
    browser.screenshot(&format!("{name}-login")).await;
    sign_in(&browser, "no-such-seller").await;
    // The login page again, once the post is answered (the page before has no alert).
    browser.wait_for("[role=alert]").await;
    browser.wait_for_h1("Sign in to").await;
    let error = browser.text("[role=alert]").await;
    assert!(error.contains("no-such-seller"), "{name}: {error}");
    assert_accessible(&browser, &format!("{name} login page with an error")).await;

    // The right one: consent page, Agree, the application's callback, the exchange.
    sign_in(&browser, DEFAULT_ACCOUNT).await;
    browser.wait_for_h1("Allow ").await;
    assert!(browser.text("main").await.contains(DEFAULT_ACCOUNT));
    assert_accessible(&browser, &format!("{name} consent page")).await;
    let shot = browser.screenshot(&format!("{name}-consent")).await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    browser.click("button[value=agree]").await;
    let landed = callback.next().await;
    browser.wait_for_h1("Callback received").await;
    assert!(browser.url().await.starts_with(&callback.url(provider)));
    let received = parse_callback(&landed, &state).unwrap();
    let tokens = client.exchange_code(&received.code).await.unwrap();
    assert!(!tokens.access_token.expose_secret().is_empty());
    assert_eq!(
        h.sandbox.counters().provider(provider).accounts[DEFAULT_ACCOUNT].authorization_code,
        1
    );

    // Decline: the callback gets access_denied and the state, no code.
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    browser.goto(url.as_str()).await;
    sign_in(&browser, DEFAULT_ACCOUNT).await;
    browser.wait_for_h1("Allow ").await;
    browser.click("button[value=decline]").await;
    let landed = callback.next().await;
    let query: std::collections::HashMap<String, String> = url::Url::parse(&landed)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(query["error"], "access_denied", "{name}: {landed}");
    assert_eq!(query["state"], state.as_str(), "{name}");
    assert!(!query.contains_key("code"));
    assert!(parse_callback(&landed, &state).is_err());

    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_consent_in_chromium() {
    consent_in_browser(Provider::Ebay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliexpress_consent_in_chromium() {
    consent_in_browser(Provider::AliExpress).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orangeconnex_consent_in_chromium() {
    consent_in_browser(Provider::OrangeConnex).await;
}

#[test]
fn base64_decodes() {
    assert_eq!(decode_base64("aGVsbG8="), b"hello");
    assert_eq!(decode_base64("aGk="), b"hi");
    assert_eq!(decode_base64("YWJj"), b"abc");
}
