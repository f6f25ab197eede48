//! The one place that sends token requests: the policy, above a
//! [`Transport`].

use super::endpoint::EndpointUrl;
#[cfg(feature = "reqwest")]
use super::proxy::{Proxy, ProxyRoutes};
use super::request::{FORM_CONTENT_TYPE, RequestBody, TokenRequest};
use super::response::{ContentType, RawResponse, SentSecrets};
use super::retry::RetryPolicy;
#[cfg(feature = "reqwest")]
use super::tls::RootCertificate;
use super::wire::{Transport, TransportError, TransportRequest};
use crate::error::{Error, ProviderDetails, TransientCause};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Token responses are small: anything larger than this is refused.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// `Accept` of every request, `Content-Type` of JSON bodies.
const JSON_CONTENT_TYPE: &str = "application/json";

/// An HTTP client for token endpoints: timeouts, no redirects, a response
/// size cap, HTTPS-or-loopback URLs, URLs stripped from errors, tracing
/// without secrets, and a bounded retry policy.
///
/// The policy lives here; the bytes are moved by a [`Transport`]
/// (`ReqwestTransport`, feature `reqwest`, unless
/// [`HttpClientBuilder::transport`] gave another).
///
/// Cheap to clone: clones share one transport (one connection pool). Share
/// one client between all the accounts of a service.
#[derive(Clone)]
pub struct HttpClient {
    transport: Arc<dyn Transport>,
    max_response_bytes: usize,
    retry: RetryPolicy,
    /// The per-attempt time limit (connect included).
    timeout: Duration,
    /// Sent unless the request has its own.
    user_agent: HeaderValue,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("transport", &self.transport)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
///
/// # Transport, proxies and roots
/// By default the client sends through a `ReqwestTransport` (feature
/// `reqwest`, on by default) that it builds from the settings below;
/// [`transport`](Self::transport) replaces it with any [`Transport`] (then
/// the settings that configure the built-in transport, `proxy`,
/// `proxy_from_environment`, `add_root_certificate`, are refused and
/// [`connect_timeout`](Self::connect_timeout) is not used).
///
/// Proxies are used only when configured here: the proxy variables of the
/// environment (`http_proxy`, `HTTPS_PROXY`, `ALL_PROXY`, ...) are ignored
/// unless `proxy_from_environment` asks for them, because with a loopback
/// `http://` endpoint they would send the client secret and the refresh
/// token in plain text to the proxy.
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    retry: RetryPolicy,
    user_agent: String,
    transport: Option<Arc<dyn Transport>>,
    #[cfg(feature = "reqwest")]
    proxy: ProxyChoice,
    #[cfg(feature = "reqwest")]
    extra_roots: Vec<RootCertificate>,
}

/// Which proxy the built-in transport uses.
#[cfg(feature = "reqwest")]
#[derive(Debug, Clone, Default)]
enum ProxyChoice {
    /// None (the default: the environment is not consulted).
    #[default]
    None,
    /// This one, for every target (under the plain-HTTP rule).
    Explicit(Proxy),
    /// The environment's, read when the client is built.
    Environment,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            user_agent: concat!("oauth-core/", env!("CARGO_PKG_VERSION")).to_owned(),
            transport: None,
            #[cfg(feature = "reqwest")]
            proxy: ProxyChoice::None,
            #[cfg(feature = "reqwest")]
            extra_roots: Vec::new(),
        }
    }
}

