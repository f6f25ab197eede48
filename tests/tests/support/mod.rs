//! Shared helpers of the end-to-end tests: a [`Harness`] (a sandbox with random
//! credentials, a [`ManualClock`], a token file in a temporary directory, a browser that
//! does not follow redirects), a [`Sweep`] that collects every secret used and every text
//! shown (`Debug`, `Display`, logs) and checks that no secret appears in any text, and one
//! function per provider that runs that provider's whole lifecycle through `oauth_all`
//! against `oauth_sandbox`, asserting exact behaviour at every step.
//!
//! The flows are shared by `e2e_flows.rs` (which runs them one by one), `hygiene.rs` (which
//! runs them all with tracing captured at TRACE) and `rotation_concurrency.rs` (which
//! reuses the harness and the AliExpress consent).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use oauth_all::PROVIDERS;
use oauth_all::core::http_types;
use oauth_all::core::provider::registry::{
    self, AnyClient, ClientOptions, Configure, ProviderEntry, SettingValues,
};
use oauth_all::core::transport::{RetryPolicy, basic_auth_value};
use oauth_all::core::{
    AccessToken, AccountKey, AttachToken, AttachTokenExt, CallbackError, ClientSecret, Clock,
    CsrfState, Environment, Error, FileStore, HttpClient, IntoTokenSet, ManualClock, Provider as _,
    RefreshGrant, RefreshToken, Scopes, SharedClock, TokenEventKind, TokenManager, TokenSet,
    TokenStore, parse_callback,
};
use oauth_all::{aliexpress, ebay, eshopbox, orangeconnex};
use oauth_sandbox::{Fault, Provider, Sandbox, SandboxBuilder};
use tokio::sync::broadcast;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Access token lifetime the sandbox issues in the flows (every provider).
pub const ACCESS_LIFETIME: Duration = Duration::from_secs(120);
/// Refresh margin of every token manager in the flows.
pub const SKEW: Duration = Duration::from_secs(30);
/// The eBay scopes the user consents to.
pub const EBAY_SCOPES: [&str; 2] = [
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
];

/// A random value (for credentials the sandbox registers): `prefix-<43 random chars>`.
pub fn random(prefix: &str) -> String {
    format!("{prefix}-{}", CsrfState::generate().unwrap().as_str())
}

// ---------------------------------------------------------------------------------------
// Providers: the registry (`oauth_all::PROVIDERS`) and each one's settings on the sandbox
// ---------------------------------------------------------------------------------------

/// Each provider's settings on `sandbox`, by the keys of its `Configure::SETTINGS`: the
/// one per-provider line a new provider adds here (its client, its base URL, the secrets
/// the sweep looks for and the generic lifecycle all follow from the registry).
pub fn sandbox_settings(sandbox: &Sandbox, provider: Provider) -> SettingValues {
    let c = sandbox.credentials();
    let values = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .fold(SettingValues::new(), |values, (key, value)| {
                values.with(key, value)
            })
    };
    match provider {
        Provider::Ebay => values(&[
            ("client_id", &c.ebay.client_id),
            ("client_secret", &c.ebay.client_secret),
            ("ru_name", &c.ebay.ru_name),
            ("scopes", &EBAY_SCOPES.join(" ")),
        ]),
        Provider::AliExpress => values(&[
            ("app_key", &c.aliexpress.app_key),
            ("app_secret", &c.aliexpress.app_secret),
            ("redirect_uri", &c.aliexpress.redirect_uri),
        ]),
        Provider::OrangeConnex => values(&[
            ("client_id", &c.orangeconnex.client_id),
            (
                "client_key",
                c.orangeconnex.client_key.as_deref().unwrap_or(""),
            ),
            ("redirect_uri", &c.orangeconnex.redirect_uri),
        ]),
        Provider::Eshopbox => values(&[
            ("client_id", &c.eshopbox.client_id),
            ("client_secret", &c.eshopbox.client_secret),
            ("refresh_token", &c.eshopbox.refresh_token),
        ]),
        other => panic!("no sandbox settings for {other}: add its line to sandbox_settings"),
    }
}

/// The registry entry of a provider the sandbox emulates (the sandbox's path segments
/// are the registry's names).
pub fn entry(provider: Provider) -> &'static ProviderEntry {
    registry::find(PROVIDERS, provider.path_segment())
        .unwrap_or_else(|| panic!("{provider} is not in oauth_all::PROVIDERS"))
}

/// The emulated provider of a registry entry.
pub fn emulated(entry: &ProviderEntry) -> Provider {
    Provider::from_path_segment(entry.name)
        .unwrap_or_else(|| panic!("the sandbox does not emulate {}", entry.name))
}

/// The emulated provider named `name` (a `Configure::NAME`).
fn emulated_named(name: &str) -> Provider {
    Provider::from_path_segment(name)
        .unwrap_or_else(|| panic!("the sandbox does not emulate {name}"))
}

/// An `AnyClient`'s attachment as an `Arc<dyn AttachToken>` that keeps the client alive.
#[derive(Debug, Clone)]
pub struct ClientAttachment(pub AnyClient);

impl AttachToken for ClientAttachment {
    fn attach(
        &self,
        token: &AccessToken,
        head: &mut http_types::request::Parts,
    ) -> Result<(), Error> {
        self.0.attachment().attach(token, head)
    }
}

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// One sandbox, one clock and one token file, shared by the steps of a test.
pub struct Harness {
    /// The running sandbox (credentials randomised per run).
    pub sandbox: Sandbox,
    /// The clock of every client and manager; [`Harness::advance`] moves it together with
    /// the sandbox's clock.
    pub clock: ManualClock,
    /// The temporary directory holding the token file.
    pub dir: tempfile::TempDir,
    /// A user agent that does not follow redirects (consent) and calls the APIs.
    pub browser: reqwest::Client,
    /// The HTTP client of every provider client: short retry backoff, short timeouts.
    pub http: HttpClient,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// A sandbox with [`ACCESS_LIFETIME`] and random secrets.
    pub async fn start() -> Harness {
        Harness::start_with(|builder| builder).await
    }

