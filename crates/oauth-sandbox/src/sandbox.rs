//! The running sandbox, its builder and its controls.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin::SeededTokens;
use crate::config::{Config, Lifetimes, OrangeConnexErrorStatus};
use crate::conn::{ConnHandle, KillableListener};
use crate::counters::Counters;
use crate::credentials::{CredentialOverrides, Credentials};
use crate::fault::Fault;
use crate::provider::{EMULATORS, Provider};
use crate::state::Shared;
use crate::{admin, consent, eshopbox, wire};

/// Largest request body the sandbox reads (larger ones get `413 Payload Too Large`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why the sandbox could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum SandboxError {
    /// Binding the listening socket failed (port in use, ...).
    Bind(std::io::Error),
    /// A builder setting is invalid; the text says which.
    InvalidConfig(String),
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::Bind(error) => write!(f, "cannot bind the sandbox's socket: {error}"),
            SandboxError::InvalidConfig(what) => write!(f, "invalid sandbox configuration: {what}"),
        }
    }
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SandboxError::Bind(error) => Some(error),
            SandboxError::InvalidConfig(_) => None,
        }
    }
}

/// Configures a [`Sandbox`] before it starts. Obtained from [`Sandbox::builder`].
#[derive(Debug, Clone, Default)]
pub struct SandboxBuilder {
    port: u16,
    config: Config,
    overrides: CredentialOverrides,
}

impl SandboxBuilder {
    /// Listen on this port of 127.0.0.1 (default 0: a free port chosen by the system).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets every lifetime of one provider (for Eshopbox, this makes its refresh
    /// tokens expire, which they do not by default).
    pub fn lifetimes(mut self, provider: Provider, lifetimes: Lifetimes) -> Self {
        if let Some(slot) = self.config.lifetimes.get_mut(provider.index()) {
            *slot = lifetimes;
        }
        if let Some(expires) = self.config.refresh_expires.get_mut(provider.index()) {
            *expires = true;
        }
        self
    }

