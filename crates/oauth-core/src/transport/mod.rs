//! The HTTP plumbing shared by every provider: validated endpoint URLs, token
//! requests, a bounded client, response classification and retries.
//!
//! Two layers: [`HttpClient`] holds the policy (HTTPS-or-loopback URLs, no
//! redirects, a size cap, a timeout per attempt, retries, errors without
//! URLs or secrets, tracing spans); below it a [`Transport`] moves the
//! bytes: `ReqwestTransport` by default (feature `reqwest`), the
//! application's own, or a fake in tests (`test_util::transport`, feature
//! `test-util`).

pub mod classify;
mod client;
#[cfg(feature = "reqwest")]
mod default_transport;
mod endpoint;
#[cfg(feature = "reqwest")]
mod proxy;
mod request;
mod response;
mod retry;
#[cfg(feature = "reqwest")]
mod tls;
mod wire;

pub use client::{DEFAULT_MAX_RESPONSE_BYTES, HttpClient, HttpClientBuilder};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use default_transport::ReqwestTransport;
pub use endpoint::EndpointUrl;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use proxy::Proxy;
pub use request::{
    FORM_CONTENT_TYPE, ParamValue, Params, RequestBody, TokenRequest, basic_auth_value,
};
pub use response::RawResponse;
pub use retry::{RetryPolicy, jitter};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use tls::RootCertificate;
pub use wire::{
    BodyStream, ResponseBody, Transport, TransportError, TransportErrorKind, TransportRequest,
    TransportResponse,
};

/// The scrubbing of `RawResponse::scrub_error`, for `redact::scrub_secrets`.
pub(crate) use response::scrub as response_scrub;