impl HttpClientBuilder {
    /// Time allowed to establish a connection (default 10 s), for the
    /// built-in transport.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt, connection and whole body included
    /// (default 30 s), whatever the transport.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted (default 64 KiB).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header, sent with every request that does not set
    /// its own (default `oauth-core/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sends through `transport` instead of the built-in reqwest one: the
    /// application's own HTTP stack, or a fake in tests
    /// (`test_util::transport::FakeTransport`, feature `test-util`). The
    /// policy (URL check, timeout per attempt, size cap, refused
    /// redirects, retries, scrubbed errors) stays the client's.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Sends through `proxy` (replacing
    /// [`proxy_from_environment`](Self::proxy_from_environment)).
    ///
    /// The rule, for each connection:
    /// - an `https://` target goes through the proxy in a `CONNECT` tunnel
    ///   (TLS end to end: the proxy sees the host and port only), unless
    ///   the proxy's [no-proxy list](Proxy::no_proxy) names its host;
    /// - an `http://` target (allowed for loopback hosts only) goes through
    ///   the proxy only if the proxy is itself on loopback (a local
    ///   debugging proxy); otherwise it is connected to **directly**: the
    ///   request would carry the client secret and refresh token in plain
    ///   text across the network, and a remote proxy could not reach this
    ///   machine's loopback anyway.
    ///
    /// Credentials in the proxy URL (`http://user:password@proxy:3128`)
    /// are sent to the proxy as Basic `Proxy-Authorization`, and never
    /// shown by `Debug`.
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = ProxyChoice::Explicit(proxy);
        self
    }

    /// Uses the proxies the environment names, read when
    /// [`build`](Self::build) runs (replacing [`proxy`](Self::proxy)):
    /// `HTTPS_PROXY`/`https_proxy` for HTTPS targets, `HTTP_PROXY`/
    /// `http_proxy` for HTTP targets (the upper-case one is ignored when
    /// `REQUEST_METHOD` is set, as in a CGI program), `ALL_PROXY`/
    /// `all_proxy` when the specific one is not set, and `NO_PROXY`/
    /// `no_proxy` for the hosts to reach directly. The rule of
    /// [`proxy`](Self::proxy) applies: a loopback `http://` target never
    /// goes through a proxy that is not on loopback.
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn proxy_from_environment(mut self) -> Self {
        self.proxy = ProxyChoice::Environment;
        self
    }

    /// Trusts `certificate` as a root, besides the roots this crate's
    /// features chose (the platform's or Mozilla's): a private CA, a
    /// TLS-inspecting corporate proxy. Read PEM bundles with
    /// [`RootCertificate::from_pem`].
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn add_root_certificate(mut self, certificate: RootCertificate) -> Self {
        self.extra_roots.push(certificate);
        self
    }

    /// Builds the client. Without [`transport`](Self::transport), builds
    /// the reqwest transport with the TLS backend this crate's features
    /// chose (see the crate's feature flags).
    ///
    /// # Errors
    /// [`Error::Configuration`] if a setting is out of range; if the
    /// user agent is not a valid header value; without a transport when
    /// the `reqwest` feature is off; with a transport and a proxy or root
    /// certificate (those configure the built-in transport only); if a
    /// proxy variable of the environment is invalid
    /// (`proxy_from_environment`), a root certificate is refused, or the
    /// TLS backend cannot be initialised
    /// (with neither `ring` nor `aws-lc-rs` enabled, when no process-wide
    /// rustls `CryptoProvider` is installed either).
    pub fn build(self) -> Result<HttpClient, Error> {
        if self.retry.max_attempts == 0 {
            return Err(Error::configuration(
                "retry policy needs at least one attempt",
            ));
        }
        let user_agent = HeaderValue::try_from(self.user_agent)
            .map_err(|_| Error::configuration("the user agent is not a valid header value"))?;
        let transport = match self.transport {
            Some(transport) => {
                #[cfg(feature = "reqwest")]
                if !matches!(self.proxy, ProxyChoice::None) || !self.extra_roots.is_empty() {
                    return Err(Error::configuration(
                        "proxies and root certificates configure the built-in transport: \
                         set them on the transport given to HttpClientBuilder::transport",
                    ));
                }
                transport
            }
            #[cfg(feature = "reqwest")]
            None => {
                let proxies = match self.proxy {
                    ProxyChoice::None => ProxyRoutes::default(),
                    ProxyChoice::Explicit(proxy) => ProxyRoutes::all(proxy),
                    ProxyChoice::Environment => {
                        ProxyRoutes::from_environment(|name| std::env::var(name).ok())?
                    }
                };
                Arc::new(super::ReqwestTransport::build(
                    self.connect_timeout,
                    proxies,
                    &self.extra_roots,
                )?)
            }
            #[cfg(not(feature = "reqwest"))]
            None => {
                let _ = self.connect_timeout;
                return Err(Error::configuration(
                    "no HTTP transport: enable oauth-core's `reqwest` feature (on by default) \
                     or give one to HttpClientBuilder::transport",
                ));
            }
        };
        Ok(HttpClient {
            transport,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            timeout: self.timeout,
            user_agent,
        })
    }
}

