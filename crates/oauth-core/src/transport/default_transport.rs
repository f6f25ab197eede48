//! The default [`Transport`]: reqwest, with rustls configured by this
//! crate's features, no redirects, and proxies only when configured.

use super::proxy::ProxyRoutes;
use super::tls::RootCertificate;
use super::wire::{
    BodyStream, ResponseBody, Transport, TransportError, TransportErrorKind, TransportRequest,
    TransportResponse,
};
use crate::{Error, redact};
use bytes::Bytes;
use http_body::Body as _;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// A [`Transport`] over reqwest: the one
/// [`HttpClient`](crate::HttpClient) uses unless given another.
///
/// The client this crate builds (through
/// [`HttpClientBuilder`](crate::transport::HttpClientBuilder)) follows no
/// redirect, speaks HTTP/1.1 over rustls (crypto and roots chosen by this
/// crate's features, plus any extra roots), and ignores the proxy
/// variables of the environment (`http_proxy`, `HTTPS_PROXY`, `ALL_PROXY`,
/// ...): it uses a proxy only when one is configured explicitly, under the
/// rule described on
/// [`HttpClientBuilder::proxy`](crate::transport::HttpClientBuilder::proxy).
///
/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// Given by the user ([`from_client`](Self::from_client)): it may
    /// follow redirects, which must then be detected.
    user_client: bool,
    /// What the client was built with, for `Debug`.
    proxies: Arc<ProxyRoutes>,
    extra_roots: usize,
}

impl ReqwestTransport {
    /// The default transport: the TLS backend this crate's features chose,
    /// a 10 s connect timeout, no redirects, no proxy.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the TLS backend cannot be initialised
    /// (see [`HttpClientBuilder::build`](crate::transport::HttpClientBuilder::build)).
    pub fn new() -> Result<Self, Error> {
        Self::build(Duration::from_secs(10), ProxyRoutes::default(), &[])
    }

    /// A transport over the application's own reqwest client, used as it
    /// is: its proxy settings (reqwest reads the proxy variables of the
    /// environment by default; [`reqwest::ClientBuilder::no_proxy`] turns
    /// that off), TLS roots, timeouts and redirect policy are the
    /// application's, and this crate's proxy rule does not apply to it.
    ///
    /// [`HttpClient`](crate::HttpClient) still never accepts a redirected
    /// answer: when the final URL differs from the one requested (the
    /// client followed a redirect), the answer is refused with
    /// [`Error::UnexpectedResponse`]. **That refusal comes too late for the
    /// request**: a client that follows redirects has already re-sent a
    /// `307`/`308`'s body (a client secret, a refresh token, a code) to the
    /// redirect's target, and a client that reads the proxy variables may
    /// send a loopback `http://` request in clear to a remote proxy. Build
    /// the client with `redirect(reqwest::redirect::Policy::none())`, and
    /// with `no_proxy()` unless you configure its proxy yourself; the
    /// transports [`HttpClient::builder`](crate::HttpClient::builder) makes
    /// do both.
    pub fn from_client(client: reqwest::Client) -> Self {
        Self {
            client,
            user_client: true,
            proxies: Arc::new(ProxyRoutes::default()),
            extra_roots: 0,
        }
    }

    /// The client [`HttpClientBuilder`](crate::transport::HttpClientBuilder)
    /// configures.
    pub(crate) fn build(
        connect_timeout: Duration,
        proxies: ProxyRoutes,
        extra_roots: &[RootCertificate],
    ) -> Result<Self, Error> {
        let proxies = Arc::new(proxies);
        // `no_proxy` first: reqwest would otherwise read the environment's
        // proxy variables, and send a loopback `http://` request (client
        // secret, refresh token) in plain text to whatever `http_proxy` names.
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tls_backend_preconfigured(super::tls::client_config(extra_roots)?)
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        if !proxies.is_empty() {
            let routes = Arc::clone(&proxies);
            builder = builder.proxy(reqwest::Proxy::custom(move |target| {
                routes.route(target).cloned()
            }));
        }
        let client = builder.build().map_err(|e| {
            Error::configuration(format!(
                "cannot build the HTTP client: {}",
                redact::sanitize(&e.without_url().to_string(), 200)
            ))
        })?;
        Ok(Self {
            client,
            user_client: false,
            proxies,
            extra_roots: extra_roots.len(),
        })
    }
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("user_client", &self.user_client)
            .field("proxies", &self.proxies)
            .field("extra_roots", &self.extra_roots)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, TransportError> {
        // Our own client never redirects: the URL is compared (and so
        // copied) only for the application's.
        let requested = self.user_client.then(|| request.url.clone());
        let mut outgoing = reqwest::Request::new(request.method, request.url);
        *outgoing.headers_mut() = request.headers;
        *outgoing.body_mut() = Some(reqwest::Body::from(request.body));
        let response = self
            .client
            .execute(outgoing)
            .await
            .map_err(transport_error)?;
        let followed_redirect = requested.is_some_and(|url| *response.url() != url);
        let response = http::Response::<reqwest::Body>::from(response);
        let (parts, body) = response.into_parts();
        Ok(TransportResponse::new(
            parts.status,
            parts.headers,
            ResponseBody::from_stream(Body(body)),
        )
        .with_followed_redirect(followed_redirect))
    }
}

/// A reqwest body, polled frame by frame (trailers skipped).
struct Body(reqwest::Body);

impl BodyStream for Body {
    fn poll_chunk(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        loop {
            return match Pin::new(&mut self.0).poll_frame(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(transport_error(e)))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
            };
        }
    }

    fn exact_len(&self) -> Option<u64> {
        self.0.size_hint().exact()
    }
}

/// Converts a reqwest error, dropping the URL (it may carry a token in its
/// query) and keeping only the root cause's text.
// Taken by value: the shape `map_err` hands over.
#[allow(clippy::needless_pass_by_value)]
fn transport_error(error: reqwest::Error) -> TransportError {
    let error = error.without_url();
    let kind = if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Interrupted
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
    TransportError::new(kind, message)
}
