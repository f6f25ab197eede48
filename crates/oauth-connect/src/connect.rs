//! The builder, the router and its handlers.

use crate::access::{Action, Authorize, Connected};
use crate::html::{escape, page};
use crate::pending::{MemoryPendingStore, PENDING_LIFETIME, Pending, PendingStore};
use crate::status::{AccountStatus, ProviderForms, Tracker, render};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use http::{HeaderValue, StatusCode, header};
use oauth_core::provider::registry::AnyClient;
use oauth_core::{
    AccountKey, CallbackError, CsrfState, Error, SharedClock, TokenManager, TokenPool, TokenSet,
    TokenStore, list_all_accounts, parse_callback, system_clock,
};
use std::fmt;
use std::sync::Arc;
use url::Url;

/// The name of the cookie that binds a connect to the browser that started
/// it.
pub const COOKIE_NAME: &str = "oauth_connect";

/// The longest account id accepted.
pub(crate) const MAX_ACCOUNT_LEN: usize = 256;

type ConnectedHook = Arc<dyn Fn(&Connected) + Send + Sync>;

/// Where a provider's tokens go.
#[derive(Clone)]
pub(crate) enum Sink {
    Pool(TokenPool),
    Managers(Vec<TokenManager>),
}

impl Sink {
    pub(crate) fn knows(&self, account: &str) -> bool {
        match self {
            Self::Pool(_) => true,
            Self::Managers(managers) => managers.iter().any(|m| m.account().account() == account),
        }
    }

    pub(crate) async fn install(&self, account: &str, tokens: TokenSet) -> Result<(), Error> {
        match self {
            Self::Pool(pool) => pool.install(account, tokens).await.map(drop),
            Self::Managers(managers) => {
                match managers.iter().find(|m| m.account().account() == account) {
                    Some(manager) => manager.install(tokens).await.map(drop),
                    None => Err(Error::UnknownAccount {
                        account: account.to_owned(),
                    }),
                }
            }
        }
    }
}

pub(crate) struct Setup {
    pub(crate) name: &'static str,
    pub(crate) client: AnyClient,
    pub(crate) sink: Sink,
    /// Whether the provider has a consent page (its client has an
    /// authorize endpoint). Without one, the status page offers the paste
    /// form and `POST …/paste/{provider}` serves it.
    pub(crate) needs_consent: bool,
}

/// Builds a [`Connect`]: see [`Connect::builder`].
pub struct ConnectBuilder {
    public_base: String,
    authorize: Arc<dyn Authorize>,
    store: Option<Arc<dyn TokenStore>>,
    setups: Vec<Setup>,
    pending: Arc<dyn PendingStore>,
    allowed_returns: Vec<String>,
    on_connected: Option<ConnectedHook>,
    clock: SharedClock,
}