    /// Like [`Harness::start`], then `configure` may change the builder further.
    pub async fn start_with(configure: impl FnOnce(SandboxBuilder) -> SandboxBuilder) -> Harness {
        let builder = Sandbox::builder()
            .access_token_lifetime(ACCESS_LIFETIME)
            .ebay_client(
                oauth_sandbox::credentials::DEFAULT_EBAY_CLIENT_ID,
                random("ebay-cert"),
            )
            .aliexpress_app(
                oauth_sandbox::credentials::DEFAULT_ALIEXPRESS_APP_KEY,
                random("ae-app-secret"),
            )
            .orangeconnex_client(
                oauth_sandbox::credentials::DEFAULT_ORANGECONNEX_CLIENT_ID,
                Some(random("oc-client-key")),
            )
            .eshopbox_client(
                oauth_sandbox::credentials::DEFAULT_ESHOPBOX_CLIENT_ID,
                random("esb-client-secret"),
                random("esb-refresh-token"),
            );
        let sandbox = configure(builder).start().await.unwrap();
        // Start at the real time: the sandbox checks AliExpress timestamps against it.
        let clock = ManualClock::new(SystemTime::now());
        let http = HttpClient::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .retry_policy(RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(50),
            })
            .build()
            .unwrap();
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Harness {
            sandbox,
            clock,
            dir: tempfile::tempdir().unwrap(),
            browser,
            http,
        }
    }

    /// The clock, shared.
    pub fn shared_clock(&self) -> SharedClock {
        Arc::new(self.clock.clone())
    }

    /// The token file of this harness.
    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("tokens.json")
    }

    /// A [`FileStore`] on the token file.
    pub fn store(&self) -> FileStore {
        FileStore::new(self.store_path())
    }

    /// The base URL of `provider` on the sandbox (`<base>/<segment>`): its
    /// `Environment::Custom`.
    pub fn base_url(&self, provider: Provider) -> String {
        format!("{}/{}", self.sandbox.base_url(), provider.path_segment())
    }

    /// The sandbox's settings of `provider` ([`sandbox_settings`]).
    pub fn settings(&self, provider: Provider) -> SettingValues {
        sandbox_settings(&self.sandbox, provider)
    }

    /// The client options of every client: the sandbox as a custom environment, the
    /// harness's HTTP client and clock.
    pub fn options(&self, provider: Provider) -> ClientOptions {
        ClientOptions {
            environment: Environment::custom(&self.base_url(provider)).unwrap(),
            http: Some(self.http.clone()),
            clock: Some(self.shared_clock()),
        }
    }

    /// Records in `sweep` every value of `values` that the provider's settings mark
    /// secret (labelled "<title> <label>").
    pub fn record_settings(entry: &ProviderEntry, values: &SettingValues, sweep: &mut Sweep) {
        for setting in entry.settings.iter().filter(|s| s.secret) {
            if let Some(value) = values.get(setting.key) {
                sweep.secret(&format!("{} {}", entry.title, setting.label), value);
            }
        }
    }

    /// `provider`'s client from the registry with the sandbox's settings, as an
    /// [`AnyClient`].
    pub fn any_client(&self, provider: Provider, sweep: &mut Sweep) -> AnyClient {
        let entry = entry(provider);
        let values = self.settings(provider);
        Harness::record_settings(entry, &values, sweep);
        let client = entry.build(&values, self.options(provider)).unwrap();
        sweep.debug(&format!("{} client", entry.title), &client);
        client
    }

    /// The typed client of provider `P` with the sandbox's settings.
    pub fn client<P: Configure>(&self, sweep: &mut Sweep) -> oauth_all::core::Client<P> {
        self.client_with::<P>(&self.settings(emulated_named(P::NAME)), sweep)
    }

    /// The typed client of provider `P` with `values` as its settings (made through
    /// `Configure::from_settings`, as the registry makes them).
    pub fn client_with<P: Configure>(
        &self,
        values: &SettingValues,
        sweep: &mut Sweep,
    ) -> oauth_all::core::Client<P> {
        let provider = emulated_named(P::NAME);
        let entry = entry(provider);
        Harness::record_settings(entry, values, sweep);
        let options = self.options(provider);
        let client = oauth_all::core::Client::builder(P::from_settings(values).unwrap())
            .environment(options.environment)
            .http_client(self.http.clone())
            .clock(self.shared_clock())
            .build()
            .unwrap();
        sweep.debug(&format!("{} client", entry.title), &client);
        client
    }

    /// Moves the test clock and the sandbox's clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sandbox.advance_time(by);
    }

    /// Token endpoint hits of `provider` so far.
    pub fn requests(&self, provider: Provider) -> usize {
        self.sandbox.token_requests(provider)
    }

    /// Visits an authorize URL as the seller's browser: expects a `302` and returns its
    /// `Location` (the callback URL the application receives).
    pub async fn consent(&self, authorize_url: &str) -> String {
        let response = self.browser.get(authorize_url).send().await.unwrap();
        assert_eq!(response.status(), 302, "the consent redirects at once");
        response
            .headers()
            .get("location")
            .expect("a Location header")
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Sends an `http` request (after a token was attached) and returns status and body.
    pub async fn send(&self, request: http_types::Request<Vec<u8>>) -> (u16, String) {
        let request = reqwest::Request::try_from(request).unwrap();
        let response = self.browser.execute(request).await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Manager of `account` over the token file, with the test clock and [`SKEW`].
    pub fn manager(&self, grant: Arc<dyn RefreshGrant>, account: &str) -> TokenManager {
        TokenManager::builder(grant, Arc::new(self.store()), account)
            .clock(self.shared_clock())
            .skew(SKEW)
            .build()
    }

    /// Token endpoint attempts a failing request makes with [`Harness::http`]: the retry
    /// budget for grants that are safe to retry (no rotation), one attempt otherwise.
    pub fn attempts(&self, grant: &dyn RefreshGrant) -> u32 {
        if grant.rotates_refresh_token() {
            1
        } else {
            self.http.retry_policy().max_attempts
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sweep
// ---------------------------------------------------------------------------------------

/// Every secret a test used, and every text it showed, for the leak check.
///
/// Failure messages name the text and the *kind* of secret that leaked, never the secret.
#[derive(Default)]
pub struct Sweep {
    secrets: Vec<(String, String)>,
    texts: Vec<(String, String)>,
}

impl fmt::Debug for Sweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sweep")
            .field("secrets", &self.secrets.len())
            .field("texts", &self.texts.len())
            .finish()
    }
}

impl Sweep {
    /// An empty sweep.
    pub fn new() -> Sweep {
        Sweep::default()
    }

    /// Records a secret value (named by `label` in failure messages).
    pub fn secret(&mut self, label: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "secret {label} is too short to be searched for reliably"
        );
        if !self.secrets.iter().any(|(_, known)| known == value) {
            self.secrets.push((label.to_owned(), value.to_owned()));
        }
    }

    /// Records the secrets of a token set (access and refresh token) and its `Debug`.
    pub fn token_set(&mut self, label: &str, tokens: &TokenSet) {
        self.secret(
            &format!("{label} access token"),
            tokens.access_token.expose_secret(),
        );
        if let Some(refresh) = &tokens.refresh_token {
            self.secret(&format!("{label} refresh token"), refresh.expose_secret());
        }
        self.debug(label, tokens);
    }

    /// Records the `Debug` text of `value`.
    pub fn debug(&mut self, label: &str, value: &dyn fmt::Debug) {
        self.texts
            .push((format!("{label} (Debug)"), format!("{value:?}")));
        self.texts
            .push((format!("{label} (Debug, alternate)"), format!("{value:#?}")));
    }

    /// Records the `Display` and `Debug` texts of an error and of its sources.
    pub fn error(&mut self, label: &str, error: &dyn std::error::Error) {
        self.texts
            .push((format!("{label} (Display)"), error.to_string()));
        self.debug(label, &error);
        let mut source = error.source();
        let mut depth = 0;
        while let Some(cause) = source {
            depth += 1;
            self.texts
                .push((format!("{label} (source {depth})"), cause.to_string()));
            source = cause.source();
        }
    }

    /// Records a text shown by other means (logs).
    pub fn text(&mut self, label: &str, text: String) {
        self.texts.push((label.to_owned(), text));
    }

    /// How many secrets were recorded.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// How many texts were recorded.
    pub fn text_count(&self) -> usize {
        self.texts.len()
    }

    /// Whether a secret of this label was recorded.
    pub fn has_secret_labelled(&self, label: &str) -> bool {
        self.secrets.iter().any(|(known, _)| known == label)
    }

    /// What is searched for each secret: the value, its percent-encoded and
    /// form-encoded forms, and its last 16 characters when it is long enough for a
    /// truncated leak to matter.
    fn needles(secret: &str) -> Vec<String> {
        let mut needles = vec![secret.to_owned()];
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        needles.push(form.clone());
        needles.push(form.replace('+', "%20"));
        let chars: Vec<char> = secret.chars().collect();
        if chars.len() >= 24 {
            needles.push(chars[chars.len() - 16..].iter().collect());
        }
        needles.sort();
        needles.dedup();
        needles
    }

    /// The labels of the secrets found in `haystack`.
    pub fn leaks_in(&self, haystack: &str) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|(_, secret)| {
                Sweep::needles(secret)
                    .iter()
                    .any(|needle| haystack.contains(needle.as_str()))
            })
            .map(|(label, _)| label.clone())
            .collect()
    }

    /// Every leak: "<kind of secret> appears in <text label>", over the recorded texts
    /// and `extra` (never the secret itself).
    pub fn leaks(&self, extra: &[(&str, &str)]) -> Vec<String> {
        let mut leaks = Vec::new();
        let texts = self
            .texts
            .iter()
            .map(|(label, text)| (label.as_str(), text.as_str()))
            .chain(extra.iter().copied());
        for (label, text) in texts {
            for secret in self.leaks_in(text) {
                leaks.push(format!("{secret} appears in {label}"));
            }
        }
        leaks
    }

    /// Panics (naming the text and the kind of secret, never the secret) if any secret
    /// appears in any recorded text or in `extra`.
    pub fn assert_clean(&self, extra: &[(&str, &str)]) {
        assert!(!self.secrets.is_empty(), "no secret was recorded");
        let leaks = self.leaks(extra);
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------
// Tracing captured at TRACE (hygiene.rs, api_calls.rs)
// ---------------------------------------------------------------------------------------

/// Everything the fmt subscriber writes, in memory.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

/// One writer handed out by [`Capture`].
pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(Arc::clone(&self.0))
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// The process-wide capture, installed on first use (the process-wide default: the token
/// manager refreshes in spawned tasks, and a thread-local default would miss them): TRACE level, span open/close events
/// with their fields.
pub fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_target(true)
            .with_writer(capture.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        capture
    })
}

