//! The HTTP plumbing shared by every provider: validated endpoint URLs, token
//! requests, a bounded client, response classification and retries.

pub mod classify;
mod client;
mod endpoint;
mod request;
mod response;
mod retry;
mod tls;

pub use client::{DEFAULT_MAX_RESPONSE_BYTES, HttpClient, HttpClientBuilder};
pub use endpoint::EndpointUrl;
pub use request::{
    FORM_CONTENT_TYPE, ParamValue, Params, RequestBody, TokenRequest, basic_auth_value,
};
pub use response::RawResponse;
pub use retry::{RetryPolicy, jitter};