impl fmt::Debug for ConnectBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectBuilder")
            .field("public_base", &self.public_base)
            .field(
                "providers",
                &self.setups.iter().map(|s| s.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ConnectBuilder {
    /// Connects accounts of `client`'s provider into `pool`
    /// ([`TokenPool::install`]: a running pool serves and refreshes them at
    /// once). Any provider crate's client is an [`AnyClient`] once in an
    /// `Arc` (`Arc::new(client)`); the registry builds them too
    /// ([`ProviderEntry::build`](oauth_core::provider::registry::ProviderEntry::build)).
    ///
    /// The client's redirect URI (eBay: the RuName's "auth accepted URL")
    /// must be `{public base URL}/callback/{provider}`.
    pub fn pool(mut self, client: AnyClient, pool: TokenPool) -> Self {
        self.push(client, Sink::Pool(pool));
        self
    }

    /// Connects only the accounts of `managers` (one per account) of
    /// `client`'s provider ([`TokenManager::install`]): a connect for
    /// another account is refused before the consent page.
    pub fn managers(
        mut self,
        client: AnyClient,
        managers: impl IntoIterator<Item = TokenManager>,
    ) -> Self {
        self.push(client, Sink::Managers(managers.into_iter().collect()));
        self
    }

    fn push(&mut self, client: AnyClient, sink: Sink) {
        let name = client.provider();
        // The client's own endpoints tell: a provider without a consent
        // page (Eshopbox custom apps) has no authorize endpoint, and its
        // `authorize_url` fails with a configuration error.
        let needs_consent = client.endpoints().authorize().is_some();
        self.setups.retain(|s| s.name != name);
        self.setups.push(Setup {
            name,
            client,
            sink,
            needs_consent,
        });
    }

    /// The token store the pools and managers save to: the status page
    /// lists its accounts ([`TokenStore::list_accounts`]) and reads their
    /// expiries. Required.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where the connects in progress are kept (default: a
    /// [`MemoryPendingStore`], for one process).
    pub fn pending_store(mut self, store: Arc<dyn PendingStore>) -> Self {
        self.pending = store;
        self
    }

    /// Allows `?return_to=` URLs under `prefix`: same scheme, host and port,
    /// and a path under `prefix`'s path by whole segments (`/admin` allows
    /// `/admin` and `/admin/sellers`, not `/admin-evil`; `/admin/` allows
    /// what starts with `/admin/`). Relative return URLs are resolved
    /// against the public base URL first. Nothing is allowed by default.
    pub fn allow_return_to(mut self, prefix: impl Into<String>) -> Self {
        self.allowed_returns.push(prefix.into());
        self
    }

    /// Called after an account's tokens were installed.
    pub fn on_connected(mut self, hook: impl Fn(&Connected) + Send + Sync + 'static) -> Self {
        self.on_connected = Some(Arc::new(hook));
        self
    }

    /// The clock that times connects out (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The [`Connect`].
    ///
    /// # Errors
    /// [`Error::Configuration`] if the public base URL is not an absolute
    /// `https` URL (or `http` on a loopback host), if an allowed return
    /// prefix is not an absolute URL, or if no token store was given.
    pub fn build(self) -> Result<Connect, Error> {
        let base = Url::parse(&self.public_base)
            .map_err(|_| Error::configuration("the public base URL is not an absolute URL"))?;
        let loopback = match base.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let secure_cookie = match base.scheme() {
            "https" => true,
            "http" if loopback => false,
            _ => {
                return Err(Error::configuration(
                    "the public base URL must be https (http only on a loopback host)",
                ));
            }
        };
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::configuration(
                "the public base URL must have no query or fragment",
            ));
        }
        let public_base = base.as_str().trim_end_matches('/').to_owned();
        let public_origin = base.origin().ascii_serialization();
        let base_path = base.path().trim_end_matches('/').to_owned();
        let mut allowed_returns = Vec::new();
        for prefix in &self.allowed_returns {
            let url = Url::parse(prefix).map_err(|_| {
                Error::configuration("an allowed return URL prefix is not an absolute URL")
            })?;
            allowed_returns.push(url);
        }
        let store = self.store.ok_or_else(|| {
            Error::configuration(
                "oauth-connect needs the token store (ConnectBuilder::token_store)",
            )
        })?;
        let tracker = Tracker::default();
        for setup in &self.setups {
            match &setup.sink {
                Sink::Pool(pool) => tracker.follow(pool.subscribe()),
                Sink::Managers(managers) => {
                    for manager in managers {
                        tracker.follow(manager.subscribe());
                    }
                }
            }
        }
        Ok(Connect {
            inner: Arc::new(Inner {
                public_base,
                public_origin,
                base_path,
                secure_cookie,
                authorize: self.authorize,
                store,
                setups: self.setups,
                pending: self.pending,
                allowed_returns,
                on_connected: self.on_connected,
                clock: self.clock,
                tracker,
            }),
        })
    }
}