impl HttpClient {
    /// A client with the default settings.
    ///
    /// # Errors
    /// As [`HttpClientBuilder::build`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder to change timeouts, size cap and retry policy.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// The longest one [`send`](Self::send) can take, all attempts and the
    /// waits between them included: `max_attempts` times the per-attempt
    /// timeout plus `max_attempts - 1` times the retry policy's `max_delay`
    /// (a longer `Retry-After` is never waited for). A refresh lease must
    /// outlast it (see `TokenManagerBuilder::lease_duration`).
    pub fn max_send_duration(&self) -> Duration {
        let attempts = self.retry.max_attempts.max(1);
        self.timeout
            .saturating_mul(attempts)
            .saturating_add(self.retry.max_delay.saturating_mul(attempts - 1))
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends `request`, retrying what is safe to retry, and returns the
    /// response whatever its status (providers classify error bodies
    /// themselves). A 3xx is returned as is: redirects are never followed.
    ///
    /// # Errors
    /// - [`Error::Configuration`] for a URL that is not HTTPS or loopback;
    /// - [`Error::Transient`] for connection failures, timeouts and
    ///   interrupted transfers (never with the URL in it);
    /// - [`Error::UnexpectedResponse`] for a body over the size cap.
    pub async fn send(&self, request: &TokenRequest) -> Result<RawResponse, Error> {
        EndpointUrl::check(&request.url)?;
        let span = tracing::debug_span!(
            "oauth_request",
            provider = request.provider,
            grant = request.grant,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.send_with_retries(request).instrument(span).await
    }

    async fn send_with_retries(&self, request: &TokenRequest) -> Result<RawResponse, Error> {
        let span = tracing::Span::current();
        let max = self.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(request).await;
            let delay = match &outcome {
                Ok(response) => {
                    let retry_status = response.status >= 500 || response.status == 429;
                    if retry_status && request.retry_safe && attempt < max {
                        let delay = response
                            .retry_after
                            .unwrap_or_else(|| self.retry.backoff(attempt));
                        (delay <= self.retry.max_delay).then_some(delay)
                    } else {
                        None
                    }
                }
                Err(Error::Transient { cause, .. })
                    if attempt < max && (cause.request_not_sent() || request.retry_safe) =>
                {
                    Some(self.retry.backoff(attempt))
                }
                Err(_) => None,
            };
            match delay {
                Some(delay) => {
                    tracing::debug!(
                        attempt,
                        status = outcome.as_ref().ok().map(RawResponse::status),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "retrying token request"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    span.record("attempts", attempt);
                    if let Ok(response) = &outcome {
                        span.record("status", response.status);
                    }
                    if let Err(error) = &outcome {
                        tracing::debug!(%error, "token request failed");
                    } else {
                        tracing::debug!("token endpoint answered");
                    }
                    return outcome;
                }
            }
        }
    }

    /// One attempt, within the per-attempt timeout.
    async fn send_once(&self, request: &TokenRequest) -> Result<RawResponse, Error> {
        let outgoing = self.transport_request(request)?;
        match tokio::time::timeout(self.timeout, self.exchange(request, outgoing)).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(Error::Transient {
                cause: TransientCause::Timeout,
                retry_after: None,
                details: ProviderDetails::new(request.provider).with_message("operation timed out"),
            }),
        }
    }

    /// The request handed to the transport. Its header map is filled in the
    /// order reqwest's request builder used to fill it (request headers,
    /// `Accept`, `Content-Type`, then the `User-Agent` as a client default
    /// header: only when the request has none): the same bytes on the
    /// wire, without a copy of the request's header map, a second URL
    /// check, or a copy of its secrets (the response shares them with the
    /// request).
    fn transport_request(&self, request: &TokenRequest) -> Result<TransportRequest, Error> {
        let provider = request.provider;
        let mut headers = HeaderMap::with_capacity(request.headers.len() + 3);
        for (name, value) in &request.headers {
            headers.append(name.clone(), value.clone());
        }
        // Header values from `'static` texts share them (`const`: checked
        // at compile time, not at each send).
        headers.append(
            http::header::ACCEPT,
            const { HeaderValue::from_static(JSON_CONTENT_TYPE) },
        );
        let body = match &request.payload.body {
            RequestBody::Empty => Bytes::new(),
            RequestBody::Form {
                params,
                content_type,
            } => {
                let content_type = if *content_type == FORM_CONTENT_TYPE {
                    const { HeaderValue::from_static(FORM_CONTENT_TYPE) }
                } else {
                    static_header_value(content_type).map_err(|e| invalid_header(provider, &e))?
                };
                headers.append(http::header::CONTENT_TYPE, content_type);
                Bytes::from(params.form_urlencoded_bytes())
            }
            RequestBody::Json(params) => {
                headers.append(
                    http::header::CONTENT_TYPE,
                    const { HeaderValue::from_static(JSON_CONTENT_TYPE) },
                );
                Bytes::from(params.to_json())
            }
        };
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.append(http::header::USER_AGENT, self.user_agent.clone());
        }
        Ok(TransportRequest::new(
            request.method.clone(),
            request.full_url(),
            headers,
            body,
        ))
    }

