//! The transport: what sends one HTTP request and hands back the answer,
//! below [`HttpClient`](crate::HttpClient)'s policy.
//!
//! [`HttpClient`](crate::HttpClient) checks the URL, builds the request,
//! enforces the per-attempt timeout, the response size cap, refuses
//! followed redirects, retries and scrubs errors; a [`Transport`] only moves
//! bytes. The default one is [`ReqwestTransport`](super::ReqwestTransport)
//! (feature `reqwest`); tests use `test_util::transport::FakeTransport`
//! (feature `test-util`); anything else (another HTTP stack, a corporate
//! client with its own proxy rules) implements [`Transport`] and is handed
//! to [`HttpClientBuilder::transport`](crate::transport::HttpClientBuilder::transport).

use crate::error::TransientCause;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use url::Url;

/// Sends one HTTP request and returns the status, headers and a body that
/// is read chunk by chunk.
///
/// An implementation must not follow redirects (or, if it cannot help it,
/// must say so with [`TransportResponse::with_followed_redirect`]: the
/// answer is then refused), must not retry (the client decides), and should
/// put neither the URL nor any header value in its errors (the client
/// scrubs what it can, but the URL may carry a token).
///
/// ```
/// use oauth_core::async_trait;
/// use oauth_core::transport::{
///     ResponseBody, Transport, TransportError, TransportRequest, TransportResponse,
/// };
///
/// /// Answers every request with the same token response.
/// #[derive(Debug)]
/// struct Canned;
///
/// #[async_trait]
/// impl Transport for Canned {
///     async fn send(
///         &self,
///         _request: TransportRequest,
///     ) -> Result<TransportResponse, TransportError> {
///         Ok(TransportResponse::new(
///             http::StatusCode::OK,
///             http::HeaderMap::new(),
///             ResponseBody::full(r#"{"access_token":"a","token_type":"bearer"}"#),
///         ))
///     }
/// }
/// # use oauth_core::http_types as http;
/// ```
#[async_trait::async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` once.
    ///
    /// # Errors
    /// A [`TransportError`] when no response head arrived: the connection
    /// could not be made, timed out, or broke.
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, TransportError>;
}

/// One HTTP request, as the client hands it to a [`Transport`]: method,
/// the full URL (query included), headers in wire order, and the body.
///
/// It carries secrets (the body, sensitive headers, maybe the query):
/// `Debug` shows the method, the URL without its query, the headers with
/// sensitive values redacted, and the body's length only.
#[derive(Clone)]
#[non_exhaustive]
pub struct TransportRequest {
    /// The method (`POST` for token requests).
    pub method: Method,
    /// The full URL, query included. It may carry a secret: never log it.
    pub url: Url,
    /// The headers, in the order they go on the wire; secret values are
    /// flagged sensitive.
    pub headers: HeaderMap,
    /// The body (empty for none).
    pub body: Bytes,
}

impl TransportRequest {
    /// A request (for transports' own tests; the client builds them).
    pub fn new(method: Method, url: Url, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            method,
            url,
            headers,
            body,
        }
    }
}

impl fmt::Debug for TransportRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportRequest")
            .field("method", &self.method)
            .field("url", &UrlWithoutQuery(&self.url))
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A URL shown without its query, fragment or credentials.
pub(crate) struct UrlWithoutQuery<'a>(pub(crate) &'a Url);

impl fmt::Debug for UrlWithoutQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(f, "\"{}://", url.scheme())?;
        if let Some(host) = url.host_str() {
            f.write_str(host)?;
        }
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(url.path())?;
        if url.query().is_some() {
            f.write_str("?…")?;
        }
        f.write_str("\"")
    }
}

/// What a [`Transport`] answers: status, headers, and the body still to be
/// read.
#[derive(Debug)]
pub struct TransportResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: ResponseBody,
    followed_redirect: bool,
}

impl TransportResponse {
    /// A response with this status, these headers and this body.
    pub fn new(status: StatusCode, headers: HeaderMap, body: ResponseBody) -> Self {
        Self {
            status,
            headers,
            body,
            followed_redirect: false,
        }
    }

    /// Says whether the transport followed a redirect to get this answer
    /// (the final URL is not the one requested). The client refuses such an
    /// answer: token requests never follow redirects.
    #[must_use]
    pub fn with_followed_redirect(mut self, followed: bool) -> Self {
        self.followed_redirect = followed;
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether a redirect was followed.
    pub fn followed_redirect(&self) -> bool {
        self.followed_redirect
    }

    /// The parts: status, headers and body.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, ResponseBody) {
        (self.status, self.headers, self.body)
    }
}

/// A body that arrives in chunks, polled like a stream: what a
/// [`Transport`] over a streaming HTTP stack hands back inside a
/// [`ResponseBody`].
pub trait BodyStream: Send {
    /// The next chunk, `None` at the end.
    fn poll_chunk(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>>;

    /// The body's exact length, when announced (`Content-Length`): a body
    /// announced larger than the cap is refused before any of it is read.
    fn exact_len(&self) -> Option<u64> {
        None
    }
}

/// A response body, read chunk by chunk with [`chunk`](Self::chunk): the
/// client stops reading as soon as the size cap is passed, so an oversized
/// body is never read whole.
pub struct ResponseBody(BodyInner);

enum BodyInner {
    /// Already in memory (one chunk, taken once).
    Full(Option<Bytes>),
    /// Arriving.
    Stream(Pin<Box<dyn BodyStream>>),
}

impl ResponseBody {
    /// A body already in memory, handed out as one chunk.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self(BodyInner::Full(Some(bytes.into())))
    }