// ---------------------------------------------------------------------------------------
// Using a token on each provider's protected API
// ---------------------------------------------------------------------------------------

/// One call of a protected API of the sandbox: the request (before the token goes on it)
/// and how its answer reads.
#[derive(Clone)]
pub struct ApiCall {
    /// Names the call in the sweep and in failures.
    pub label: &'static str,
    /// `GET` or `POST`.
    pub method: http_types::Method,
    /// Path and query under the provider's base URL on the sandbox.
    pub path: &'static str,
    /// Extra headers.
    pub headers: &'static [(&'static str, &'static str)],
    /// The body.
    pub body: &'static [u8],
    /// Reads the answer: `true` if the token was accepted, `false` if refused as
    /// invalid; panics on anything else.
    pub verdict: fn(u16, &str) -> bool,
}

impl fmt::Debug for ApiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCall")
            .field("label", &self.label)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Where a token is used: a provider's protected API on the sandbox and the attachment
/// that puts the token on it (any provider's, as an `Arc<dyn AttachToken>`).
#[derive(Debug, Clone)]
pub struct Api {
    /// The sandbox provider serving the calls.
    pub provider: Provider,
    /// How the token goes on each call.
    pub attachment: Arc<dyn AttachToken>,
    /// The calls; they must agree on whether the token is accepted.
    pub calls: Vec<ApiCall>,
}

impl Api {
    /// The provider's protected API ([`protected_api`]) with `attachment`.
    pub fn new(provider: Provider, attachment: Arc<dyn AttachToken>) -> Api {
        Api {
            provider,
            attachment,
            calls: protected_api(provider),
        }
    }

    /// The protected API of `client`'s provider, with the client's own attachment.
    pub fn of(client: &AnyClient) -> Api {
        Api::new(
            emulated_named(client.provider()),
            Arc::new(ClientAttachment(Arc::clone(client))),
        )
    }

    /// The protected API of a typed client's provider, with its attachment.
    pub fn of_client<P: oauth_all::core::Provider>(client: &oauth_all::core::Client<P>) -> Api {
        Api::new(
            emulated_named(client.provider().name()),
            Arc::new(client.attachment().clone()),
        )
    }

    /// eBay's Trading API (`POST /ws/api.dll`, `X-EBAY-API-IAF-TOKEN`): user tokens only.
    pub fn ebay_trading() -> Api {
        Api {
            provider: Provider::Ebay,
            attachment: Arc::new(ebay::ApiAuth::Trading),
            calls: vec![ApiCall {
                label: "eBay Trading request",
                method: http_types::Method::POST,
                path: "/ws/api.dll",
                headers: &[("X-EBAY-API-CALL-NAME", "GeteBayOfficialTime")],
                body: b"<?xml version=\"1.0\"?><GeteBayOfficialTimeRequest/>",
                verdict: |status, body| {
                    assert_eq!(status, 200, "the Trading API answers 200 either way");
                    assert!(body.contains("GeteBayOfficialTimeResponse"), "{body}");
                    body.contains("<Ack>Success</Ack>")
                },
            }],
        }
    }
}

/// The verdict of an API that answers `200` with `accepted` in the body, or `401` with
/// `refused`.
fn by_status(status: u16, body: &str, accepted: &str, refused: &str) -> bool {
    match status {
        200 => {
            assert!(body.contains(accepted), "{body}");
            true
        }
        401 => {
            assert!(body.contains(refused), "{body}");
            false
        }
        other => panic!("the API answered {other}: {body}"),
    }
}

/// The verdict of an AliExpress IOP call (`200` either way; `code` says).
fn aliexpress_verdict(status: u16, body: &str) -> bool {
    assert_eq!(status, 200, "IOP answers 200 either way");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    let ok = json["code"] == "0"
        || json["aliexpress_solution_seller_info_query_response"]["result"]["success"] == true;
    if ok {
        assert!(
            json["result"]["order_id"] == "8001"
                || json["aliexpress_solution_seller_info_query_response"].is_object(),
            "{body}"
        );
    } else {
        let code = json["code"]
            .as_str()
            .or(json["error_response"]["code"].as_str());
        assert_eq!(code, Some("IllegalAccessToken"), "{body}");
    }
    ok
}

/// Each provider's protected API on the sandbox: what the sandbox serves, not what the
/// provider crates do (a provider without an entry is used nowhere; its lifecycle still
/// runs).
pub fn protected_api(provider: Provider) -> Vec<ApiCall> {
    match provider {
        // eBay REST (`Authorization: Bearer`).
        Provider::Ebay => vec![ApiCall {
            label: "eBay REST request",
            method: http_types::Method::GET,
            path: "/sell/account/v1/privilege",
            headers: &[],
            body: b"",
            verdict: |status, body| {
                by_status(
                    status,
                    body,
                    "sellerRegistrationCompleted",
                    "Invalid access token",
                )
            },
        }],
        // `/rest/order/get` and `/sync` seller info, both signed (parameters in the query).
        Provider::AliExpress => vec![
            ApiCall {
                label: "AliExpress /rest request",
                method: http_types::Method::POST,
                path: "/rest/order/get?order_id=8001",
                headers: &[],
                body: b"",
                verdict: aliexpress_verdict,
            },
            ApiCall {
                label: "AliExpress /sync request",
                method: http_types::Method::POST,
                path: "/sync?method=aliexpress.solution.seller.info.query",
                headers: &[],
                body: b"",
                verdict: aliexpress_verdict,
            },
        ],
        // The SKU list (`Access-Token: Bearer` and `clientKey`).
        Provider::OrangeConnex => vec![ApiCall {
            label: "OrangeConnex API request",
            method: http_types::Method::GET,
            path: "/openapi/3pp/sku/v3/list",
            headers: &[],
            body: b"",
            verdict: |status, body| {
                by_status(
                    status,
                    body,
                    "SANDBOX-SKU-1",
                    "Invalid or expired access token",
                )
            },
        }],
        // `GET /api/v1/me` (`Authorization: Bearer`).
        Provider::Eshopbox => vec![ApiCall {
            label: "Eshopbox API request",
            method: http_types::Method::GET,
            path: "/api/v1/me",
            headers: &[],
            body: b"",
            verdict: |status, body| by_status(status, body, "Sandbox Workspace", "Invalid token"),
        }],
        _ => Vec::new(),
    }
}

