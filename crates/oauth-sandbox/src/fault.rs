//! Faults that can be injected into a provider's token endpoint.

use std::time::Duration;

/// A fault the sandbox plays on a provider's token endpoint instead of (or, for
/// [`Fault::Latency`], before) answering normally.
///
/// Faults are queued per provider with [`Sandbox::inject`](crate::Sandbox::inject) and
/// consumed one per token request, in the order they were injected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Answer with this status (meant for 5xx; any status 100..=999 is accepted, an
    /// invalid one becomes 500) and an HTML body, like a load balancer's error page.
    ServerError(u16),
    /// Answer `200 OK` with `Content-Type: application/json` and a truncated JSON body.
    MalformedBody,
    /// Close the connection without sending any response.
    ///
    /// Mechanism: every accepted connection is wrapped in an I/O type carrying a kill
    /// switch. The handler flips the switch; the next write of the response then fails,
    /// hyper aborts the connection and the socket is closed before a single byte of the
    /// response went out. The client sees a connection closed before a response
    /// ("connection closed before message completed" / reset).
    DropConnection,
    /// Answer `429 Too Many Requests` with a `Retry-After` header (seconds) and a body in
    /// the provider's error shape.
    RateLimit {
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
}

/// Placeholder body for [`Fault::MalformedBody`]: the beginning of a token response, cut off.
pub(crate) const MALFORMED_BODY: &str = "{\"access_token\":\"v^1.1#i^1#trunc";

/// Body for [`Fault::ServerError`].
pub(crate) fn server_error_page(status: u16) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><title>{status} Server Error</title></head>\
         <body><h1>{status} Server Error</h1><p>The upstream server is temporarily \
         unavailable. Please try again later.</p></body></html>\n"
    )
}
