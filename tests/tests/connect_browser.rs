//! Seller onboarding end to end in a real browser (issue 17): headless Chromium, driven
//! through chromedriver (`OAUTH_TEST_WEBDRIVER_URL`, started by `cargo xtask ci` and
//! `cargo xtask with-servers`), goes through `oauth-connect`'s router served on a
//! loopback port, the sandbox's HTML login and consent pages (started in process), and
//! back to the router's callback, for eBay, AliExpress and OrangeConnex.
//!
//! Each provider's client comes from the registry with the sandbox's settings; its
//! redirect URI (eBay: the RuName's accept URL, `SandboxBuilder::ebay_accept_url`) is
//! the router's callback (`Connect::callback_url`). Tokens go to a `TokenPool` over a
//! `FileStore` in a temporary directory. The router has its own `ManualClock`, so that
//! a connect can expire while the seller is on the consent page.
//!
//! - `*_connects_in_chromium`: sign in, Agree, the `connected` result page, then the
//!   status page (the account's row, `fresh`; a screenshot in
//!   `target/browser-artifacts/`; accessibility basics), the pool serves the token and the
//!   sandbox's API accepts it; no page carries a token;
//! - `*_declined_consent_in_chromium`: Decline gives the `denied` page, no token request,
//!   no account on the status page;
//! - `*_replayed_callback_in_chromium`: the callback URL opened again after the connect
//!   gives `missing-cookie` (the callback cleared the cookie), and with the old cookie put
//!   back `unknown-state` (the connect is used up server-side); no second token request;
//! - `*_expired_connect_in_chromium`: the router's clock moved past the 10 minutes while
//!   the seller is on the consent page: the `expired` page, no token request.
//!
//! Without `OAUTH_TEST_WEBDRIVER_URL` these tests fail: they never skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;
mod webdriver;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oauth_all::core::provider::registry::AnyClient;
use oauth_all::core::{FileStore, ManualClock, RefreshGrant, TokenPool};
use oauth_connect::{COOKIE_NAME, Connect, PENDING_LIFETIME, authorize_fn};
use oauth_sandbox::{DEFAULT_ACCOUNT, Provider};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use support::{Api, Harness, Sweep};
use webdriver::{Browser, assert_accessible_with, sign_in};

/// The account the operator connects (the seller signs in at the sandbox as
/// [`DEFAULT_ACCOUNT`]).
const ACCOUNT: &str = "seller-1";

/// The sandbox, the connect router on a loopback port, its pool and store, a browser.
struct Onboarding {
    provider: Provider,
    h: Harness,
    client: AnyClient,
    pool: TokenPool,
    /// The router's clock (the clients and the pool use the harness's).
    clock: ManualClock,
    /// Where the router is mounted: `http://127.0.0.1:<port>/oauth`.
    base: String,
    sweep: Sweep,
    browser: Browser,
    server: tokio::task::JoinHandle<()>,
}

impl Onboarding {
    async fn start(provider: Provider) -> Onboarding {
        // The router's address first: the sandbox registers its callback.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/oauth", listener.local_addr().unwrap());
        let callback = |p: Provider| format!("{base}/callback/{}", p.path_segment());
        let h = Harness::start_with(|builder| {
            builder
                .ebay_accept_url(callback(Provider::Ebay))
                .aliexpress_redirect_uri(callback(Provider::AliExpress))
                .orangeconnex_redirect_uri(callback(Provider::OrangeConnex))
        })
        .await;
        let mut sweep = Sweep::new();
        let client = h.any_client(provider, &mut sweep);
        let store = Arc::new(FileStore::new(h.store_path()));
        let grant: Arc<dyn RefreshGrant> = client.clone();
        let pool = TokenPool::builder(grant, store.clone())
            .clock(h.shared_clock())
            .build();
        let clock = ManualClock::new(SystemTime::now());
        let connect = Connect::builder(&base, authorize_fn(|_, _| true))
            .pool(client.clone(), pool.clone())
            .token_store(store)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        assert_eq!(
            connect.callback_url(provider.path_segment()),
            callback(provider)
        );
        let app = axum::Router::new().nest("/oauth", connect.router());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let browser = Browser::start().await;
        Onboarding {
            provider,
            h,
            client,
            pool,
            clock,
            base,
            sweep,
            browser,
            server,
        }
    }