    /// No body.
    pub fn empty() -> Self {
        Self(BodyInner::Full(None))
    }

    /// A body that arrives in chunks.
    pub fn from_stream(stream: impl BodyStream + 'static) -> Self {
        Self(BodyInner::Stream(Box::pin(stream)))
    }

    /// The exact length, when known before reading.
    pub fn exact_len(&self) -> Option<u64> {
        match &self.0 {
            BodyInner::Full(bytes) => Some(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            BodyInner::Stream(stream) => stream.exact_len(),
        }
    }

    /// The next chunk (never an empty one), `None` at the end.
    ///
    /// # Errors
    /// The transport's error when the transfer breaks.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        match &mut self.0 {
            BodyInner::Full(bytes) => Ok(bytes.take().filter(|b| !b.is_empty())),
            BodyInner::Stream(stream) => loop {
                match poll_fn(|cx| stream.as_mut().poll_chunk(cx)).await {
                    Some(Ok(chunk)) if chunk.is_empty() => {}
                    other => return other.transpose(),
                }
            },
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            BodyInner::Full(bytes) => f
                .debug_struct("ResponseBody")
                .field("len", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            BodyInner::Stream(stream) => f
                .debug_struct("ResponseBody")
                .field("exact_len", &stream.exact_len())
                .finish_non_exhaustive(),
        }
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

/// Why a [`Transport`] could not get an answer.
///
/// The client turns it into [`Error::Transient`](crate::Error::Transient)
/// with the matching [`TransientCause`]; the message is sanitized and
/// scrubbed of the request's secrets and of URLs first.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
}

/// The kinds of [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (DNS, refused, TLS handshake,
    /// proxy refused the tunnel): the request surely was not sent, so
    /// retrying is safe even for a grant that rotates its refresh token.
    Connect,
    /// No answer in time.
    Timeout,
    /// The connection broke while sending or receiving: the server may
    /// have processed the request.
    Interrupted,
}

impl TransportErrorKind {
    /// The [`TransientCause`] this kind becomes.
    pub fn cause(self) -> TransientCause {
        match self {
            Self::Connect => TransientCause::Connect,
            Self::Timeout => TransientCause::Timeout,
            Self::Interrupted => TransientCause::Interrupted,
        }
    }
}

impl TransportError {
    /// An error of this kind, with a short message (no URL, no secret).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The connection could not be made ([`TransportErrorKind::Connect`]).
    pub fn connect(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Connect, message)
    }

    /// No answer in time ([`TransportErrorKind::Timeout`]).
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Timeout, message)
    }

    /// The transfer broke ([`TransportErrorKind::Interrupted`]).
    pub fn interrupted(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Interrupted, message)
    }

    /// The kind.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request surely never reached the server.
    pub fn request_not_sent(&self) -> bool {
        self.kind.cause().request_not_sent()
    }

    /// The message as the transport gave it (not yet sanitized: the client
    /// sanitizes it before it goes into an [`Error`](crate::Error)).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &crate::redact::sanitize(&self.message, 200))
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind.cause(), f)?;
        if !self.message.is_empty() {
            write!(f, ": {}", crate::redact::sanitize(&self.message, 200))?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Chunks(Vec<Bytes>);

    impl BodyStream for Chunks {
        fn poll_chunk(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Bytes, TransportError>>> {
            Poll::Ready(if self.0.is_empty() {
                None
            } else {
                Some(Ok(self.0.remove(0)))
            })
        }
    }

    #[tokio::test]
    async fn bodies_skip_empty_chunks() {
        let mut full = ResponseBody::full(Bytes::new());
        assert_eq!(full.exact_len(), Some(0));
        assert_eq!(full.chunk().await.unwrap(), None);
        let mut stream = ResponseBody::from_stream(Chunks(vec![
            Bytes::from_static(b"a"),
            Bytes::new(),
            Bytes::from_static(b"b"),
        ]));
        assert_eq!(stream.exact_len(), None);
        assert_eq!(stream.chunk().await.unwrap().unwrap(), "a");
        assert_eq!(stream.chunk().await.unwrap().unwrap(), "b");
        assert_eq!(stream.chunk().await.unwrap(), None);
    }

    #[test]
    fn debug_hides_the_query_the_body_and_sensitive_headers() {
        let mut headers = HeaderMap::new();
        let mut auth = http::HeaderValue::from_static("Basic SENTINELsecret");
        auth.set_sensitive(true);
        headers.append(http::header::AUTHORIZATION, auth);
        let request = TransportRequest::new(
            Method::POST,
            Url::parse("https://u:p@example.com:8443/token?code=SENTINELcode").unwrap(),
            headers,
            Bytes::from_static(b"refresh_token=SENTINELrefresh"),
        );
        let text = format!("{request:?}");
        assert!(!text.contains("SENTINEL"), "{text}");
        assert!(!text.contains("u:p"), "{text}");
        assert!(text.contains("example.com:8443/token?…"), "{text}");
        let error = TransportError::interrupted("reset; refresh_token=SENTINELrefresh0123456789");
        assert!(!format!("{error} {error:?}").contains("SENTINEL"));
        assert!(error.to_string().starts_with("connection interrupted"));
        assert!(TransportError::connect("").request_not_sent());
        assert!(!TransportError::timeout("").request_not_sent());
    }
}
