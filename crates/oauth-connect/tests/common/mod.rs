//! What the tests share: a router on the generic RFC 6749 provider, its
//! scripted token endpoint, requests and answers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use oauth_connect::{Action, Connect, Connected, authorize_fn};
use oauth_core::provider::rfc6749::Rfc6749;
use oauth_core::test_util::recording::{RecordingServer, ScriptedResponse};
use oauth_core::{
    Client, ClientSecret, Environment, Error, HttpClient, ManualClock, MemoryStore, RetryPolicy,
    SharedClock, TokenPool,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tower::ServiceExt;

pub const SECRET: &str = "SENTINEL-client-secret";
pub const ACCESS: &str = "SENTINEL-access-token";
pub const REFRESH: &str = "SENTINEL-refresh-token";
pub const CODE: &str = "SENTINEL-code";
pub const BASE: &str = "https://shop.example/oauth";

pub fn token_answer() -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        format!(
            r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":7200,"refresh_token":"{REFRESH}","refresh_token_expires_in":86400}}"#
        ),
    )
}

#[allow(dead_code)]
pub struct Harness {
    pub server: RecordingServer,
    pub app: Router,
    pub connect: Connect,
    pub pool: TokenPool,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub connected: Arc<Mutex<Vec<Connected>>>,
}

pub async fn harness_at(base: &str) -> Result<Harness, Error> {
    harness_returning_to(base, "https://shop.example/admin/").await
}

/// A harness whose return-URL allow-list is `allowed_return`.
pub async fn harness_returning_to(base: &str, allowed_return: &str) -> Result<Harness, Error> {
    let server = RecordingServer::start(vec![]).await;
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let shared: SharedClock = clock.clone();
    let spec = Rfc6749::new("shopx", "shopx-client", Some(ClientSecret::new(SECRET)))
        .production("https://auth.shopx.example")?
        .authorize_path("/oauth/authorize")
        .redirect_uri(format!("{base}/callback/shopx"));
    let client = Client::builder(spec)
        .environment(Environment::custom(&server.base_url())?)
        .http_client(
            HttpClient::builder()
                .retry_policy(RetryPolicy::none())
                .build()?,
        )
        .clock(shared.clone())
        .build()?;
    let client = Arc::new(client);
    let store = Arc::new(MemoryStore::new());
    let pool = TokenPool::builder(client.clone(), store.clone())
        .clock(shared.clone())
        .build();
    let connected = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&connected);
    let connect = Connect::builder(
        base,
        authorize_fn(|request, action| {
            request.headers.get("x-operator").is_some()
                && !matches!(action, Action::Connect { account, .. } if *account == "not-yours")
        }),
    )
    .pool(client, pool.clone())
    .token_store(store.clone())
    .allow_return_to(allowed_return)
    .on_connected(move |c| seen.lock().unwrap().push(c.clone()))
    .clock(shared)
    .build()?;
    let app = Router::new().nest("/oauth", connect.router());
    Ok(Harness {
        server,
        app,
        connect,
        pool,
        store,
        clock,
        connected,
    })
}

pub async fn harness() -> Harness {
    harness_at(BASE).await.unwrap()
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    pub fn outcome(&self) -> &str {
        let start = self.body.find("data-outcome=\"").expect("an outcome") + 14;
        let rest = &self.body[start..];
        &rest[..rest.find('"').unwrap()]
    }
}

pub async fn get(app: &Router, uri: &str, operator: bool, cookie: Option<&str>) -> Answer {
    let mut headers = Vec::new();
    if operator {
        headers.push(("x-operator", "yes"));
    }
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    get_with(app, uri, &headers).await
}

/// The provider's redirect back to the callback with [`CODE`] and `state`,
/// carrying `cookie` (as a browser would).
pub async fn callback(app: &Router, state: &str, cookie: Option<&str>) -> Answer {
    get(
        app,
        &format!("/oauth/callback/shopx?code={CODE}&state={state}"),
        false,
        cookie,
    )
    .await
}

/// A `GET` with `headers` as given.
pub async fn get_with(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// Starts a connect: (state, cookie pair `oauth_connect=...`).
pub async fn start(h: &Harness, account: &str) -> (String, String) {
    let answer = get(
        &h.app,
        &format!("/oauth/connect/shopx?account={account}"),
        true,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
    let location = url::Url::parse(answer.header(header::LOCATION)).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cookie = answer
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (state, cookie)
}

pub fn assert_no_secret(text: &str) {
    for secret in [SECRET, ACCESS, REFRESH, CODE, PASTED] {
        assert!(!text.contains(secret), "{secret} leaked in: {text}");
    }
}

pub const PASTED: &str = "SENTINEL-pasted-refresh-token";

/// A router with a provider that needs consent (`shopx`) and one that has
/// no consent page (`keyonly`: no authorize endpoint, like Eshopbox custom
/// apps), both on the scripted token endpoint.
pub struct PasteHarness {
    pub server: RecordingServer,
    pub app: Router,
    pub pool: TokenPool,
    pub store: Arc<MemoryStore>,
    pub connected: Arc<Mutex<Vec<Connected>>>,
}

pub async fn paste_harness() -> PasteHarness {
    let server = RecordingServer::start(vec![]).await;
    let clock = Arc::new(ManualClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let shared: SharedClock = clock;
    let client = |spec: Rfc6749| {
        Arc::new(
            Client::builder(spec)
                .environment(Environment::custom(&server.base_url()).unwrap())
                .http_client(
                    HttpClient::builder()
                        .retry_policy(RetryPolicy::none())
                        .build()
                        .unwrap(),
                )
                .clock(shared.clone())
                .build()
                .unwrap(),
        )
    };
    let consent = client(
        Rfc6749::new("shopx", "shopx-client", Some(ClientSecret::new(SECRET)))
            .production("https://auth.shopx.example")
            .unwrap()
            .authorize_path("/oauth/authorize")
            .redirect_uri(format!("{BASE}/callback/shopx")),
    );
    let keyonly = client(
        Rfc6749::new("keyonly", "keyonly-client", Some(ClientSecret::new(SECRET)))
            .production("https://auth.keyonly.example")
            .unwrap(),
    );
    let store = Arc::new(MemoryStore::new());
    let consent_pool = TokenPool::builder(consent.clone(), store.clone())
        .clock(shared.clone())
        .build();
    let pool = TokenPool::builder(keyonly.clone(), store.clone())
        .clock(shared.clone())
        .build();
    let connected = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&connected);
    let connect = Connect::builder(
        BASE,
        authorize_fn(|request, action| {
            request.headers.get("x-operator").is_some()
                && !matches!(action, Action::Connect { account, .. } if *account == "not-yours")
        }),
    )
    .pool(consent, consent_pool)
    .pool(keyonly, pool.clone())
    .token_store(store.clone())
    .on_connected(move |c| seen.lock().unwrap().push(c.clone()))
    .clock(shared)
    .build()
    .unwrap();
    let app = Router::new().nest("/oauth", connect.router());
    PasteHarness {
        server,
        app,
        pool,
        store,
        connected,
    }
}

/// Posts `body` to `uri` as a form; `headers` are added as given.
pub async fn post_form(app: &Router, uri: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::post(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// What a browser sends with the status page's paste form.
pub const FORM_HEADERS: &[(&str, &str)] = &[
    ("x-operator", "yes"),
    ("content-type", "application/x-www-form-urlencoded"),
    ("sec-fetch-site", "same-origin"),
    ("origin", "null"),
];

pub fn paste_body(account: &str) -> String {
    format!("account={account}&refresh_token={PASTED}")
}