impl Harness {
    /// Calls each of `api`'s calls with `token` on it: `true` if the sandbox accepted
    /// the token, `false` if it answered with the provider's "invalid token" error (the
    /// calls must agree). Anything else panics. An API without calls panics too: check
    /// [`Api::calls`] first.
    pub async fn use_token(&self, api: &Api, token: &AccessToken, sweep: &mut Sweep) -> bool {
        assert!(
            !api.calls.is_empty(),
            "no protected API for {}",
            api.provider
        );
        let base = self.base_url(api.provider);
        let mut verdicts = Vec::new();
        for call in &api.calls {
            let mut builder = http_types::Request::builder()
                .method(call.method.clone())
                .uri(format!("{base}{}", call.path));
            for (name, value) in call.headers {
                builder = builder.header(*name, *value);
            }
            let mut request = builder.body(call.body.to_vec()).unwrap();
            let query_before = request.uri().query().map(str::to_owned);
            api.attachment.attach_to(token, &mut request).unwrap();
            let signature = url::Url::parse(&request.uri().to_string())
                .unwrap()
                .query_pairs()
                .find(|(name, _)| name == "sign")
                .map(|(_, value)| value.into_owned());
            if let Some(sign) = signature {
                sweep.secret(&format!("{} API signature", api.provider), &sign);
            }
            if request.uri().query() == query_before.as_deref() {
                sweep.debug(call.label, &request);
            } else {
                // The attachment wrote the token into the query (a signed call): the URI
                // is not for logs, its headers are.
                sweep.debug(call.label, request.headers());
            }
            let (status, body) = self.send(request).await;
            verdicts.push((call.verdict)(status, &body));
        }
        assert!(
            verdicts.windows(2).all(|pair| pair[0] == pair[1]),
            "{}: the calls disagree: {verdicts:?}",
            api.provider
        );
        verdicts[0]
    }
}

// ---------------------------------------------------------------------------------------
// The shared lifecycle: manager, expiry, refresh, rotation, revocation
// ---------------------------------------------------------------------------------------

/// What [`run_lifecycle`] drives.
pub struct Lifecycle<'a> {
    /// The sandbox provider (for request counts, faults, revocation).
    pub provider: Provider,
    /// The grant the manager refreshes with.
    pub grant: Arc<dyn RefreshGrant>,
    /// Where the token is used (`None`: the sandbox serves no protected API for it).
    pub api: Option<Api>,
    /// The manager's account id.
    pub account: &'a str,
    /// Tokens from a consent flow (`None`: the manager fetches the first set itself).
    pub installed: Option<TokenSet>,
    /// Whether the sandbox rotates this grant's refresh token (a refresh returns a new
    /// one and the old one dies).
    pub rotates: bool,
    /// Whether [`Sandbox::revoke`] kills this grant (not for application tokens).
    pub revocable: bool,
    /// The AliExpress client, to recompute the exact signature of each token request.
    pub aliexpress: Option<&'a aliexpress::Client>,
}

impl fmt::Debug for Lifecycle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle")
            .field("provider", &self.provider)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// Drains the events received so far.
pub fn drain(events: &mut broadcast::Receiver<oauth_all::core::TokenEvent>) -> Vec<TokenEventKind> {
    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        kinds.push(event.kind);
    }
    kinds
}

/// Records the signature of the AliExpress refresh request `client` makes for `current`
/// at the current clock time (deterministic: same parameters, same timestamp).
fn record_aliexpress_refresh_signature(
    client: Option<&aliexpress::Client>,
    current: &TokenSet,
    sweep: &mut Sweep,
) {
    if let Some(client) = client {
        let request = client
            .provider()
            .refresh_request(&client.request_context(), current)
            .unwrap();
        sweep.debug("AliExpress refresh request", &request);
        let url = request.full_url();
        let sign = url
            .query_pairs()
            .find(|(name, _)| name == "sign")
            .map(|(_, value)| value.into_owned())
            .unwrap();
        sweep.secret("AliExpress token request signature", &sign);
    }
}