    /// Sends `outgoing` through the transport and reads the answer, at
    /// most `max_response_bytes` of it.
    async fn exchange(
        &self,
        request: &TokenRequest,
        outgoing: TransportRequest,
    ) -> Result<RawResponse, Error> {
        let provider = request.provider;
        let response = self
            .transport
            .send(outgoing)
            .await
            .map_err(|e| transport_failure(request, &e))?;
        let followed_redirect = response.followed_redirect();
        let (status, headers, mut body) = response.into_parts();
        let status = status.as_u16();
        let content_type = ContentType::received(headers.get(http::header::CONTENT_TYPE).cloned());
        if followed_redirect {
            return Err(Error::unexpected(
                provider,
                Some(status),
                content_type.get(),
                "the transport followed a redirect; refused (token requests never follow redirects)",
                b"",
            ));
        }
        let retry_after = super::response::retry_after(&headers);

        let too_large = |read: usize| {
            Error::unexpected(
                provider,
                Some(status),
                content_type.get(),
                format!(
                    "response body larger than {} bytes (at least {read}); refused",
                    self.max_response_bytes
                ),
                b"",
            )
        };
        if let Some(length) = body.exact_len()
            && length > self.max_response_bytes as u64
        {
            return Err(too_large(usize::try_from(length).unwrap_or(usize::MAX)));
        }
        // A body that arrives in one chunk (a token response, almost always)
        // is kept as that chunk, without a copy; only a second chunk starts
        // a buffer.
        let mut first = Bytes::new();
        let mut joined: Option<BytesMut> = None;
        let mut read = 0;
        while let Some(chunk) = body
            .chunk()
            .await
            .map_err(|e| transport_failure(request, &e))?
        {
            read += chunk.len();
            if read > self.max_response_bytes {
                return Err(too_large(read));
            }
            match &mut joined {
                Some(buffer) => buffer.extend_from_slice(&chunk),
                None if first.is_empty() => first = chunk,
                None => {
                    let mut buffer = BytesMut::with_capacity(read);
                    buffer.extend_from_slice(&first);
                    buffer.extend_from_slice(&chunk);
                    joined = Some(buffer);
                }
            }
        }
        Ok(RawResponse {
            provider,
            status,
            content_type,
            retry_after,
            body: joined.map_or(first, BytesMut::freeze),
            sent_secrets: SentSecrets::Request(Arc::clone(&request.payload)),
        })
    }
}

/// A header value from a `'static` text: shared, not copied, when it is
/// visible ASCII (always, for a content type); otherwise copied and checked
/// as `reqwest::RequestBuilder::header` would.
fn static_header_value(
    text: &'static str,
) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    if text
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        Ok(HeaderValue::from_static(text))
    } else {
        HeaderValue::from_str(text)
    }
}

/// The error a header value reqwest's request builder refused used to give
/// (through [`transport_error`]): interrupted, with the refusal as message.
fn invalid_header(provider: &'static str, error: &http::header::InvalidHeaderValue) -> Error {
    Error::Transient {
        cause: TransientCause::Interrupted,
        retry_after: None,
        details: ProviderDetails::new(provider).with_message(error.to_string()),
    }
}

/// A transport's error as our error: its kind as the transient cause, its
/// message without URLs (one may carry a token in its query) or any secret
/// the request sent, sanitized.
fn transport_failure(request: &TokenRequest, error: &TransportError) -> Error {
    let message = strip_urls(error.message());
    let secrets: Vec<_> = request.payload.secrets().collect();
    let message = super::response::scrub(&message, &secrets);
    Error::Transient {
        cause: error.kind().cause(),
        retry_after: None,
        details: ProviderDetails::new(request.provider).with_message(message),
    }
}

/// `text` with every `scheme://...` run replaced by `[URL]`.
fn strip_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let head = rest.get(..at).unwrap_or_default();
        let scheme_start = head
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        out.push_str(head.get(..scheme_start).unwrap_or_default());
        let tail = rest.get(at + 3..).unwrap_or_default();
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')'))
            .unwrap_or(tail.len());
        out.push_str("[URL]");
        rest = tail.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The policy, against the fake transport: no sockets.
