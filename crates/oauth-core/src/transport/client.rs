//! The one place that sends token requests.

use super::endpoint::EndpointUrl;
use super::request::{FORM_CONTENT_TYPE, RequestBody, TokenRequest};
use super::response::{ContentType, RawResponse, SentSecrets};
use super::retry::RetryPolicy;
use crate::error::{Error, ProviderDetails, TransientCause};
use crate::redact;
use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Token responses are small: anything larger than this is refused.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// `Accept` of every request, `Content-Type` of JSON bodies.
const JSON_CONTENT_TYPE: &str = "application/json";

/// The longest `Retry-After` we parse (longer values are clamped).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// An HTTP client for token endpoints: timeouts, no redirects, a response
/// size cap, HTTPS-or-loopback URLs, URLs stripped from errors, tracing
/// without secrets, and a bounded retry policy.
///
/// Cheap to clone: clones share one connection pool. Share one client
/// between all the accounts of a service.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    max_response_bytes: usize,
    retry: RetryPolicy,
    /// The per-attempt time limit (connect included).
    timeout: Duration,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    retry: RetryPolicy,
    user_agent: String,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            user_agent: concat!("oauth-core/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpClientBuilder {
    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for a whole request, body included (default 30 s).
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

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Builds the client, with the TLS backend this crate's features chose
    /// (see the crate's feature flags).
    ///
    /// # Errors
    /// [`Error::Configuration`] if the TLS backend cannot be initialised
    /// (with neither `ring` nor `aws-lc-rs` enabled, when no process-wide
    /// rustls `CryptoProvider` is installed either) or a setting is out of
    /// range.
    pub fn build(self) -> Result<HttpClient, Error> {
        if self.retry.max_attempts == 0 {
            return Err(Error::configuration(
                "retry policy needs at least one attempt",
            ));
        }
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(super::tls::client_config()?)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| {
                Error::configuration(format!(
                    "cannot build the HTTP client: {}",
                    redact::sanitize(&e.without_url().to_string(), 200)
                ))
            })?;
        Ok(HttpClient {
            inner,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            timeout: self.timeout,
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

    /// One attempt. The reqwest request is built directly, its header map
    /// filled in the order the request builder used to fill it (request
    /// headers, `Accept`, `Content-Type`): the same bytes on the wire,
    /// without a copy of the request's header map, a second URL check, or a
    /// copy of its secrets (the response shares them with the request).
    async fn send_once(&self, request: &TokenRequest) -> Result<RawResponse, Error> {
        let provider = request.provider;
        let mut outgoing = reqwest::Request::new(request.method.clone(), request.full_url());
        let headers = outgoing.headers_mut();
        headers.reserve(request.headers.len() + 2);
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
        *outgoing.body_mut() = Some(reqwest::Body::from(body));
        let mut response = self
            .inner
            .execute(outgoing)
            .await
            .map_err(|e| transport_error(provider, e))?;

        let status = response.status().as_u16();
        let content_type =
            ContentType::received(response.headers().get(http::header::CONTENT_TYPE).cloned());
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER));

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
        if let Some(length) = response.content_length()
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
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(provider, e))?
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

/// Converts a reqwest error into our error, dropping the URL (it may carry
/// a token in its query) and keeping only a sanitized root cause.
fn transport_error(provider: &'static str, error: reqwest::Error) -> Error {
    let error = error.without_url();
    let cause = if error.is_timeout() {
        TransientCause::Timeout
    } else if error.is_connect() {
        TransientCause::Connect
    } else {
        TransientCause::Interrupted
    };
    let mut root: &dyn std::error::Error = &error;
    while let Some(source) = root.source() {
        root = source;
    }
    let message = if std::ptr::addr_eq(root, &error) {
        String::new()
    } else {
        root.to_string()
    };
    Error::Transient {
        cause,
        retry_after: None,
        details: ProviderDetails::new(provider).with_message(message),
    }
}