/// Runs the token lifecycle every provider shares, asserting each step:
///
/// 1. the manager (FileStore in a temporary directory, the test clock) gets its first
///    token by installation or by `fetch_initial`, exactly one request for the latter;
///    the token is used on the protected API; the file is mode 0600 and holds it;
/// 2. inside the refresh margin, a 503 on the token endpoint: the manager keeps serving
///    the still-valid token, and makes no further request until its backoff passed;
/// 3. past expiry: exactly one refresh request, a new access token that the API accepts
///    while it refuses the old one; the new set is in the file (a new manager reading the
///    file serves it without any request); with rotation, the file holds the new refresh
///    token and the sandbox refuses the old one (re-authorization required);
/// 4. after `sandbox.revoke`: the next refresh fails with an error that
///    `requires_reauthorization()`, and later calls return it again without any request.
///
/// Returns the manager (latched in re-authorization when revocable).
pub async fn run_lifecycle(h: &Harness, sweep: &mut Sweep, spec: Lifecycle<'_>) -> TokenManager {
    let p = spec.provider;
    let manager = h.manager(Arc::clone(&spec.grant), spec.account);
    let mut events = manager.subscribe();
    sweep.debug("token manager", &manager);
    let key: AccountKey = manager.account().clone();

    // 1. First token.
    let before = h.requests(p);
    let first = match spec.installed.clone() {
        Some(tokens) => {
            let handle = manager.install(tokens.clone()).await.unwrap();
            assert_eq!(h.requests(p), before, "installing makes no request");
            // Installed as given, stamped with the time it was received.
            let stamped = handle.token_set().issued_at;
            assert!(stamped.is_some());
            assert!(handle.token_set() == &tokens.clone().with_issued_at(stamped.unwrap()));
            assert!(matches!(
                drain(&mut events).as_slice(),
                [TokenEventKind::Installed { .. }]
            ));
            handle
        }
        None => {
            let handle = manager.access_token().await.unwrap();
            assert_eq!(
                h.requests(p),
                before + 1,
                "one request fetches the first set"
            );
            assert!(matches!(
                drain(&mut events).as_slice(),
                [TokenEventKind::Refreshed { .. }]
            ));
            handle
        }
    };
    sweep.token_set("first token set", first.token_set());
    sweep.debug("first handle", &first);
    let cached = manager.access_token().await.unwrap();
    assert!(
        cached.same_as(&first),
        "a fresh token is served from memory"
    );
    assert_eq!(
        h.requests(p),
        before + usize::from(spec.installed.is_none())
    );
    if let Some(api) = &spec.api {
        assert!(h.use_token(api, first.access_token(), sweep).await);
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.store_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is private");
    }
    let stored = h.store().load(&key).await.unwrap().expect("saved");
    sweep.debug("stored entry", &stored);
    assert!(stored.tokens == *first.token_set());

    // 2. A failure inside the refresh margin: the still-valid token keeps being served.
    // (10 s inside the margin: AliExpress expiries come from the sandbox's real-time
    // clock, a little later than the test clock's start.)
    h.advance(ACCESS_LIFETIME - SKEW + Duration::from_secs(10));
    let attempts = h.attempts(spec.grant.as_ref());
    record_aliexpress_refresh_signature(spec.aliexpress, first.token_set(), sweep);
    h.sandbox.inject(p, Fault::ServerError(503), attempts);
    let before = h.requests(p);
    let during_fault = manager.access_token().await.unwrap();
    assert!(
        during_fault.same_as(&first),
        "the still-valid token is served"
    );
    assert_eq!(h.requests(p), before + attempts as usize);
    let again = manager.access_token().await.unwrap();
    assert!(again.same_as(&first));
    assert_eq!(
        h.requests(p),
        before + attempts as usize,
        "backoff: no request"
    );
    // One failed refresh, reported with its class and when it is retried.
    match drain(&mut events).as_slice() {
        [TokenEventKind::RefreshFailed { error, retry_at }] => {
            assert_eq!(*error, "transient");
            assert!(*retry_at > h.clock.now(), "retried after a backoff");
        }
        other => panic!("one RefreshFailed event expected, got {other:?}"),
    }
    // Past the backoff (at most 1 s) and past expiry.
    h.advance(SKEW + Duration::from_secs(2));

    // 3. Expiry and refresh.
    if let Some(api) = &spec.api {
        assert!(
            !h.use_token(api, first.access_token(), sweep).await,
            "the sandbox refuses the expired token"
        );
    }
    record_aliexpress_refresh_signature(spec.aliexpress, first.token_set(), sweep);
    let before = h.requests(p);
    let refreshed = manager.access_token().await.unwrap();
    assert_eq!(h.requests(p), before + 1, "exactly one refresh request");
    sweep.token_set("refreshed token set", refreshed.token_set());
    assert!(!refreshed.same_as(&first));
    assert_ne!(
        refreshed.expose_secret(),
        first.expose_secret(),
        "a new access token"
    );
    assert!(refreshed.expires_at() > h.clock.now() + SKEW);
    let rotated = refreshed.token_set().refresh_token != first.token_set().refresh_token;
    let kinds = drain(&mut events);
    assert_eq!(kinds.len(), 1, "{kinds:?}");
    match &kinds[0] {
        TokenEventKind::Refreshed {
            refresh_token_rotated,
            ..
        } => assert_eq!(*refresh_token_rotated, rotated),
        other => panic!("unexpected event {other:?}"),
    }
    if let Some(api) = &spec.api {
        assert!(h.use_token(api, refreshed.access_token(), sweep).await);
    }
    let cached = manager.access_token().await.unwrap();
    assert!(cached.same_as(&refreshed));
    assert_eq!(h.requests(p), before + 1);

    // Persisted: the file holds the refreshed set, and a new manager (a restart) serves it
    // without a request.
    let stored = h.store().load(&key).await.unwrap().expect("saved");
    assert!(
        stored.tokens == *refreshed.token_set(),
        "the file holds the new set"
    );
    let restarted = h.manager(Arc::clone(&spec.grant), spec.account);
    let served = restarted.access_token().await.unwrap();
    assert_eq!(served.expose_secret(), refreshed.expose_secret());
    assert_eq!(h.requests(p), before + 1, "a restart reads the file");
    drop(restarted);

    match (
        &first.token_set().refresh_token,
        &refreshed.token_set().refresh_token,
    ) {
        (Some(old), Some(new)) if spec.rotates => {
            assert!(old != new, "the refresh token rotated");
            let expiry = refreshed.token_set().refresh_token_expires_at;
            if p == Provider::OrangeConnex {
                // oauth-orangeconnex gives a new refresh token its documented lifetime.
                assert_eq!(
                    expiry,
                    Some(h.clock.now() + orangeconnex::REFRESH_TOKEN_LIFETIME)
                );
            } else {
                assert_eq!(
                    expiry,
                    first.token_set().refresh_token_expires_at,
                    "rotation keeps the original refresh expiry"
                );
            }
            // The old refresh token is dead at the provider.
            let mut stale = first.token_set().clone();
            stale.refresh_token = Some(old.clone());
            record_aliexpress_refresh_signature(spec.aliexpress, &stale, sweep);
            let before = h.requests(p);
            let error = spec.grant.refresh(&stale).await.unwrap_err();
            assert_eq!(h.requests(p), before + 1);
            assert!(error.requires_reauthorization(), "{error}");
            sweep.error("refresh with a rotated-out refresh token", &error);
        }
        (Some(old), Some(new)) => {
            assert!(old == new, "no rotation: the same refresh token");
            assert_eq!(
                refreshed.token_set().refresh_token_expires_at,
                first.token_set().refresh_token_expires_at,
                "the same refresh token keeps its expiry"
            );
        }
        (None, None) => assert!(!spec.rotates),
        _ => panic!("the refresh token appeared or vanished"),
    }

    // 4. Revocation: re-authorization required, and then no more requests.
    if spec.revocable {
        h.sandbox.revoke(p);
        h.advance(ACCESS_LIFETIME + Duration::from_secs(1));
        if let Some(api) = &spec.api {
            assert!(!h.use_token(api, refreshed.access_token(), sweep).await);
        }
        record_aliexpress_refresh_signature(spec.aliexpress, refreshed.token_set(), sweep);
        let before = h.requests(p);
        let error = manager.access_token().await.unwrap_err();
        assert!(error.requires_reauthorization(), "{error}");
        assert!(!error.is_retryable());
        assert_eq!(h.requests(p), before + 1);
        sweep.error("refresh after revocation", &error);
        assert!(matches!(
            drain(&mut events).as_slice(),
            [TokenEventKind::ReauthorizationRequired]
        ));
        for _ in 0..3 {
            let again = manager.access_token().await.unwrap_err();
            assert!(again.requires_reauthorization());
            assert_eq!(again.to_string(), error.to_string());
            let forced = manager.force_refresh().await.unwrap_err();
            assert!(forced.requires_reauthorization());
        }
        assert_eq!(
            h.requests(p),
            before + 1,
            "no request after re-authorization is required"
        );
    }
    manager
}

/// After a revocation: a new consent's tokens installed lift the latch.
async fn reinstall(
    h: &Harness,
    sweep: &mut Sweep,
    manager: &TokenManager,
    provider: Provider,
    api: Option<&Api>,
    tokens: TokenSet,
) {
    let mut events = manager.subscribe();
    sweep.token_set("re-authorized token set", &tokens);
    let before = h.requests(provider);
    let handle = manager.install(tokens).await.unwrap();
    let served = manager.access_token().await.unwrap();
    assert!(served.same_as(&handle));
    assert_eq!(h.requests(provider), before, "installing makes no request");
    assert!(matches!(
        drain(&mut events).as_slice(),
        [TokenEventKind::Installed { .. }]
    ));
    if let Some(api) = api {
        assert!(h.use_token(api, served.access_token(), sweep).await);
    }
}

// ---------------------------------------------------------------------------------------
// Consent helpers
// ---------------------------------------------------------------------------------------

/// Runs a consent: GET the authorize URL, expect a redirect to `callback_base`, check
/// that a wrong `state` is refused, and return the code's callback.
async fn consent_code(
    h: &Harness,
    sweep: &mut Sweep,
    label: &str,
    authorize_url: &str,
    callback_base: &str,
    state: &CsrfState,
) -> oauth_all::core::Callback {
    let landed = h.consent(authorize_url).await;
    assert!(
        landed.starts_with(&format!("{callback_base}?")),
        "redirected to the registered callback"
    );
    let forged = CsrfState::generate().unwrap();
    let refused = parse_callback(&landed, &forged).unwrap_err();
    assert_eq!(refused, CallbackError::StateMismatch);
    sweep.error(&format!("{label} callback with a wrong state"), &refused);
    let callback = parse_callback(&landed, state).unwrap();
    sweep.secret(
        &format!("{label} authorization code"),
        callback.code.expose_secret(),
    );
    sweep.debug(&format!("{label} callback"), &callback);
    callback
}

