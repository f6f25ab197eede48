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
//! The WebDriver client is a few calls of the W3C WebDriver JSON protocol over the
//! reqwest client the tests already use (no WebDriver crate: fantoccini or thirtyfour
//! would add their own HTTP stacks and about 40 crates to build for ten endpoints).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use oauth_all::core::{CsrfState, parse_callback};
use oauth_sandbox::{DEFAULT_ACCOUNT, Provider};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use support::{Harness, Sweep};

const WEBDRIVER_URL_VAR: &str = "OAUTH_TEST_WEBDRIVER_URL";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ---- a minimal WebDriver client ------------------------------------------------

struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// A new headless Chromium session.
    async fn start() -> Browser {
        let base = std::env::var(WEBDRIVER_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{WEBDRIVER_URL_VAR} is not set: the browser tests need chromedriver. Run them \
                 with `cargo xtask with-servers -- cargo test -p oauth-e2e-tests --test browser` \
                 (or `cargo xtask ci`); they never skip"
            )
        });
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--window-size=1024,900", "--lang=en-US"
            ]
        });
        if let Ok(binary) = std::env::var("OAUTH_TEST_CHROMIUM") {
            options["binary"] = json!(binary);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&json!({
                "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": options,
                    "timeouts": { "pageLoad": 20000, "script": 10000, "implicit": 0 }
                }}
            }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("chromedriver at {base} does not answer: {e}"))
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {response}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap();
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {value}"
        );
        value["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn url(&self) -> String {
        let url = self.call(reqwest::Method::GET, "/url", None).await;
        url.as_str().unwrap().to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let element = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        element[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let text = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await;
        text.as_str().unwrap().to_owned()
    }

    async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Waits until the page's `h1` contains `text`.
    async fn wait_for_h1(&self, text: &str) {
        let started = Instant::now();
        loop {
            let h1 = self
                .execute("const h = document.querySelector('h1'); return h ? h.textContent : '';")
                .await;
            if h1.as_str().is_some_and(|h| h.contains(text)) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no h1 with {text:?} at {}: {h1}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG screenshot as `target/browser-artifacts/<name>.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = decode_base64(encoded.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("browser-artifacts")
}

/// Standard base64 (the screenshot), without a dependency for it.
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

// ---- accessibility --------------------------------------------------------------

/// Problems found on the page: `lang`, exactly one `h1`, every visible input with a
/// non-empty label, every button with an accessible name, and the contrast of the
/// main elements' text against their (first opaque ancestor's) background.
const ACCESSIBILITY: &str = r#"
const problems = [];
if (!document.documentElement.lang) problems.push('html has no lang');
const h1 = document.querySelectorAll('h1');
if (h1.length !== 1) problems.push('h1 count: ' + h1.length);
for (const input of document.querySelectorAll('input:not([type=hidden])')) {
  const label = input.labels && input.labels[0];
  if (!label || !label.textContent.trim()) problems.push('input without a label: ' + input.name);
}
for (const b of document.querySelectorAll('button')) {
  if (!(b.textContent.trim() || b.getAttribute('aria-label'))) problems.push('button without a name');
}
const parse = s => s.match(/[\d.]+/g).map(Number);
const opaque = c => c.length < 4 || c[3] > 0;
const background = el => {
  for (; el; el = el.parentElement) {
    const c = parse(getComputedStyle(el).backgroundColor);
    if (opaque(c)) return c;
  }
  return [255, 255, 255];
};
const lum = c => {
  const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const checked = [];
for (const el of document.querySelectorAll('h1, h2, p, label, li, button, input:not([type=hidden]), [role=alert]')) {
  const fg = lum(parse(getComputedStyle(el).color));
  const bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
  checked.push(name);
  if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ':1 on ' + name);
}
return { problems, checked };
"#;

async fn assert_accessible(browser: &Browser, page: &str) {
    let report = browser.execute(ACCESSIBILITY).await;
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.is_empty(), "{page}: {problems:?}");
    assert!(
        report["checked"].as_array().unwrap().len() >= 4,
        "{page}: too few elements checked: {report}"
    );
}

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

/// Sign in on the login page (after checking it), landing on the consent page.
async fn sign_in(browser: &Browser, seller: &str) {
    browser.wait_for_h1("Sign in to").await;
    browser.type_into("#seller", seller).await;
    browser.type_into("#password", "any password").await;
    browser.click("form button[type=submit]").await;
}

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