    /// Sets the access token lifetime of every provider.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        for slot in &mut self.config.lifetimes {
            slot.access_token = lifetime;
        }
        self
    }

    /// Sets the refresh token lifetime of every provider. Eshopbox's refresh tokens,
    /// which never expire by default, then expire too.
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        for slot in &mut self.config.lifetimes {
            slot.refresh_token = lifetime;
        }
        self.config.refresh_expires.fill(true);
        self
    }

    /// Whether refresh grants of every provider rotate the refresh token: the
    /// response carries a new one, and the old one is spent (single use: presenting it
    /// again gets the provider's invalid-grant error, counted as
    /// [`refresh_token_reuse`](crate::TokenCounts::refresh_token_reuse)). By default
    /// only AliExpress rotates, as the real one does; `false` turns rotation off for
    /// every provider, AliExpress included.
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.config.rotates.fill(rotate);
        self
    }

    /// [`rotate_refresh_tokens`](Self::rotate_refresh_tokens) for one provider.
    /// A rotated refresh token gets a fresh lifetime, except on AliExpress, where it
    /// keeps the first grant's expiry. eBay's and Eshopbox's refresh responses carry
    /// `refresh_token` (eBay also `refresh_token_expires_in`) only when they rotate.
    pub fn provider_rotates_refresh_tokens(mut self, provider: Provider, rotate: bool) -> Self {
        if let Some(slot) = self.config.rotates.get_mut(provider.index()) {
            *slot = rotate;
        }
        self
    }

    /// Sets the authorization code lifetime of every provider.
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        for slot in &mut self.config.lifetimes {
            slot.authorization_code = lifetime;
        }
        self
    }

    /// How far an AliExpress `timestamp` may be from the sandbox's clock (default 10
    /// minutes); `None` accepts any timestamp.
    pub fn timestamp_tolerance(mut self, tolerance: Option<Duration>) -> Self {
        self.config.timestamp_tolerance = tolerance;
        self
    }

    /// Which HTTP statuses OrangeConnex errors carry (default
    /// [`OrangeConnexErrorStatus::Conventional`]).
    pub fn orangeconnex_error_status(mut self, status: OrangeConnexErrorStatus) -> Self {
        self.config.orangeconnex_error_status = status;
        self
    }

    /// Rate-limits the Eshopbox token endpoint: more than `max_requests` within
    /// `window` get `429 Too Many Requests` with `Retry-After`. Off by default.
    pub fn eshopbox_rate_limit(mut self, max_requests: u32, window: Duration) -> Self {
        self.config.eshopbox_rate_limit = Some((max_requests, window));
        self
    }

    /// Registers the eBay keyset (client id and secret).
    pub fn ebay_client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.overrides.ebay_client = Some((client_id.into(), client_secret.into()));
        self
    }

    /// Registers the eBay RuName.
    pub fn ebay_ru_name(mut self, ru_name: impl Into<String>) -> Self {
        self.overrides.ebay_ru_name = Some(ru_name.into());
        self
    }

    /// The URL the RuName maps to (default `<base>/callback/ebay`).
    pub fn ebay_accept_url(mut self, url: impl Into<String>) -> Self {
        self.overrides.ebay_accept_url = Some(url.into());
        self
    }

    /// Registers the AliExpress app (app key and secret).
    pub fn aliexpress_app(
        mut self,
        app_key: impl Into<String>,
        app_secret: impl Into<String>,
    ) -> Self {
        self.overrides.aliexpress_app = Some((app_key.into(), app_secret.into()));
        self
    }

    /// The AliExpress app's registered callback (default `<base>/callback/aliexpress`).
    pub fn aliexpress_redirect_uri(mut self, url: impl Into<String>) -> Self {
        self.overrides.aliexpress_redirect_uri = Some(url.into());
        self
    }

    /// Registers the OrangeConnex client id and its optional `clientKey`.
    pub fn orangeconnex_client(
        mut self,
        client_id: impl Into<String>,
        client_key: Option<String>,
    ) -> Self {
        self.overrides.orangeconnex_client = Some((client_id.into(), client_key));
        self
    }

    /// The OrangeConnex client's registered redirect URI (default
    /// `<base>/callback/orangeconnex`).
    pub fn orangeconnex_redirect_uri(mut self, url: impl Into<String>) -> Self {
        self.overrides.orangeconnex_redirect_uri = Some(url.into());
        self
    }

    /// Registers the Eshopbox custom app: client id, secret and its long-lived refresh
    /// token.
    pub fn eshopbox_client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Self {
        self.overrides.eshopbox_client =
            Some((client_id.into(), client_secret.into(), refresh_token.into()));
        self
    }

    fn validate(&self) -> Result<(), SandboxError> {
        let urls = [
            ("ebay_accept_url", &self.overrides.ebay_accept_url),
            (
                "aliexpress_redirect_uri",
                &self.overrides.aliexpress_redirect_uri,
            ),
            (
                "orangeconnex_redirect_uri",
                &self.overrides.orangeconnex_redirect_uri,
            ),
        ];
        let bad_url = urls.into_iter().find(|(_, url)| {
            url.as_deref()
                .is_some_and(|url| url::Url::parse(url).is_err())
        });
        if let Some((name, _)) = bad_url {
            return Err(SandboxError::InvalidConfig(format!(
                "{name} is not an absolute URL"
            )));
        }
        let mut values: Vec<(&str, &str)> = Vec::new();
        if let Some((id, secret)) = &self.overrides.ebay_client {
            values.extend([
                ("ebay client id", id.as_str()),
                ("ebay client secret", secret.as_str()),
            ]);
        }
        if let Some(ru_name) = &self.overrides.ebay_ru_name {
            values.push(("ebay RuName", ru_name));
        }
        if let Some((key, secret)) = &self.overrides.aliexpress_app {
            values.extend([
                ("aliexpress app key", key.as_str()),
                ("aliexpress app secret", secret.as_str()),
            ]);
        }
        if let Some((id, _)) = &self.overrides.orangeconnex_client {
            values.push(("orangeconnex client id", id));
        }
        if let Some((id, secret, refresh)) = &self.overrides.eshopbox_client {
            values.extend([
                ("eshopbox client id", id.as_str()),
                ("eshopbox client secret", secret.as_str()),
                ("eshopbox refresh token", refresh.as_str()),
            ]);
        }
        if let Some((name, _)) = values.iter().find(|(_, value)| value.is_empty()) {
            return Err(SandboxError::InvalidConfig(format!("{name} is empty")));
        }
        Ok(())
    }

    /// Binds 127.0.0.1 and starts serving in a background tokio task.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        self.validate()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .await
            .map_err(SandboxError::Bind)?;
        let addr = listener.local_addr().map_err(SandboxError::Bind)?;
        let base_url = format!("http://{addr}");
        let credentials = self.overrides.resolve(&base_url);
        let shared = Arc::new(Shared::new(self.config, credentials, base_url));
        let app = router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(
            KillableListener::new(listener),
            app.into_make_service_with_connect_info::<ConnHandle>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            // Serving only ends on shutdown; an I/O error there has nobody to report to.
            let _ = server.await;
        });
        Ok(Sandbox {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

fn router(shared: Arc<Shared>) -> Router {
    // Each emulated provider's endpoints, under `/<its path segment>`.
    let providers = EMULATORS.iter().fold(Router::new(), |router, emulator| {
        router.nest(&format!("/{}", emulator.path_segment()), emulator.routes())
    });
    providers
        // The loopback-only admin API.
        .route("/admin/counters", get(admin::counters))
        .route("/admin/reset-counters", post(admin::reset_counters))
        .route("/admin/revoke", post(admin::revoke))
        .route("/admin/reject-access-tokens", post(admin::reject_access_tokens))
        .route("/admin/accounts", post(admin::seed_accounts))
        // Where consent redirects land.
        .route("/callback/{provider}", get(consent::callback_page))
        .fallback(|| async {
            wire::json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({ "error": "not_found", "error_description": "no such endpoint in the sandbox" }),
            )
            .into_response()
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// A running sandbox. Serving stops when it is dropped or [shut down](Sandbox::shutdown).
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox with the default settings on a free port of 127.0.0.1.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        SandboxBuilder::default().start().await
    }

    /// A builder to configure lifetimes, tolerances, knobs and client registrations.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The socket address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// eBay's base: `<base>/ebay`. It serves both the consent path
    /// (`/oauth2/authorize`) and the API paths (`/identity/v1/oauth2/token`, ...), so
    /// use it for both eBay hosts (`auth.*` and `api.*`).
    pub fn ebay_base_url(&self) -> String {
        format!("{}/ebay", self.shared.base_url)
    }

    /// AliExpress's base: `<base>/aliexpress` (paths `/oauth/authorize`, `/rest/...`,
    /// `/sync`).
    pub fn aliexpress_base_url(&self) -> String {
        format!("{}/aliexpress", self.shared.base_url)
    }

    /// OrangeConnex's base: `<base>/orangeconnex` (paths `/oauth/authorize`,
    /// `/oauth/token`, `/openapi/...`).
    pub fn orangeconnex_base_url(&self) -> String {
        format!("{}/orangeconnex", self.shared.base_url)
    }

    /// Eshopbox's base: `<base>/eshopbox` (paths `/api/v1/generateToken`, `/api/v1/me`).
    pub fn eshopbox_base_url(&self) -> String {
        format!("{}/eshopbox", self.shared.base_url)
    }

    /// Eshopbox's full token URL: `<base>/eshopbox/api/v1/generateToken`.
    pub fn eshopbox_token_url(&self) -> String {
        format!("{}/eshopbox/api/v1/generateToken", self.shared.base_url)
    }

    /// The URL consent redirects to for `provider` by default: `<base>/callback/<segment>`.
    pub fn callback_url(&self, provider: Provider) -> String {
        format!(
            "{}/callback/{}",
            self.shared.base_url,
            provider.path_segment()
        )
    }

    /// The client registrations (defaults, or what the builder set).
    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    /// Invalidates every refresh token (grant) and pending authorization code of the
    /// provider, as when the seller revokes the app: the next refresh gets the
    /// provider's re-authorization error (eBay and OrangeConnex `invalid_grant`,
    /// AliExpress `IllegalRefreshToken`, Eshopbox 403 `invalid_grant`). Access tokens
    /// already issued stay valid until they expire (see
    /// [`Sandbox::expire_access_tokens`]). For Eshopbox this also kills the pre-seeded
    /// refresh token; [`Sandbox::issue_eshopbox_refresh_token`] makes a new one.
    pub fn revoke(&self, provider: Provider) {
        self.shared.lock().revoke(provider);
    }

    /// Invalidates every access token of the provider (user and application tokens).
    /// The same as [`reject_access_tokens(provider, None)`](Sandbox::reject_access_tokens).
    pub fn expire_access_tokens(&self, provider: Provider) {
        self.shared.lock().expire_access_tokens(provider);
    }

    /// Makes the provider refuse access tokens it issued, before their time, as when
    /// the provider invalidates them on its side: those of `account` (`None`: every
    /// access token of the provider, eBay application tokens included). The provider's
    /// API endpoints then answer them with its invalid-token error (counted as
    /// [`ApiCounts::token_rejected`](crate::ApiCounts::token_rejected)); refresh
    /// tokens keep working, so a refresh gets a new, accepted access token. Returns how
    /// many access tokens were live. Also `POST /admin/reject-access-tokens`.
    pub fn reject_access_tokens(&self, provider: Provider, account: Option<&str>) -> usize {
        self.shared.lock().reject_access_tokens(provider, account)
    }

    /// Makes the provider refuse every access token of `account`, those live now and
    /// those it issues later (refreshes still succeed, and their access tokens are
    /// refused too), until [`Sandbox::accept_access_tokens`]: what a client sees when
    /// the provider keeps refusing the account's tokens (an app suspended on the
    /// provider's side, a grant half revoked), to test its "rejected again after a
    /// refresh" path. Returns how many access tokens were live. Also `POST
    /// /admin/reject-access-tokens` with `"persistent": true`.
    pub fn reject_access_tokens_persistently(&self, provider: Provider, account: &str) -> usize {
        self.shared
            .lock()
            .reject_access_tokens_persistently(provider, account)
    }

    /// Ends [`Sandbox::reject_access_tokens_persistently`] for `account`: its access
    /// tokens that have not expired are accepted again (except those
    /// [`Sandbox::reject_access_tokens`] killed), and so are those issued later.
    /// Returns whether the account's tokens were refused persistently.
    pub fn accept_access_tokens(&self, provider: Provider, account: &str) -> bool {
        self.shared.lock().accept_access_tokens(provider, account)
    }

    /// Creates a new long-lived Eshopbox refresh token for the custom app (what an admin
    /// does after a revocation) and returns it.
    pub fn issue_eshopbox_refresh_token(&self) -> String {
        let token = eshopbox::new_refresh_token();
        let mut st = self.shared.lock();
        eshopbox::insert_refresh_token(
            &mut st,
            &self.shared.config,
            token.clone(),
            crate::DEFAULT_ACCOUNT,
        );
        token
    }

    /// Revokes one account's grant, as when that seller revokes the app: its refresh
    /// tokens and pending codes die (a refresh gets the provider's re-authorization
    /// error, counted as [`revoked_grant`](crate::TokenCounts::revoked_grant)) and so do
    /// its access tokens (the APIs answer with the provider's invalid-token error).
    /// Returns how many refresh and access tokens died.
    pub fn revoke_account(&self, provider: Provider, account: &str) -> (usize, usize) {
        self.shared.lock().revoke_account(provider, account)
    }

    /// Issues a grant to `account` without the consent dance: a live refresh token and
    /// access token, as if the seller had consented and the code had been exchanged
    /// (not counted as a token request). Seeding an account again adds another grant.
    pub fn seed_account(&self, provider: Provider, account: &str) -> SeededTokens {
        admin::seed(&self.shared, provider, account)
    }

    /// The token request and API request counters, per provider and per account.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters()
    }

    /// Sets every counter (those of [`Sandbox::counters`], [`Sandbox::token_requests`]
    /// and [`Sandbox::api_requests`]) back to zero.
    pub fn reset_counters(&self) {
        self.shared.lock().reset_counters();
    }

    /// The admin API's base: `<base>/admin` (loopback peers only).
    pub fn admin_url(&self) -> String {
        format!("{}/admin", self.shared.base_url)
    }

    /// How many requests reached the provider's API endpoints (not its token
    /// endpoints), whatever their outcome; [`Sandbox::counters`] has them per account
    /// and how many were answered "invalid access token" ([`ApiCounts`](crate::ApiCounts)).
    pub fn api_requests(&self, provider: Provider) -> usize {
        self.shared.lock().api_requests(provider)
    }

    /// How many requests reached the provider's token endpoint(s), faulted ones included.
    pub fn token_requests(&self, provider: Provider) -> usize {
        self.shared.lock().token_requests(provider)
    }

    /// Queues `fault` for the provider's next `times` token requests. Faults queue up in
    /// the order injected; each token request consumes one.
    pub fn inject(&self, provider: Provider, fault: Fault, times: u32) {
        self.shared.lock().inject(provider, fault, times);
    }

    /// Drops every queued fault of the provider.
    pub fn clear_faults(&self, provider: Provider) {
        self.shared.lock().clear_faults(provider);
    }

    /// Makes the provider's consent screen refuse (`true`) or grant (`false`, the
    /// default): a refused consent redirects with `error=access_denied`.
    pub fn deny_consent(&self, provider: Provider, deny: bool) {
        self.shared.lock().set_deny_consent(provider, deny);
    }

    /// Moves the sandbox's clock forward, expiring codes and tokens as if `by` had
    /// passed. Timestamps of AliExpress requests are still checked against real time,
    /// and `expire_time`/`refresh_token_valid_time` include the offset.
    pub fn advance_time(&self, by: Duration) {
        self.shared.lock().advance_time(by);
    }

    /// Stops serving and waits (at most 5 seconds) for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return;
        };
        let finished = tokio::time::timeout(Duration::from_secs(5), &mut task).await;
        if finished.is_err() {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