/// A denied consent comes back as `access_denied`, with the right state, and no code.
async fn denied_consent(
    h: &Harness,
    sweep: &mut Sweep,
    provider: Provider,
    authorize_url: &str,
    state: &CsrfState,
) {
    h.sandbox.deny_consent(provider, true);
    let landed = h.consent(authorize_url).await;
    h.sandbox.deny_consent(provider, false);
    let error = parse_callback(&landed, state).unwrap_err();
    assert!(error.is_access_denied(), "{error}");
    let error = Error::from(error);
    assert!(!error.requires_reauthorization());
    sweep.error("denied consent", &error);
}

// ---------------------------------------------------------------------------------------
// eBay
// ---------------------------------------------------------------------------------------

/// The eBay client for `h`'s sandbox (from its registry settings).
pub fn ebay_client(h: &Harness, sweep: &mut Sweep) -> ebay::Client {
    let creds = h.sandbox.credentials().ebay.clone();
    let secret = ClientSecret::new(creds.client_secret.clone());
    let basic = basic_auth_value(&creds.client_id, &secret);
    sweep.secret("eBay Basic credentials", basic.to_str().unwrap());
    sweep.secret(
        "eBay Basic credentials (base64)",
        basic.to_str().unwrap().trim_start_matches("Basic "),
    );
    let client = h.client::<ebay::Ebay>(sweep);
    assert!(sweep.has_secret_labelled("eBay client secret"));
    client
}

/// eBay user tokens: consent (RuName) -> callback -> code exchange -> manager -> expiry
/// -> refresh (no rotation: the refresh token and its expiry are kept) -> revocation ->
/// re-authorization required -> new consent installed. The token is used on REST and on
/// the Trading API.
pub async fn ebay_user_flow(h: &Harness, sweep: &mut Sweep) {
    use ebay::ClientExt as _;
    let p = Provider::Ebay;
    let client = ebay_client(h, sweep);
    let creds = h.sandbox.credentials().ebay.clone();
    let base = h.sandbox.ebay_base_url();
    assert_eq!(client.scopes(), &Scopes::from(EBAY_SCOPES));

    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{base}/oauth2/authorize?client_id="))
    );
    denied_consent(h, sweep, p, url.as_str(), &state).await;
    let callback = consent_code(h, sweep, "eBay", url.as_str(), &creds.accept_url, &state).await;
    assert_eq!(
        callback.extra,
        vec![("expires_in".to_owned(), "299".to_owned())]
    );

    assert_eq!(h.requests(p), 0);
    let user = client.exchange_code(&callback.code).await.unwrap();
    assert_eq!(h.requests(p), 1);
    sweep.debug("eBay user token", &user);
    assert_eq!(user.token_type.as_str(), "User Access Token");
    assert_eq!(user.expires_in, ACCESS_LIFETIME);
    assert_eq!(
        user.refresh_token_expires_in,
        Some(Duration::from_secs(47_304_000))
    );
    assert_eq!(user.received_at, h.clock.now());
    assert_eq!(&user.scopes, client.scopes(), "the scopes asked for");
    let tokens = user.into_token_set();
    sweep.token_set("eBay user token set", &tokens);
    assert_eq!(tokens.expires_at, h.clock.now() + ACCESS_LIFETIME);
    assert!(tokens.access_token.expose_secret().starts_with("v^1.1#"));

    // A code is single-use.
    let reused = client.exchange_code(&callback.code).await.unwrap_err();
    assert!(reused.requires_reauthorization(), "{reused}");
    assert_eq!(reused.provider_code(), Some("invalid_grant"));
    assert_eq!(h.requests(p), 2, "a used code is not retried");
    sweep.error("eBay code reuse", &reused);

    let trading = Api::ebay_trading();
    assert!(h.use_token(&trading, &tokens.access_token, sweep).await);
    let manager = run_lifecycle(
        h,
        sweep,
        Lifecycle {
            provider: p,
            grant: Arc::new(client.clone()),
            api: Some(Api::of_client(&client)),
            account: "ebay-seller",
            installed: Some(tokens),
            rotates: false,
            revocable: true,
            aliexpress: None,
        },
    )
    .await;
    let current = manager.current().unwrap().token_set().clone();
    faulted_refreshes(h, sweep, p, &client, &current).await;

    // Re-authorization: a new consent, installed into the latched manager.
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    let callback = consent_code(h, sweep, "eBay", url.as_str(), &creds.accept_url, &state).await;
    let user = client.exchange_code(&callback.code).await.unwrap();
    let tokens = user.into_token_set();
    reinstall(h, sweep, &manager, p, Some(&trading), tokens).await;
}

/// eBay application tokens (client credentials) through `ApplicationTokenGrant` and a
/// manager: the first token is fetched without consent, used on REST (refused by the
/// Trading API, which wants a user token), and a new one is minted past expiry.
pub async fn ebay_application_flow(h: &Harness, sweep: &mut Sweep) {
    let client = ebay_client(h, sweep);
    let grant = ebay::ApplicationTokenGrant::new(
        client.clone(),
        Scopes::from(["https://api.ebay.com/oauth/api_scope"]),
    )
    .unwrap();
    sweep.debug("eBay application grant", &grant);
    let grant = Arc::new(grant);
    let manager = run_lifecycle(
        h,
        sweep,
        Lifecycle {
            provider: Provider::Ebay,
            grant: Arc::clone(&grant) as Arc<dyn RefreshGrant>,
            api: Some(Api::of_client(&client)),
            account: "ebay-application",
            installed: None,
            rotates: false,
            revocable: false,
            aliexpress: None,
        },
    )
    .await;
    let handle = manager.access_token().await.unwrap();
    assert_eq!(handle.token_type().as_str(), "Application Access Token");
    assert!(handle.token_set().refresh_token.is_none());
    assert!(
        !h.use_token(&Api::ebay_trading(), handle.access_token(), sweep)
            .await,
        "the Trading API takes user tokens only"
    );
    faulted_refreshes(h, sweep, Provider::Ebay, grant.as_ref(), handle.token_set()).await;
}

// ---------------------------------------------------------------------------------------
// AliExpress
// ---------------------------------------------------------------------------------------

/// The AliExpress client for `h`'s sandbox (from its registry settings).
pub fn aliexpress_client(h: &Harness, sweep: &mut Sweep) -> aliexpress::Client {
    h.client::<aliexpress::AliExpress>(sweep)
}

/// AliExpress consent -> callback -> signed `/auth/token/create` (the sandbox issuing
/// access tokens for `lifetime`); returns the token set.
pub async fn aliexpress_consent(
    h: &Harness,
    sweep: &mut Sweep,
    client: &aliexpress::Client,
    lifetime: Duration,
) -> TokenSet {
    let creds = h.sandbox.credentials().aliexpress.clone();
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    let callback = consent_code(
        h,
        sweep,
        "AliExpress",
        url.as_str(),
        &creds.redirect_uri,
        &state,
    )
    .await;
    let request = client
        .provider()
        .exchange_request(&client.request_context(), &callback.code)
        .unwrap();
    let sign = request
        .full_url()
        .query_pairs()
        .find(|(name, _)| name == "sign")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    sweep.secret("AliExpress token request signature", &sign);
    sweep.debug("AliExpress create request", &request);
    let created = client.exchange_code(&callback.code).await.unwrap();
    sweep.debug("AliExpress token response", &created);
    assert_eq!(created.account.seller_id.as_deref(), Some("2637908814"));
    assert_eq!(created.expires_in, Some(lifetime.as_secs()));
    assert!(created.is_refreshable());
    assert_eq!(created.received_at, client.clock().now());
    let tokens = created.into_token_set();
    sweep.token_set("AliExpress token set", &tokens);

    // A code is single-use.
    let reused = client.exchange_code(&callback.code).await.unwrap_err();
    assert!(reused.requires_reauthorization(), "{reused}");
    assert_eq!(reused.provider_code(), Some("InvalidCode"));
    sweep.error("AliExpress code reuse", &reused);
    tokens
}

