//! A minimal W3C WebDriver client over reqwest (sessions, navigation, elements,
//! scripts, cookies through the DevTools protocol, screenshots in
//! `target/browser-artifacts/`) and the accessibility basics the browser tests check.
//! Shared by `browser.rs` (the sandbox's consent pages) and `connect_browser.rs` (the
//! connect router end to end).
//!
//! `OAUTH_TEST_WEBDRIVER_URL` (chromedriver, started by `cargo xtask ci` and
//! `cargo xtask with-servers`) is required: without it a browser test fails, it never
//! skips.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const WEBDRIVER_URL_VAR: &str = "OAUTH_TEST_WEBDRIVER_URL";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ---- a minimal WebDriver client ------------------------------------------------

pub struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// A new headless Chromium session.
    pub async fn start() -> Browser {
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

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        let url = self.call(reqwest::Method::GET, "/url", None).await;
        url.as_str().unwrap().to_owned()
    }

    pub async fn find(&self, css: &str) -> String {
        let element = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        element[ELEMENT].as_str().unwrap().to_owned()
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
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

    pub async fn text(&self, css: &str) -> String {
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

    pub async fn execute(&self, script: &str) -> Value {
        self.execute_with(script, json!([])).await
    }

    /// Runs `script` with `args` (a JSON array: `arguments[0]`, ...).
    pub async fn execute_with(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// The attribute `name` of the element at `css`, if there is one (null otherwise).
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let value = self
            .execute_with(
                "const e = document.querySelector(arguments[0]); \
                 return e ? e.getAttribute(arguments[1]) : null;",
                json!([css, name]),
            )
            .await;
        value.as_str().map(str::to_owned)
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> usize {
        let n = self
            .execute_with(
                "return document.querySelectorAll(arguments[0]).length;",
                json!([css]),
            )
            .await;
        usize::try_from(n.as_u64().unwrap()).unwrap()
    }

    /// The page's HTML as the browser has it.
    pub async fn source(&self) -> String {
        let source = self.call(reqwest::Method::GET, "/source", None).await;
        source.as_str().unwrap().to_owned()
    }

    /// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`): for
    /// what WebDriver does not reach, such as `HttpOnly` cookies of another path.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
        .await
    }

    /// Waits until an element matches `css`.
    pub async fn wait_for(&self, css: &str) {
        let started = Instant::now();
        while self.count(css).await == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no {css} at {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's `h1` contains `text`.
    pub async fn wait_for_h1(&self, text: &str) {
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
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = decode_base64(encoded.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("browser-artifacts")
}

/// Standard base64 (the screenshot), without a dependency for it.
pub fn decode_base64(text: &str) -> Vec<u8> {
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

/// Problems found on the page: `lang`, a title, exactly one `h1`, no skipped heading
/// level and no empty heading, every link and button with an accessible name, every
/// table with header cells and a caption, every visible input with a non-empty label,
/// and the contrast (>= 4.5:1) of the main elements' text against their (first opaque
/// ancestor's) background; `arguments[0]` adds elements (a CSS selector list) to the
/// contrast check.
pub const ACCESSIBILITY: &str = r#"
const problems = [];
if (!document.documentElement.lang) problems.push('html has no lang');
if (!document.title.trim()) problems.push('no title');
const h1 = document.querySelectorAll('h1');
if (h1.length !== 1) problems.push('h1 count: ' + h1.length);
let level = 0;
for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
  const next = Number(h.tagName[1]);
  if (next > level + 1) problems.push('heading level skipped: ' + h.tagName + ' after h' + level);
  if (!h.textContent.trim()) problems.push('empty heading ' + h.tagName);
  level = next;
}
for (const a of document.querySelectorAll('a[href]')) {
  if (!(a.textContent.trim() || a.getAttribute('aria-label'))) problems.push('link without a name');
}
for (const t of document.querySelectorAll('table')) {
  if (!t.querySelector('th')) problems.push('table without header cells');
  if (!(t.caption && t.caption.textContent.trim()) && !t.getAttribute('aria-label')) problems.push('table without a caption');
}
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
const selectors = 'h1, h2, p, label, li, button, input:not([type=hidden]), [role=alert]' + (arguments[0] ? ', ' + arguments[0] : '');
for (const el of document.querySelectorAll(selectors)) {
  const fg = lum(parse(getComputedStyle(el).color));
  const bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
  checked.push(name);
  if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ':1 on ' + name);
}
return { problems, checked };
"#;

/// Checks [`ACCESSIBILITY`] on the page, with the contrast of at least 4 elements.
pub async fn assert_accessible(browser: &Browser, page: &str) {
    assert_accessible_with(browser, page, "", 4).await;
}

/// [`assert_accessible`], with the contrast also checked on the elements matching
/// `extra` (a CSS selector list, e.g. `"th, td, a, caption"`), and at least
/// `min_checked` elements checked (a short result page has three).
pub async fn assert_accessible_with(
    browser: &Browser,
    page: &str,
    extra: &str,
    min_checked: usize,
) {
    let report = browser.execute_with(ACCESSIBILITY, json!([extra])).await;
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.is_empty(), "{page}: {problems:?}");
    assert!(
        report["checked"].as_array().unwrap().len() >= min_checked,
        "{page}: too few elements checked: {report}"
    );
}

/// Sign in on the login page (after checking it), landing on the consent page.
pub async fn sign_in(browser: &Browser, seller: &str) {
    browser.wait_for_h1("Sign in to").await;
    browser.type_into("#seller", seller).await;
    browser.type_into("#password", "any password").await;
    browser.click("form button[type=submit]").await;
}