    fn name(&self) -> &'static str {
        self.provider.path_segment()
    }

    fn callback_url(&self) -> String {
        format!("{}/callback/{}", self.base, self.name())
    }

    fn token_requests(&self) -> usize {
        self.h.requests(self.provider)
    }

    /// Authorization codes the sandbox exchanged for the seller.
    fn code_exchanges(&self) -> u64 {
        self.h
            .sandbox
            .counters()
            .provider(self.provider)
            .accounts
            .get(DEFAULT_ACCOUNT)
            .map_or(0, |counts| counts.authorization_code)
    }

    /// Starts a connect of [`ACCOUNT`] in the browser and signs in at the sandbox: the
    /// browser is left on the consent page.
    async fn to_consent_page(&self) {
        let url = format!("{}/connect/{}?account={ACCOUNT}", self.base, self.name());
        self.browser.goto(&url).await;
        sign_in(&self.browser, DEFAULT_ACCOUNT).await;
        self.browser.wait_for_h1("Allow ").await;
        assert!(
            self.browser.text("main").await.contains(DEFAULT_ACCOUNT),
            "{}: the consent page names the seller",
            self.name()
        );
    }

    /// Clicks `decision` (`agree` or `decline`) on the consent page and returns the
    /// outcome of the router's result page.
    async fn decide(&self, decision: &str) -> String {
        self.browser
            .click(&format!("button[value={decision}]"))
            .await;
        self.outcome().await
    }

    /// The `data-outcome` of the result page the browser is on (after checking it is
    /// the router's callback).
    async fn outcome(&self) -> String {
        self.browser.wait_for("p#result[data-outcome]").await;
        let url = self.browser.url().await;
        assert!(
            url.starts_with(&self.callback_url()),
            "{}: the result page is the router's callback: {url}",
            self.name()
        );
        self.browser
            .attribute("p#result", "data-outcome")
            .await
            .unwrap()
    }

    /// Opens the status page and returns its HTML.
    async fn status_page(&mut self, label: &str) -> String {
        self.browser.goto(&format!("{}/status", self.base)).await;
        self.browser.wait_for_h1("Connected accounts").await;
        self.browser.wait_for("table#status-table").await;
        let source = self.browser.source().await;
        self.sweep.text(label, source.clone());
        source
    }

    /// The rows of the status table.
    async fn status_rows(&self) -> usize {
        self.browser
            .count("#status-table tbody tr[id^=\"account-\"]")
            .await
    }

    /// `GET /status.json`'s accounts.
    async fn status_json(&mut self) -> Vec<Value> {
        let response = self
            .h
            .browser
            .get(format!("{}/status.json", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        self.sweep.text("status.json", text.clone());
        let value: Value = serde_json::from_str(&text).unwrap();
        value["accounts"].as_array().unwrap().clone()
    }

    /// The `oauth_connect` cookie the browser holds for the router's callback, through
    /// the DevTools protocol (it is `HttpOnly`, and its `Path` is the callback's).
    async fn connect_cookie(&self) -> Option<Value> {
        let cookies = self
            .browser
            .cdp(
                "Network.getCookies",
                json!({ "urls": [self.callback_url()] }),
            )
            .await;
        cookies["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == COOKIE_NAME)
            .cloned()
    }

    async fn finish(self) {
        self.sweep.assert_clean(&[]);
        self.browser.quit().await;
        self.server.abort();
        self.h.sandbox.shutdown().await;
    }
}

// ---- the scenarios ---------------------------------------------------------------

async fn connects(provider: Provider) {
    let mut o = Onboarding::start(provider).await;
    let name = o.name();
    o.to_consent_page().await;
    assert_eq!(
        o.token_requests(),
        0,
        "{name}: no token request before consent"
    );
    assert_eq!(o.decide("agree").await, "connected", "{name}");
    assert_eq!(o.browser.text("#connected-account").await, ACCOUNT);
    assert_accessible_with(
        &o.browser,
        &format!("{name} result page"),
        "strong, main",
        4,
    )
    .await;
    let result = o.browser.source().await;
    o.sweep.text("result page", result);
    assert_eq!(o.token_requests(), 1, "{name}: one token request");
    assert_eq!(o.code_exchanges(), 1, "{name}: one code exchanged");
    assert!(
        o.connect_cookie().await.is_none(),
        "{name}: the callback cleared the connect cookie"
    );

    // The status page: the account's row, fresh, a reconnect link; a screenshot.
    o.status_page("status page").await;
    assert_eq!(o.status_rows().await, 1, "{name}: one account");
    let row = format!("tr#account-{name}-{ACCOUNT}");
    assert_eq!(
        o.browser.attribute(&row, "data-state").await.as_deref(),
        Some("fresh"),
        "{name}: the account's row"
    );
    let reconnect = o
        .browser
        .attribute(&format!("a#reconnect-{name}-{ACCOUNT}"), "href")
        .await
        .unwrap();
    assert!(
        reconnect.contains(&format!("/connect/{name}?account={ACCOUNT}")),
        "{name}: {reconnect}"
    );
    let shot = o
        .browser
        .screenshot(&format!("{name}-connect-status"))
        .await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    assert_accessible_with(
        &o.browser,
        &format!("{name} status page"),
        "th, td, a, caption",
        12,
    )
    .await;
    let accounts = o.status_json().await;
    assert_eq!(accounts.len(), 1, "{name}: {accounts:?}");
    assert_eq!(accounts[0]["provider"], name);
    assert_eq!(accounts[0]["account"], ACCOUNT);
    assert_eq!(accounts[0]["state"], "fresh");

    // The pool serves the connected account's token, and the provider's API takes it.
    let handle = o.pool.access_token(ACCOUNT).await.unwrap();
    o.sweep.token_set("connected", handle.token_set());
    let api = Api::of(&o.client);
    assert!(
        o.h.use_token(&api, handle.access_token(), &mut o.sweep)
            .await,
        "{name}: the sandbox's API accepts the connected token"
    );
    assert_eq!(o.token_requests(), 1, "{name}: no refresh");
    o.finish().await;
}

async fn declined(provider: Provider) {
    let mut o = Onboarding::start(provider).await;
    let name = o.name();
    o.to_consent_page().await;
    assert_eq!(o.decide("decline").await, "denied", "{name}");
    assert_accessible_with(&o.browser, &format!("{name} denied page"), "main", 3).await;
    let result = o.browser.source().await;
    o.sweep.text("declined page", result);
    assert_eq!(o.token_requests(), 0, "{name}: no token request");
    o.status_page("status page after a decline").await;
    assert_eq!(o.status_rows().await, 0, "{name}: no account");
    assert_eq!(o.browser.count("#no-accounts").await, 1);
    assert!(o.status_json().await.is_empty());
    assert!(o.pool.access_token(ACCOUNT).await.is_err());
    assert_eq!(o.token_requests(), 0, "{name}: still no token request");
    o.finish().await;
}

async fn replayed(provider: Provider) {
    let mut o = Onboarding::start(provider).await;
    let name = o.name();
    o.to_consent_page().await;
    // The cookie that binds the connect to this browser, as the router set it.
    let cookie = o.connect_cookie().await.expect("the connect cookie");
    assert_eq!(cookie["httpOnly"], true, "{name}: {cookie}");
    assert_eq!(cookie["secure"], false, "{name}: plain-HTTP loopback");
    assert_eq!(cookie["sameSite"], "Lax", "{name}: {cookie}");
    assert_eq!(cookie["path"], format!("/oauth/callback/{name}"));
    assert_eq!(o.decide("agree").await, "connected", "{name}");
    let landed = o.browser.url().await;
    assert_eq!(o.token_requests(), 1);

    // The same callback URL again: the cookie is gone.
    o.browser.goto(&landed).await;
    assert_eq!(o.outcome().await, "missing-cookie", "{name}");
    // And with the old cookie put back: the connect was used up.
    let restored = o
        .browser
        .cdp(
            "Network.setCookie",
            json!({
                "name": COOKIE_NAME,
                "value": cookie["value"],
                "url": o.callback_url(),
                "path": cookie["path"],
                "httpOnly": true,
                "sameSite": "Lax",
            }),
        )
        .await;
    assert_eq!(restored["success"], true, "{name}: {restored}");
    o.browser.goto(&landed).await;
    assert_eq!(o.outcome().await, "unknown-state", "{name}");
    assert_accessible_with(
        &o.browser,
        &format!("{name} replayed callback page"),
        "main",
        3,
    )
    .await;
    let page = o.browser.source().await;
    o.sweep.text("replayed callback page", page);
    assert_eq!(o.token_requests(), 1, "{name}: no second token request");
    assert_eq!(o.code_exchanges(), 1, "{name}: the code was exchanged once");

    // The account stays connected.
    o.status_page("status page after a replay").await;
    assert_eq!(o.status_rows().await, 1);
    let row = format!("tr#account-{name}-{ACCOUNT}");
    assert_eq!(
        o.browser.attribute(&row, "data-state").await.as_deref(),
        Some("fresh")
    );
    let handle = o.pool.access_token(ACCOUNT).await.unwrap();
    o.sweep.token_set("connected", handle.token_set());
    o.finish().await;
}

async fn expired(provider: Provider) {
    let mut o = Onboarding::start(provider).await;
    let name = o.name();
    o.to_consent_page().await;
    // The seller lingers on the consent page past the connect's lifetime.
    o.clock.advance(PENDING_LIFETIME + Duration::from_secs(1));
    assert_eq!(o.decide("agree").await, "expired", "{name}");
    assert!(
        o.browser.text("p#result").await.contains("expired"),
        "{name}: the page says so"
    );
    assert_accessible_with(&o.browser, &format!("{name} expired page"), "main", 3).await;
    let page = o.browser.source().await;
    o.sweep.text("expired page", page);
    assert_eq!(o.token_requests(), 0, "{name}: no token request");
    o.status_page("status page after an expired connect").await;
    assert_eq!(o.status_rows().await, 0, "{name}: no account");
    assert!(o.pool.access_token(ACCOUNT).await.is_err());
    o.finish().await;
}

macro_rules! scenarios {
    ($($provider:ident: $connects:ident, $declined:ident, $replayed:ident, $expired:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $connects() {
            connects(Provider::$provider).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $declined() {
            declined(Provider::$provider).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $replayed() {
            replayed(Provider::$provider).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $expired() {
            expired(Provider::$provider).await;
        }
    )*};
}

scenarios! {
    Ebay: ebay_connects_in_chromium, ebay_declined_consent_in_chromium,
        ebay_replayed_callback_in_chromium, ebay_expired_connect_in_chromium;
    AliExpress: aliexpress_connects_in_chromium, aliexpress_declined_consent_in_chromium,
        aliexpress_replayed_callback_in_chromium, aliexpress_expired_connect_in_chromium;
    OrangeConnex: orangeconnex_connects_in_chromium, orangeconnex_declined_consent_in_chromium,
        orangeconnex_replayed_callback_in_chromium, orangeconnex_expired_connect_in_chromium;
}