#[cfg(all(test, feature = "test-util"))]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod policy_tests {
    use super::*;
    use crate::test_util::transport::{FakeAnswer, FakeTransport};
    use crate::transport::Params;
    use http::header;
    use url::Url;

    const SENTINEL: &str = "SENTINELrefresh0123456789";

    fn request() -> TokenRequest {
        TokenRequest::post(
            "test",
            "refresh_token",
            Url::parse("https://auth.example/oauth/token").unwrap(),
        )
        .form(
            Params::new()
                .plain("grant_type", "refresh_token")
                .secret("refresh_token", SENTINEL),
        )
    }

    fn retrying(fake: &FakeTransport) -> HttpClient {
        fake.client_builder()
            .retry_policy(RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_secs(2),
            })
            .build()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_503_is_retried_after_its_retry_after_when_safe() {
        let fake = FakeTransport::new();
        fake.push(FakeAnswer::status(503).header(header::RETRY_AFTER, "1"))
            .push(FakeAnswer::json(200, "{}"));
        let started = tokio::time::Instant::now();
        let response = retrying(&fake)
            .send(&request().retry_safe(true))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(fake.request_count(), 2);
        assert!(started.elapsed() >= Duration::from_secs(1));

        // Longer than the policy's max_delay: not waited for, returned.
        let fake = FakeTransport::new();
        fake.push(FakeAnswer::status(503).header(header::RETRY_AFTER, "60"));
        let response = retrying(&fake)
            .send(&request().retry_safe(true))
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.retry_after(), Some(Duration::from_secs(60)));
        assert_eq!(fake.request_count(), 1);

        // A grant that rotates its refresh token is never repeated.
        let fake = FakeTransport::new();
        fake.otherwise(FakeAnswer::status(503));
        let response = retrying(&fake).send(&request()).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(fake.request_count(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connect_error_is_retried_even_when_not_retry_safe() {
        let fake = FakeTransport::new();
        fake.push(FakeAnswer::error(TransportError::connect("refused")))
            .push(FakeAnswer::json(200, "{}"));
        let response = retrying(&fake).send(&request()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(fake.request_count(), 2);

        // Interrupted (maybe processed): not repeated for such a grant.
        let fake = FakeTransport::new();
        fake.otherwise(FakeAnswer::error(TransportError::interrupted("reset")));
        let err = retrying(&fake).send(&request()).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Transient {
                    cause: TransientCause::Interrupted,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(fake.request_count(), 1);
        // ... but repeated for a safe one, up to the attempt limit.
        let err = retrying(&fake)
            .send(&request().retry_safe(true))
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(fake.request_count(), 4);
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused_without_reading_them_whole() {
        let fake = FakeTransport::new();
        let client = fake
            .client_builder()
            .max_response_bytes(100)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        // Announced too large: refused before any chunk is read.
        fake.push(
            FakeAnswer::status(200)
                .announced_len(1_000_000)
                .chunks(vec![vec![b'x'; 1000]; 1000]),
        );
        let err = client.send(&request()).await.unwrap_err();
        assert!(err.to_string().contains("larger than 100 bytes"), "{err}");
        assert_eq!(fake.chunks_read(), 0);
        // Not announced: reading stops at the chunk that passes the cap.
        fake.push(FakeAnswer::status(200).chunks(vec![vec![b'y'; 60]; 1000]));
        let err = client.send(&request()).await.unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
        assert_eq!(fake.chunks_read(), 2);
        // At the cap, in several chunks: joined.
        fake.push(FakeAnswer::status(200).chunks(["a".repeat(50), "b".repeat(50)]));
        let response = client.send(&request()).await.unwrap();
        assert_eq!(response.body().len(), 100);
        assert_eq!(fake.chunks_read(), 4);
    }

    #[tokio::test]
    async fn a_3xx_is_returned_as_is_and_a_followed_redirect_refused() {
        let fake = FakeTransport::new();
        let client = retrying(&fake);
        fake.push(FakeAnswer::status(302).header(header::LOCATION, "https://evil.example/steal"));
        let response = client.send(&request().retry_safe(true)).await.unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(fake.request_count(), 1);
        let err = super::super::classify::oauth_error(&response, &crate::Scopes::new());
        assert!(
            matches!(
                err,
                Error::UnexpectedResponse {
                    status: Some(302),
                    ..
                }
            ),
            "{err:?}"
        );

        fake.push(FakeAnswer::json(200, r#"{"access_token":"x"}"#).followed_redirect());
        let err = client.send(&request()).await.unwrap_err();
        match &err {
            Error::UnexpectedResponse { reason, .. } => {
                assert!(reason.contains("followed a redirect"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fake.request_count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn each_attempt_has_the_timeout_whatever_the_transport() {
        let fake = FakeTransport::new();
        fake.otherwise(FakeAnswer::json(200, "{}").delay(Duration::from_secs(31)));
        let client = fake
            .client_builder()
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = client.send(&request().retry_safe(true)).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Transient {
                    cause: TransientCause::Timeout,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(client.max_send_duration(), Duration::from_secs(30));
    }

    #[tokio::test]
    async fn the_transport_gets_the_exact_request() {
        let fake = FakeTransport::new();
        fake.otherwise(FakeAnswer::json(200, "{}"));
        let client = fake.client_builder().user_agent("ua/1").build().unwrap();
        let secret = crate::ClientSecret::new("s3cr3t-client");
        let sent = request()
            .query(Params::new().plain("a", "1 2"))
            .header(
                http::HeaderName::from_static("x-first"),
                HeaderValue::from_static("1"),
                false,
            )
            .basic_auth("id", &secret);
        client.send(&sent).await.unwrap();
        let recorded = &fake.requests()[0];
        assert_eq!(recorded.method, http::Method::POST);
        assert_eq!(
            recorded.url.as_str(),
            "https://auth.example/oauth/token?a=1+2"
        );
        let names: Vec<_> = recorded.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-first",
                "authorization",
                "accept",
                "content-type",
                "user-agent"
            ]
        );
        assert!(recorded.headers[header::AUTHORIZATION].is_sensitive());
        assert_eq!(recorded.headers[header::USER_AGENT], "ua/1");
        assert_eq!(
            recorded.body,
            format!("grant_type=refresh_token&refresh_token={SENTINEL}")
        );
        // A request's own User-Agent wins.
        let own = request().header(header::USER_AGENT, HeaderValue::from_static("mine"), false);
        client.send(&own).await.unwrap();
        let recorded = &fake.requests()[1];
        assert_eq!(
            recorded.headers.get_all(header::USER_AGENT).iter().count(),
            1
        );
        assert_eq!(recorded.headers[header::USER_AGENT], "mine");
        // Debug of what the transport saw shows no secret.
        let text = format!("{:?} {fake:?} {client:?}", fake.requests());
        assert!(
            !text.contains(SENTINEL) && !text.contains("s3cr3t"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn transport_errors_lose_urls_and_secrets() {
        let fake = FakeTransport::new();
        fake.otherwise(FakeAnswer::error(TransportError::connect(format!(
            "error sending request for url (https://auth.example/oauth/token?refresh_token={SENTINEL}): \
             peer said {SENTINEL}"
        ))));
        let client = fake
            .client_builder()
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = client.send(&request()).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains(SENTINEL), "{text}");
        assert!(!text.contains("auth.example"), "{text}");
        assert!(text.contains("[URL]"), "{text}");
        assert_eq!(strip_urls("a http://x/y?z b"), "a [URL] b");
        assert_eq!(strip_urls("(https://x)"), "([URL])");
        assert_eq!(strip_urls("no url"), "no url");
        assert_eq!(strip_urls("échec: https://x/y fin"), "échec: [URL] fin");
    }

    #[tokio::test]
    async fn plain_http_elsewhere_than_loopback_never_reaches_the_transport() {
        let fake = FakeTransport::new();
        let client = fake.client_builder().build().unwrap();
        let url = Url::parse("http://api.ebay.com/identity/v1/oauth2/token").unwrap();
        let err = client
            .send(&TokenRequest::post("test", "refresh_token", url))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        assert_eq!(fake.request_count(), 0);
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn proxies_and_roots_configure_the_built_in_transport_only() {
        let fake = FakeTransport::new();
        let proxy = Proxy::parse("http://user:SENTINELpw@127.0.0.1:3128").unwrap();
        let err = fake
            .client_builder()
            .proxy(proxy.clone())
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        let err = fake
            .client_builder()
            .add_root_certificate(RootCertificate::from_der(vec![1, 2, 3]))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        let builder = HttpClient::builder().proxy(proxy);
        let client = builder.clone().build().unwrap();
        let text = format!("{builder:?} {client:?}");
        assert!(
            !text.contains("SENTINEL") && !text.contains("user:"),
            "{text}"
        );
        assert!(text.contains("127.0.0.1:3128"), "{text}");
    }
}
