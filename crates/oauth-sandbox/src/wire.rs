//! Request parsing and response building shared by the provider emulations.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::conn::ConnHandle;
use crate::counters::ApiTally;
use crate::fault::{Fault, MALFORMED_BODY, server_error_page};
use crate::provider::Provider;
use crate::state::{Shared, TokenKind};

/// Request parameters in arrival order (query string or form body).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a query string or a body).
    /// Invalid percent-encoding or UTF-8 is replaced, never a panic.
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        Params(
            url::form_urlencoded::parse(bytes)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    pub(crate) fn from_query(query: Option<&str>) -> Self {
        Self::parse(query.unwrap_or_default().as_bytes())
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name`, if not empty.
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// The name of a parameter that appears more than once, if any.
    pub(crate) fn duplicate(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (name, _))| {
            self.0
                .iter()
                .skip(i + 1)
                .any(|(other, _)| other == name)
                .then_some(name.as_str())
        })
    }

    pub(crate) fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }
}

/// A header as text, if present and visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Whether the request declares a form body.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    header_str(headers, header::CONTENT_TYPE.as_str()).is_some_and(|value| {
        value
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

/// Whether the request declares a JSON body.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, header::CONTENT_TYPE.as_str()).is_some_and(|value| {
        value
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
}

/// The `(user, password)` of an `Authorization: Basic` header, if well formed.
pub(crate) fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = header_str(headers, header::AUTHORIZATION.as_str())?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The token of a `<header>: Bearer <token>` header.
pub(crate) fn bearer<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = header_str(headers, name)?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|token| !token.is_empty())
}

/// A JSON response with the headers RFC 6749 asks for on token responses.
pub(crate) fn token_json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = json(status, body);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// A `302 Found` to `location`.
pub(crate) fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect target").into_response(),
    }
}

/// `len` random ASCII letters and digits.
pub(crate) fn random_alnum(len: usize) -> String {
    (0..len).map(|_| fastrand::alphanumeric()).collect()
}

/// `len` random lowercase hex digits.
pub(crate) fn random_hex(len: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..len)
        .map(|_| {
            char::from(
                HEX.get(fastrand::usize(..HEX.len()))
                    .copied()
                    .unwrap_or(b'0'),
            )
        })
        .collect()
}

/// Appends `pairs` to the query of `target` (a URL registered in the sandbox).
pub(crate) fn with_query(target: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(target).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    Some(url.into())
}

/// Runs the fault gate of a token endpoint: counts the request and plays the next
/// injected fault. `Some(response)` means "answer this instead".
pub(crate) async fn token_gate(
    shared: &Shared,
    provider: Provider,
    conn: &ConnHandle,
) -> Option<Response> {
    let fault = shared.lock().hit_token_endpoint(provider)?;
    match fault {
        Fault::Latency(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Fault::ServerError(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(
                (
                    status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )],
                    server_error_page(status.as_u16()),
                )
                    .into_response(),
            )
        }
        Fault::MalformedBody => Some(
            (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                MALFORMED_BODY,
            )
                .into_response(),
        ),
        Fault::DropConnection => {
            conn.kill();
            Some(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Fault::RateLimit { retry_after_secs } => Some(rate_limited(provider, retry_after_secs)),
    }
}

/// `429 Too Many Requests` with `Retry-After` and a body in the provider's shape.
pub(crate) fn rate_limited(provider: Provider, retry_after_secs: u64) -> Response {
    let body = provider.emulator().rate_limit_body();
    let mut response = json(StatusCode::TOO_MANY_REQUESTS, &body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// A request id in AliExpress's style (25 lowercase hex digits).
pub(crate) fn request_id() -> String {
    random_hex(25)
}

/// Runs an API endpoint (not a token endpoint): `handler` answers the request and
/// notes in its [`ApiTally`] the token's account and whether it answered with the
/// provider's invalid-token error ([`check_api_token`]); the request is then counted.
pub(crate) fn api_call(
    shared: &Shared,
    provider: Provider,
    handler: impl FnOnce(&mut ApiTally) -> Response,
) -> Response {
    let mut tally = ApiTally::default();
    let response = handler(&mut tally);
    shared.lock().record_api(provider, &tally);
    response
}

/// Whether `token` is a live access token of the provider, of one of `kinds`, noting
/// its account and a rejection (a missing or invalid token) in `tally`.
pub(crate) fn check_api_token(
    shared: &Shared,
    provider: Provider,
    token: Option<&str>,
    kinds: &[TokenKind],
    tally: &mut ApiTally,
) -> bool {
    shared.lock().check_api_token(provider, token, kinds, tally)
}