/// An AliExpress call signed with its parameters and the token in a form body
/// (`ApiAuth::sign`, the way the attachment cannot sign): `true` if accepted.
async fn aliexpress_form_call(
    h: &Harness,
    sweep: &mut Sweep,
    client: &aliexpress::Client,
    token: &AccessToken,
) -> bool {
    let signed = client
        .attachment()
        .sign(
            &aliexpress::ApiRequest::new("/order/get").param("order_id", "8001"),
            token,
        )
        .unwrap();
    let sign = signed
        .url()
        .query_pairs()
        .find(|(name, _)| name == "sign")
        .map(|(_, value)| value.into_owned())
        .expect("a signed call carries `sign`");
    sweep.secret("AliExpress API signature", &sign);
    sweep.debug("AliExpress signed API request", &signed);
    let (status, body) = h.send(signed.into_http_request().unwrap()).await;
    aliexpress_verdict(status, &body)
}

/// AliExpress: consent -> callback -> signed token create -> manager -> expiry -> refresh
/// with rotation (the file holds the new refresh token; the sandbox refuses the old one,
/// and the refresh expiry stays the original) -> revocation -> `IllegalRefreshToken`,
/// re-authorization required -> new consent installed. The token is used, signed, on
/// `/rest/order/get` and on `/sync` (the attachment, parameters in the query) and with a
/// form body (`ApiAuth::sign`).
pub async fn aliexpress_flow(h: &Harness, sweep: &mut Sweep) {
    let p = Provider::AliExpress;
    let client = aliexpress_client(h, sweep);
    let api = Api::of_client(&client);
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    assert!(url.as_str().starts_with(&format!(
        "{}/oauth/authorize?",
        h.sandbox.aliexpress_base_url()
    )));
    denied_consent(h, sweep, p, url.as_str(), &state).await;
    let before = h.requests(p);
    let tokens = aliexpress_consent(h, sweep, &client, ACCESS_LIFETIME).await;
    assert_eq!(h.requests(p), before + 2, "create, then the refused reuse");
    let expected = h.clock.now() + ACCESS_LIFETIME;
    let drift = tokens
        .expires_at
        .duration_since(expected)
        .unwrap_or_else(|e| e.duration());
    assert!(
        drift < Duration::from_secs(5),
        "expire_time is the sandbox's, close to ours"
    );
    assert!(aliexpress_form_call(h, sweep, &client, &tokens.access_token).await);

    let manager = run_lifecycle(
        h,
        sweep,
        Lifecycle {
            provider: p,
            grant: Arc::new(client.clone()),
            api: Some(api.clone()),
            account: "ae-seller",
            installed: Some(tokens.clone()),
            rotates: true,
            revocable: true,
            aliexpress: Some(&client),
        },
    )
    .await;
    assert!(
        !aliexpress_form_call(h, sweep, &client, &tokens.access_token).await,
        "an expired token is refused with a form body too"
    );
    let error = manager.access_token().await.unwrap_err();
    assert_eq!(error.provider_code(), Some("IllegalRefreshToken"));
    let current = manager.current().unwrap().token_set().clone();
    faulted_refreshes(h, sweep, p, &client, &current).await;

    let tokens = aliexpress_consent(h, sweep, &client, ACCESS_LIFETIME).await;
    reinstall(h, sweep, &manager, p, Some(&api), tokens).await;
}

// ---------------------------------------------------------------------------------------
// OrangeConnex
// ---------------------------------------------------------------------------------------

/// The OrangeConnex client for `h`'s sandbox (from its registry settings).
pub fn orangeconnex_client(h: &Harness, sweep: &mut Sweep) -> orangeconnex::Client {
    let client = h.client::<orangeconnex::OrangeConnex>(sweep);
    assert!(
        sweep.has_secret_labelled("OrangeConnex client key"),
        "registered with a client key"
    );
    sweep.debug("OrangeConnex API auth", client.attachment());
    client
}

/// OrangeConnex consent -> callback -> code exchange (query string); returns the set.
async fn orangeconnex_consent(
    h: &Harness,
    sweep: &mut Sweep,
    client: &orangeconnex::Client,
) -> TokenSet {
    let creds = h.sandbox.credentials().orangeconnex.clone();
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    let callback = consent_code(
        h,
        sweep,
        "OrangeConnex",
        url.as_str(),
        &creds.redirect_uri,
        &state,
    )
    .await;
    sweep.debug(
        "OrangeConnex exchange request",
        &client
            .provider()
            .exchange_request(&client.request_context(), &callback.code)
            .unwrap(),
    );
    let response = client.exchange_code(&callback.code).await.unwrap();
    sweep.debug("OrangeConnex token response", &response);
    assert_eq!(response.expires_in, Some(ACCESS_LIFETIME.as_secs()));
    assert_eq!(response.received_at, h.clock.now());
    let tokens = response.into_token_set();
    sweep.token_set("OrangeConnex token set", &tokens);
    assert_eq!(tokens.expires_at, h.clock.now() + ACCESS_LIFETIME);

    let reused = client.exchange_code(&callback.code).await.unwrap_err();
    assert!(reused.requires_reauthorization(), "{reused}");
    assert_eq!(reused.provider_code(), Some("invalid_grant"));
    sweep.error("OrangeConnex code reuse", &reused);
    tokens
}

/// OrangeConnex: consent -> callback (base64 code with `+`, `/`, `=`, decoded once) ->
/// exchange with every parameter in the query -> manager -> expiry -> refresh (rotating
/// only when the sandbox is configured so: `rotates`) -> revocation -> `invalid_grant`,
/// re-authorization required -> new consent installed. The token is used with
/// `Access-Token: Bearer` and `clientKey`.
pub async fn orangeconnex_flow(h: &Harness, sweep: &mut Sweep, rotates: bool) {
    let p = Provider::OrangeConnex;
    let client = orangeconnex_client(h, sweep);
    let api = Api::of_client(&client);
    let state = CsrfState::generate().unwrap();
    let url = client.authorize_url(&state).unwrap();
    assert!(url.as_str().starts_with(&format!(
        "{}/oauth/authorize?response_type=code&client_id=",
        h.sandbox.orangeconnex_base_url()
    )));
    denied_consent(h, sweep, p, url.as_str(), &state).await;
    let before = h.requests(p);
    let tokens = orangeconnex_consent(h, sweep, &client).await;
    assert_eq!(
        h.requests(p),
        before + 2,
        "exchange, then the refused reuse"
    );

    let manager = run_lifecycle(
        h,
        sweep,
        Lifecycle {
            provider: p,
            grant: Arc::new(client.clone()),
            api: Some(api.clone()),
            account: "oc-seller",
            installed: Some(tokens),
            rotates,
            revocable: true,
            aliexpress: None,
        },
    )
    .await;
    let error = manager.access_token().await.unwrap_err();
    assert_eq!(error.provider_code(), Some("invalid_grant"));
    let current = manager.current().unwrap().token_set().clone();
    faulted_refreshes(h, sweep, p, &client, &current).await;

    let tokens = orangeconnex_consent(h, sweep, &client).await;
    reinstall(h, sweep, &manager, p, Some(&api), tokens).await;
}