/// Seller onboarding: the connect flow and the status page, as an axum
/// [`Router`] ([`router`](Self::router)). Cheap to clone.
#[derive(Clone)]
pub struct Connect {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    public_base: String,
    /// The public base URL's origin (`https://shop.example`): what a
    /// same-origin form's `Origin` header says.
    pub(crate) public_origin: String,
    base_path: String,
    secure_cookie: bool,
    pub(crate) authorize: Arc<dyn Authorize>,
    store: Arc<dyn TokenStore>,
    setups: Vec<Setup>,
    pending: Arc<dyn PendingStore>,
    allowed_returns: Vec<Url>,
    pub(crate) on_connected: Option<ConnectedHook>,
    pub(crate) clock: SharedClock,
    pub(crate) tracker: Tracker,
}

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("public_base", &self.inner.public_base)
            .field(
                "providers",
                &self.inner.setups.iter().map(|s| s.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Connect {
    /// A builder. `public_base_url` is the absolute URL the router is
    /// reachable under (where the host mounts it, e.g.
    /// `https://shop.example/oauth` for `Router::nest("/oauth", ...)`);
    /// `authorize` decides who may start a connect for which account and
    /// who may see the status page (see [`Authorize`]).
    pub fn builder(
        public_base_url: impl Into<String>,
        authorize: impl Authorize + 'static,
    ) -> ConnectBuilder {
        ConnectBuilder {
            public_base: public_base_url.into(),
            authorize: Arc::new(authorize),
            store: None,
            setups: Vec::new(),
            pending: Arc::new(MemoryPendingStore::new()),
            allowed_returns: Vec::new(),
            on_connected: None,
            clock: system_clock(),
        }
    }

    /// The routes, relative to where the host mounts them:
    /// `GET /connect/{provider}`, `GET /callback/{provider}`,
    /// `POST /paste/{provider}` (providers without a consent step only),
    /// `GET /status` and `GET /status.json`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/connect/{provider}", get(connect))
            .route("/callback/{provider}", get(callback))
            .route("/paste/{provider}", post(crate::paste::paste))
            .route("/status", get(status_page))
            .route("/status.json", get(status_json))
            .with_state(Arc::clone(&self.inner))
    }

    /// The redirect URI to register for `provider` (eBay: the RuName's
    /// "auth accepted URL"): `{public base URL}/callback/{provider}`.
    pub fn callback_url(&self, provider: &str) -> String {
        format!("{}/callback/{provider}", self.inner.public_base)
    }

    /// Tells the status page that a token request for an account failed
    /// (e.g. an error from [`TokenPool::access_token`] in the host's own
    /// calls): its class and retry time are shown until the next success.
    pub fn note_failure(&self, provider: &str, account: &str, error: &Error) {
        self.inner
            .tracker
            .note_failure(provider, account, error, self.inner.clock.now());
    }

    /// Every account of the token store for the configured providers, with
    /// its state: what the status page shows.
    ///
    /// # Errors
    /// [`Error::Store`] if the store cannot be listed or read.
    pub async fn accounts(&self) -> Result<Vec<AccountStatus>, Error> {
        self.inner.accounts().await
    }
}

impl Inner {
    pub(crate) fn setup(&self, provider: &str) -> Option<&Setup> {
        self.setups.iter().find(|s| s.name == provider)
    }

    fn paste_url(&self, provider: &str) -> String {
        format!("{}/paste/{provider}", self.public_base)
    }

    fn connect_url(&self, provider: &str) -> String {
        format!("{}/connect/{provider}", self.public_base)
    }

    fn reconnect_url(&self, provider: &str, account: &str) -> String {
        let mut url = self.connect_url(provider);
        url.push_str("?account=");
        url.extend(url::form_urlencoded::byte_serialize(account.as_bytes()));
        url
    }

    fn cookie(&self, provider: &str, value: &str, max_age: u64) -> String {
        format!(
            "{COOKIE_NAME}={value}; Path={}/callback/{provider}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
            self.base_path,
            if self.secure_cookie { "; Secure" } else { "" }
        )
    }

    fn return_allowed(&self, text: &str) -> Option<String> {
        let base = Url::parse(&format!("{}/", self.public_base)).ok()?;
        // Backslashes and control characters are read differently by
        // browsers: refuse rather than guess.
        if text.contains('\\') || text.chars().any(char::is_control) {
            return None;
        }
        let url = base.join(text).ok()?;
        if url.username() != "" || url.password().is_some() {
            return None;
        }
        self.allowed_returns
            .iter()
            .find(|prefix| {
                prefix.scheme() == url.scheme()
                    && prefix.host() == url.host()
                    && prefix.port_or_known_default() == url.port_or_known_default()
                    && path_under(url.path(), prefix.path())
            })
            .map(|_| url.to_string())
    }

    async fn accounts(&self) -> Result<Vec<AccountStatus>, Error> {
        let now = self.clock.now();
        self.tracker.drain(now);
        let mut out = Vec::new();
        for setup in &self.setups {
            for account in list_all_accounts(self.store.as_ref(), setup.name).await? {
                let stored = self
                    .store
                    .load(&AccountKey::new(setup.name, &account))
                    .await?;
                // A provider without a consent step is reconnected by pasting a
                // new refresh token: the link goes to its form on the page.
                let reconnect = if setup.needs_consent {
                    self.reconnect_url(setup.name, &account)
                } else {
                    format!("#paste-{}", setup.name)
                };
                out.push(self.tracker.status(
                    setup.name,
                    &account,
                    stored.as_ref().map(|v| &v.tokens),
                    now,
                    reconnect,
                ));
            }
        }
        Ok(out)
    }
}

/// Whether `path` is `prefix` or under it, by whole path segments:
/// `/admin` covers `/admin` and `/admin/sellers`, not `/admin-evil`; a prefix
/// ending in `/` (`/admin/`) covers what starts with it.
fn path_under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

/// Whether a `GET …/connect/{provider}` may start: the browser's
/// `Sec-Fetch-Site` must say the navigation came from a page of this
/// origin (`same-origin`: the status page's form and links) or from no page
/// at all (`none`: an address typed or opened by a program). Without the
/// header (older browsers, non-browser clients) it may start too. A
/// `cross-site` or `same-site` navigation (a link or a redirect from another
/// site, which carries the host's `SameSite=Lax` session) is refused, and so
/// is any other value.
fn navigation_allowed(headers: &http::HeaderMap) -> bool {
    headers
        .get_all("sec-fetch-site")
        .iter()
        .all(|site| matches!(site.as_bytes(), b"same-origin" | b"none"))
}

/// An HTML page with the headers every page of the router carries.
pub(crate) fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let mut response = Response::new(Body::from(page(title, body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(headers);
    response
}

fn secure_headers(headers: &mut http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

/// A result page of the callback: `outcome` is the stable
/// `data-outcome` of its `#result` paragraph.
pub(crate) fn result_page(
    status: StatusCode,
    title: &str,
    outcome: &str,
    message: &str,
) -> Response {
    html(
        status,
        title,
        &format!(
            "<p id=\"result\" data-outcome=\"{outcome}\">{}</p>\n",
            escape(message)
        ),
    )
}

pub(crate) fn forbidden() -> Response {
    result_page(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "forbidden",
        "You are not allowed to do this.",
    )
}

pub(crate) fn not_found(message: &str) -> Response {
    result_page(StatusCode::NOT_FOUND, "Not found", "not-found", message)
}

pub(crate) fn bad_request(outcome: &str, message: &str) -> Response {
    result_page(
        StatusCode::BAD_REQUEST,
        "Connection refused",
        outcome,
        message,
    )
}

/// Whether `account` is an account id the router accepts.
pub(crate) fn valid_account(account: &str) -> bool {
    !account.is_empty()
        && account.len() <= MAX_ACCOUNT_LEN
        && !account.chars().any(char::is_control)
}

/// The parameters of a query, refusing repeated names.
fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ()> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(());
        }
        pairs.push((name.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

fn get_param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

async fn connect(
    State(inner): State<Arc<Inner>>,
    Path(provider): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let Some(setup) = inner.setup(&provider) else {
        return not_found("No such provider.");
    };
    // A provider without a consent page is connected by pasting a refresh
    // token on the status page: there is nothing to redirect to.
    if !setup.needs_consent {
        return not_found(
            "This provider has no consent page: paste a refresh token on the status page.",
        );
    }
    if !navigation_allowed(&parts.headers) {
        tracing::info!(
            provider = setup.name,
            "oauth-connect: connect refused (a navigation from another site)"
        );
        return result_page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "cross-site-request",
            "This connect was started from another site: nothing was started. \
             Start it from the status page.",
        );
    }
    let Ok(pairs) = query_pairs(parts.uri.query()) else {
        return bad_request("invalid-request", "A parameter is repeated.");
    };
    let account = match get_param(&pairs, "account") {
        Some(a) if valid_account(a) => a.to_owned(),
        _ => {
            return bad_request(
                "invalid-account",
                "Give the account to connect (?account=...).",
            );
        }
    };
    if let Err(refused) = may_connect(&inner, setup, &parts, &account, "connect").await {
        return refused;
    }
    let return_to = match get_param(&pairs, "return_to") {
        None => None,
        Some(text) => match inner.return_allowed(text) {
            Some(url) => Some(url),
            None => {
                return bad_request(
                    "return-not-allowed",
                    "The return URL is not on the allow-list.",
                );
            }
        },
    };
    let (state, binding) = match (CsrfState::generate(), CsrfState::generate()) {
        (Ok(state), Ok(binding)) => (state, binding),
        _ => return server_error("No random source."),
    };
    let authorize_url = match setup.client.authorize_url(&state) {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(
                provider = setup.name,
                class = e.class(),
                "oauth-connect: no authorize URL"
            );
            return server_error("This provider cannot start a connect (configuration).");
        }
    };
    let pending = Pending {
        provider: setup.name.to_owned(),
        account: account.clone(),
        state: state.as_str().to_owned(),
        return_to,
        expires_at: oauth_core::expiry_after(inner.clock.now(), PENDING_LIFETIME),
    };
    if let Err(e) = inner.pending.put(binding.as_str(), pending).await {
        tracing::warn!(
            provider = setup.name,
            class = e.class(),
            "oauth-connect: the pending store refused"
        );
        return server_error("The connect could not be started; try again later.");
    }
    tracing::debug!(
        provider = setup.name,
        account,
        "oauth-connect: redirecting to the consent page"
    );
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    secure_headers(headers);
    match (
        HeaderValue::from_str(authorize_url.as_str()),
        HeaderValue::from_str(&inner.cookie(
            setup.name,
            binding.as_str(),
            PENDING_LIFETIME.as_secs(),
        )),
    ) {
        (Ok(location), Ok(cookie)) => {
            headers.insert(header::LOCATION, location);
            headers.insert(header::SET_COOKIE, cookie);
            response
        }
        _ => server_error("The authorize URL is not a valid header."),
    }
}

/// Whether the host's hook lets this request bind tokens to `account` of
/// `setup`'s provider (a connect, or a pasted refresh token: `what`), and the
/// account is configured; otherwise the page to answer with.
pub(crate) async fn may_connect(
    inner: &Inner,
    setup: &Setup,
    parts: &http::request::Parts,
    account: &str,
    what: &'static str,
) -> Result<(), Response> {
    let action = Action::Connect {
        provider: setup.name,
        account,
    };
    if !inner.authorize.allow(parts, &action).await {
        tracing::info!(
            provider = setup.name,
            account,
            what,
            "oauth-connect: refused by the authorization hook"
        );
        return Err(forbidden());
    }
    if !setup.sink.knows(account) {
        return Err(not_found(
            "This account is not configured for this provider.",
        ));
    }
    Ok(())
}

pub(crate) fn server_error(message: &str) -> Response {
    result_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Connection failed",
        "server-error",
        message,
    )
}

/// The value of the connect cookie, if the request carries exactly one.
fn cookie_value(headers: &http::HeaderMap) -> Option<String> {
    let mut found: Option<String> = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=')
                && name == COOKIE_NAME
            {
                if found.is_some() {
                    return None;
                }
                found = Some(value.to_owned());
            }
        }
    }
    found.filter(|v| !v.is_empty())
}