// ---------------------------------------------------------------------------------------
// Eshopbox
// ---------------------------------------------------------------------------------------

/// The Eshopbox client for `h`'s sandbox, with `refresh_token` (default: the registered
/// one).
pub fn eshopbox_client(
    h: &Harness,
    sweep: &mut Sweep,
    refresh_token: Option<String>,
) -> eshopbox::Client {
    let mut values = h.settings(Provider::Eshopbox);
    if let Some(refresh_token) = refresh_token {
        values.set("refresh_token", &refresh_token);
    }
    let client = h.client_with::<eshopbox::Eshopbox>(&values, sweep);
    assert!(sweep.has_secret_labelled("Eshopbox refresh token"));
    client
}

/// Eshopbox (no consent): the manager starts from the configured refresh token
/// (`fetch_initial`) -> expiry -> refresh (no rotation) -> revocation -> `403
/// invalid_grant`, re-authorization required -> a new refresh token issued by the admin,
/// its first set installed.
pub async fn eshopbox_flow(h: &Harness, sweep: &mut Sweep) {
    use eshopbox::ClientExt as _;
    let p = Provider::Eshopbox;
    let client = eshopbox_client(h, sweep, None);
    let api = Api::of_client(&client);
    sweep.debug(
        "Eshopbox refresh request",
        &client.provider().grant_request(
            &client.request_context(),
            &RefreshToken::new(h.sandbox.credentials().eshopbox.refresh_token.clone()),
        ),
    );
    let manager = run_lifecycle(
        h,
        sweep,
        Lifecycle {
            provider: p,
            grant: Arc::new(client.clone()),
            api: Some(api.clone()),
            account: "eshopbox-workspace",
            installed: None,
            rotates: false,
            revocable: true,
            aliexpress: None,
        },
    )
    .await;
    let error = manager.access_token().await.unwrap_err();
    assert_eq!(error.provider_code(), Some("invalid_grant"));
    let current = manager.current().unwrap().token_set().clone();
    faulted_refreshes(h, sweep, p, &client, &current).await;

    let issued = h.sandbox.issue_eshopbox_refresh_token();
    let renewed = eshopbox_client(h, sweep, Some(issued));
    let response = renewed
        .refresh_with(renewed.provider().refresh_token())
        .await
        .unwrap();
    sweep.debug("Eshopbox token response", &response);
    sweep.secret(
        "Eshopbox access token",
        response.access_token.expose_secret(),
    );
    if let Some(id_token) = &response.id_token {
        sweep.secret("Eshopbox id token", id_token.expose_secret());
    }
    let tokens = renewed.fetch_initial().await.unwrap().unwrap();
    reinstall(h, sweep, &manager, p, Some(&api), tokens).await;
    // The installed set carries the new refresh token: the manager refreshes with it.
    h.advance(ACCESS_LIFETIME + Duration::from_secs(1));
    let before = h.requests(p);
    let handle = manager.access_token().await.unwrap();
    assert_eq!(h.requests(p), before + 1);
    sweep.token_set(
        "Eshopbox token set after re-authorization",
        handle.token_set(),
    );
    assert!(h.use_token(&api, handle.access_token(), sweep).await);
}

// ---------------------------------------------------------------------------------------
// Any provider of the registry
// ---------------------------------------------------------------------------------------

/// The lifecycle every provider of `oauth_all::PROVIDERS` shares, through its
/// [`AnyClient`] alone (built from [`sandbox_settings`]): the first token by consent
/// (authorize URL, callback, `AuthorizationCodeGrant::exchange_code`) or, for providers
/// without consent, by the manager's `fetch_initial`; then [`run_lifecycle`] with the
/// client's own attachment on the provider's protected API (if the sandbox serves one)
/// and [`faulted_refreshes`]. The sandbox must rotate refresh tokens exactly when the
/// client says it does (start it with [`rotation_as_declared`]).
pub async fn registry_flow(h: &Harness, sweep: &mut Sweep, entry: &ProviderEntry) {
    let p = emulated(entry);
    let client = h.any_client(p, sweep);
    assert_eq!(client.provider(), entry.name);
    let api = Api::of(&client);
    let api = (!api.calls.is_empty()).then_some(api);
    let installed = if entry.needs_consent {
        let state = CsrfState::generate().unwrap();
        let url = client.authorize_url(&state).unwrap();
        let landed = h.consent(url.as_str()).await;
        let callback = parse_callback(&landed, &state).unwrap();
        sweep.secret(
            &format!("{} authorization code", entry.title),
            callback.code.expose_secret(),
        );
        let before = h.requests(p);
        let tokens = client.exchange_code(&callback.code).await.unwrap();
        assert_eq!(h.requests(p), before + 1);
        sweep.token_set(&format!("{} token set", entry.title), &tokens);
        Some(tokens)
    } else {
        None
    };
    let manager = run_lifecycle(
        h,
        sweep,
        Lifecycle {
            provider: p,
            grant: Arc::clone(&client) as Arc<dyn RefreshGrant>,
            api,
            account: entry.name,
            installed,
            rotates: client.rotates_refresh_token(),
            revocable: true,
            aliexpress: None,
        },
    )
    .await;
    let current = manager.current().unwrap().token_set().clone();
    faulted_refreshes(h, sweep, p, client.as_ref(), &current).await;
}

/// A sandbox builder that rotates each registered provider's refresh tokens exactly when
/// its client says it does.
pub fn rotation_as_declared(mut builder: SandboxBuilder) -> SandboxBuilder {
    for entry in PROVIDERS {
        let p = emulated(entry);
        let client = entry
            .build(&entry.example_values(), ClientOptions::default())
            .unwrap();
        builder = builder.provider_rotates_refresh_tokens(p, client.rotates_refresh_token());
    }
    builder
}

// ---------------------------------------------------------------------------------------
// Faults on a direct refresh
// ---------------------------------------------------------------------------------------

/// Refreshes `current` through `grant` directly under each injected fault (5xx HTML page,
/// truncated JSON, dropped connection, 429), asserting the typed error, and records each
/// error. Faults are injected for every attempt the client makes and cleared afterwards.
pub async fn faulted_refreshes(
    h: &Harness,
    sweep: &mut Sweep,
    provider: Provider,
    grant: &dyn RefreshGrant,
    current: &TokenSet,
) {
    let attempts = h.attempts(grant);
    let faults = [
        Fault::ServerError(502),
        Fault::MalformedBody,
        Fault::DropConnection,
        Fault::RateLimit {
            retry_after_secs: 7,
        },
    ];
    for fault in faults {
        h.sandbox.inject(provider, fault.clone(), attempts);
        let result = grant.refresh(current).await;
        h.sandbox.clear_faults(provider);
        let error = match result {
            Ok(tokens) => panic!("{provider}: {fault:?} gave tokens {tokens:?}"),
            Err(error) => error,
        };
        assert!(
            !error.requires_reauthorization(),
            "{provider} {fault:?}: {error}"
        );
        match fault {
            Fault::ServerError(_) | Fault::DropConnection => {
                assert!(error.is_retryable(), "{provider} {fault:?}: {error}");
            }
            Fault::RateLimit { .. } => {
                assert!(error.is_retryable(), "{provider} {fault:?}: {error}");
                assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
            }
            _ => assert!(
                matches!(error, Error::UnexpectedResponse { .. }),
                "{provider} {fault:?}: {error:?}"
            ),
        }
        sweep.error(&format!("{provider} refresh under {fault:?}"), &error);
    }
}