async fn callback(
    State(inner): State<Arc<Inner>>,
    Path(provider): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let Some(setup) = inner.setup(&provider) else {
        return not_found("No such provider.");
    };
    let mut response = callback_outcome(&inner, setup, &parts).await;
    // Whatever happened, the cookie is spent.
    if parts.headers.contains_key(header::COOKIE)
        && let Ok(clear) = HeaderValue::from_str(&inner.cookie(setup.name, "", 0))
    {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

async fn callback_outcome(inner: &Inner, setup: &Setup, parts: &http::request::Parts) -> Response {
    let provider = setup.name;
    let Some(binding) = cookie_value(&parts.headers) else {
        tracing::info!(
            provider,
            "oauth-connect: callback without the connect cookie"
        );
        return bad_request(
            "missing-cookie",
            "This browser did not start this connect (no connect cookie). Start again from the status page.",
        );
    };
    let pending = match inner.pending.take(&binding).await {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            tracing::info!(
                provider,
                "oauth-connect: callback of an unknown or already used connect"
            );
            return bad_request(
                "unknown-state",
                "This connect is unknown or was already used. Start again from the status page.",
            );
        }
        Err(e) => {
            tracing::warn!(
                provider,
                class = e.class(),
                "oauth-connect: the pending store failed"
            );
            return server_error("The connect could not be checked; try again later.");
        }
    };
    if pending.provider != provider {
        return bad_request(
            "invalid-state",
            "This callback does not belong to this connect. Start again from the status page.",
        );
    }
    if inner.clock.now() >= pending.expires_at {
        tracing::info!(
            provider,
            account = pending.account,
            "oauth-connect: callback of an expired connect"
        );
        return bad_request(
            "expired",
            "This connect has expired (10 minutes). Start again from the status page.",
        );
    }
    let landed = format!(
        "{}/callback/{provider}?{}",
        inner.public_base,
        parts.uri.query().unwrap_or("")
    );
    let expected = CsrfState::from_stored(pending.state.clone());
    let callback = match parse_callback(&landed, &expected) {
        Ok(callback) => callback,
        Err(e) => return callback_refused(provider, &pending.account, &e),
    };
    let tokens = match setup.client.exchange_code(&callback.code).await {
        Ok(tokens) => tokens,
        Err(e) => {
            let class = e.class();
            tracing::warn!(
                provider,
                account = pending.account,
                class,
                "oauth-connect: the code exchange failed"
            );
            return result_page(
                StatusCode::BAD_GATEWAY,
                "Connection failed",
                "exchange-failed",
                &format!(
                    "The provider did not give tokens ({class}). Start again from the status page."
                ),
            );
        }
    };
    let connected = Connected {
        provider: provider.to_owned(),
        account: pending.account.clone(),
        access_token_expires_at: tokens.expires_at,
        refresh_token_expires_at: tokens.refresh_token_expires_at,
    };
    if let Err(e) = setup.sink.install(&pending.account, tokens).await {
        tracing::warn!(
            provider,
            account = pending.account,
            class = e.class(),
            "oauth-connect: the tokens could not be installed"
        );
        return server_error("The tokens could not be saved. Start again later.");
    }
    inner
        .tracker
        .connected(provider, &pending.account, inner.clock.now());
    tracing::info!(
        provider,
        account = pending.account,
        "oauth-connect: account connected"
    );
    if let Some(hook) = &inner.on_connected {
        hook(&connected);
    }
    connected_page(provider, &pending.account, pending.return_to.as_deref())
}

/// The result page of a connected account.
pub(crate) fn connected_page(provider: &str, account: &str, return_to: Option<&str>) -> Response {
    let mut body = format!(
        "<p id=\"result\" data-outcome=\"connected\">The {} account <strong id=\"connected-account\">{}</strong> is connected.</p>\n",
        escape(provider),
        escape(account)
    );
    if let Some(return_to) = return_to {
        body.push_str(&format!(
            "<p><a id=\"continue\" href=\"{}\">Continue</a></p>\n",
            escape(return_to)
        ));
    }
    html(StatusCode::OK, "Account connected", &body)
}

fn callback_refused(provider: &str, account: &str, error: &CallbackError) -> Response {
    tracing::info!(provider, account, %error, "oauth-connect: callback refused");
    match error {
        e if e.is_access_denied() => result_page(
            StatusCode::OK,
            "Connection cancelled",
            "denied",
            "Consent was declined at the provider: nothing was connected.",
        ),
        CallbackError::ProviderError { error, .. } => bad_request(
            "provider-error",
            &format!("The provider reported an error ({error}): nothing was connected."),
        ),
        CallbackError::StateMismatch | CallbackError::MissingState => bad_request(
            "invalid-state",
            "This callback does not belong to this connect. Start again from the status page.",
        ),
        _ => bad_request(
            "invalid-callback",
            "The provider's answer could not be read: nothing was connected.",
        ),
    }
}

async fn status_allowed(inner: &Inner, request: Request) -> bool {
    let (parts, _) = request.into_parts();
    inner.authorize.allow(&parts, &Action::Status).await
}

async fn status_page(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    if !status_allowed(&inner, request).await {
        return forbidden();
    }
    match inner.accounts().await {
        Ok(accounts) => {
            let providers: Vec<ProviderForms> = inner
                .setups
                .iter()
                .map(|s| ProviderForms {
                    name: s.name,
                    connect_url: inner.connect_url(s.name),
                    paste_url: (!s.needs_consent).then(|| inner.paste_url(s.name)),
                })
                .collect();
            html(
                StatusCode::OK,
                "Connected accounts",
                &render(&accounts, &providers),
            )
        }
        Err(e) => {
            tracing::warn!(
                class = e.class(),
                "oauth-connect: the token store could not be listed"
            );
            server_error("The token store could not be read.")
        }
    }
}

async fn status_json(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (status, value) = if !status_allowed(&inner, request).await {
        (
            StatusCode::FORBIDDEN,
            serde_json::json!({ "error": "forbidden" }),
        )
    } else {
        match inner.accounts().await {
            Ok(accounts) => (
                StatusCode::OK,
                serde_json::json!({
                    "accounts": accounts.iter().map(AccountStatus::to_json).collect::<Vec<_>>()
                }),
            ),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": e.class() }),
            ),
        }
    };
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    secure_headers(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&'static str]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for value in values {
            map.append("sec-fetch-site", HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn navigations_from_another_site_are_refused() {
        for ok in [&[][..], &["same-origin"], &["none"]] {
            assert!(navigation_allowed(&headers(ok)), "{ok:?}");
        }
        for refused in [
            &["cross-site"][..],
            &["same-site"],
            &["Cross-Site"],
            &[""],
            &["whatever"],
            &["same-origin", "cross-site"],
        ] {
            assert!(!navigation_allowed(&headers(refused)), "{refused:?}");
        }
    }

    #[test]
    fn return_paths_match_whole_segments() {
        for (path, prefix) in [
            ("/admin", "/admin"),
            ("/admin/", "/admin"),
            ("/admin/sellers", "/admin"),
            ("/admin/", "/admin/"),
            ("/admin/sellers", "/admin/"),
            ("/anything", "/"),
        ] {
            assert!(path_under(path, prefix), "{path} under {prefix}");
        }
        for (path, prefix) in [
            ("/admin-evil", "/admin"),
            ("/admin-evil/x", "/admin"),
            ("/adminx", "/admin"),
            ("/admin%2Fx", "/admin"),
            ("/admin", "/admin/"),
            ("/admi", "/admin"),
            ("/other", "/admin/"),
        ] {
            assert!(!path_under(path, prefix), "{path} under {prefix}");
        }
    }
}
