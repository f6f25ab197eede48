//! A token-endpoint request, described independently of the HTTP client.

use crate::secret::ClientSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use url::Url;

/// A parameter value: plain, or secret (redacted in `Debug`, zeroized on drop).
#[derive(Clone)]
pub enum ParamValue {
    /// A value that may be shown (grant type, client id, scope).
    Plain(String),
    /// A value that must never be shown (code, refresh token, secret).
    Secret(SecretString),
}

impl ParamValue {
    /// The value as it goes on the wire.
    pub fn expose(&self) -> &str {
        match self {
            Self::Plain(v) => v,
            Self::Secret(v) => v.expose_secret(),
        }
    }
}

impl fmt::Debug for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(v) => write!(f, "{v:?}"),
            Self::Secret(_) => f.write_str("[REDACTED]"),
        }
    }
}

/// Ordered name/value pairs for a query string, a form body or a flat JSON
/// object. Order is kept as pushed.
#[derive(Clone, Default, Debug)]
pub struct Params(Vec<(String, ParamValue)>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Appends a plain parameter.
    pub fn plain(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.push((name.into(), ParamValue::Plain(value.into())));
        self
    }

    /// Appends a secret parameter (the value is copied into a zeroizing box).
    pub fn secret(mut self, name: impl Into<String>, value: &str) -> Self {
        self.0.push((
            name.into(),
            ParamValue::Secret(SecretString::from(value.to_owned())),
        ));
        self
    }

    /// Appends a parameter given as a [`ParamValue`].
    pub fn push(&mut self, name: impl Into<String>, value: ParamValue) {
        self.0.push((name.into(), value));
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `application/x-www-form-urlencoded` serialization (also used for query
    /// strings): each name and value percent-encoded exactly once, spaces as
    /// `+`, per the WHATWG form encoding that OAuth servers read.
    pub fn to_form_urlencoded(&self) -> String {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.0 {
            serializer.append_pair(name, value.expose());
        }
        serializer.finish()
    }

    /// A flat JSON object of string values, in order.
    pub fn to_json(&self) -> Vec<u8> {
        // Written by hand to keep the order (a serde_json map sorts keys).
        let mut out = Vec::with_capacity(64);
        out.push(b'{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Serializing a str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, name.as_str());
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, value.expose());
        }
        out.push(b'}');
        out
    }
}

/// The body of a token request.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum RequestBody {
    /// No body (`Content-Length: 0`).
    #[default]
    Empty,
    /// `application/x-www-form-urlencoded`, or the given content type.
    Form {
        /// The pairs.
        params: Params,
        /// `Content-Type` header value.
        content_type: &'static str,
    },
    /// `application/json`: a flat object of string values.
    Json(Params),
}

/// A request to a provider's token endpoint (or another OAuth endpoint).
///
/// Provider crates describe the request; [`HttpClient`](crate::HttpClient)
/// sends it. `Debug` redacts secret parameters and sensitive headers and
/// omits the query's secret values.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub(crate) provider: &'static str,
    pub(crate) grant: &'static str,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) query: Params,
    pub(crate) headers: HeaderMap,
    pub(crate) body: RequestBody,
    pub(crate) retry_safe: bool,
    /// Secrets sent outside the parameters (the client secret of a Basic
    /// header), to scrub from anything the server echoes back.
    pub(crate) header_secrets: Vec<SecretString>,
}

/// The form content type used by OAuth token endpoints.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

impl TokenRequest {
    /// A `POST` to `url` for `provider` (e.g. `"ebay"`) and `grant` (e.g.
    /// `"refresh_token"`), both used in tracing spans. Retrying after a 5xx
    /// or timeout is off until [`retry_safe`](Self::retry_safe) says so.
    pub fn post(provider: &'static str, grant: &'static str, url: Url) -> Self {
        Self {
            provider,
            grant,
            method: Method::POST,
            url,
            query: Params::new(),
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
            retry_safe: false,
            header_secrets: Vec::new(),
        }
    }

    /// Sets the query parameters (appended to any the URL has).
    pub fn query(mut self, query: Params) -> Self {
        self.query = query;
        self
    }

    /// A form body with the standard content type.
    pub fn form(mut self, params: Params) -> Self {
        self.body = RequestBody::Form {
            params,
            content_type: FORM_CONTENT_TYPE,
        };
        self
    }

    /// A form body with a specific content type (e.g. with `;charset=UTF-8`).
    pub fn form_with_content_type(mut self, params: Params, content_type: &'static str) -> Self {
        self.body = RequestBody::Form {
            params,
            content_type,
        };
        self
    }

    /// A JSON body.
    pub fn json(mut self, params: Params) -> Self {
        self.body = RequestBody::Json(params);
        self
    }

    /// Adds a header. Mark it `sensitive` when it carries a secret: it is
    /// then redacted in `Debug`.
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue, sensitive: bool) -> Self {
        value.set_sensitive(sensitive);
        self.headers.append(name, value);
        self
    }

    /// `Authorization: Basic base64(client_id:client_secret)`, marked sensitive.
    pub fn basic_auth(mut self, client_id: &str, client_secret: &ClientSecret) -> Self {
        let value = basic_auth_value(client_id, client_secret);
        self.header_secrets
            .push(SecretString::from(client_secret.expose_secret().to_owned()));
        self.header(http::header::AUTHORIZATION, value, true)
    }

    /// Every secret this request sends (secret parameters of the query and
    /// body, the client secret of a Basic header): what a response must not
    /// echo back into an error.
    pub fn secret_values(&self) -> Vec<SecretString> {
        let body = match &self.body {
            RequestBody::Form { params, .. } | RequestBody::Json(params) => Some(params),
            RequestBody::Empty => None,
        };
        self.query
            .iter()
            .chain(body.into_iter().flat_map(Params::iter))
            .filter_map(|(_, value)| match value {
                ParamValue::Secret(secret) => Some(secret.clone()),
                ParamValue::Plain(_) => None,
            })
            .chain(self.header_secrets.iter().cloned())
            .collect()
    }

    /// Whether the request may be repeated after a 5xx, 429 or timeout: true
    /// for grants that do not rotate a refresh token. A connection failure
    /// (request never sent) is retried either way.
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = safe;
        self
    }

    /// The provider name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The grant name.
    pub fn grant(&self) -> &'static str {
        self.grant
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The body.
    pub fn body(&self) -> &RequestBody {
        &self.body
    }

    /// The headers (sensitive ones are flagged).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The full URL with the query appended. It may carry secrets
    /// (OrangeConnex): never log it.
    pub fn full_url(&self) -> Url {
        let mut url = self.url.clone();
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in self.query.iter() {
                pairs.append_pair(name, value.expose());
            }
        }
        url
    }
}

/// The `Authorization: Basic` value for a client id and secret (RFC 7617),
/// marked sensitive.
pub fn basic_auth_value(client_id: &str, client_secret: &ClientSecret) -> HeaderValue {
    let credentials = format!("{client_id}:{}", client_secret.expose_secret());
    let encoded = STANDARD.encode(credentials.as_bytes());
    // Base64 output is always a valid header value.
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_is_done_once() {
        let params = Params::new()
            .plain("grant_type", "authorization_code")
            .secret("code", "v^1.1#i^1#r^1#p^3#f^0#I^3#t^Ul41Xzk6Q0Y=")
            .plain("scope", "a b");
        assert_eq!(
            params.to_form_urlencoded(),
            "grant_type=authorization_code&code=v%5E1.1%23i%5E1%23r%5E1%23p%5E3%23f%5E0%23I%5E3%23t%5EUl41Xzk6Q0Y%3D&scope=a+b"
        );
    }

    #[test]
    fn json_keeps_order_and_debug_redacts() {
        let params = Params::new()
            .plain("z_first", "a\"b")
            .plain("client_id", "id")
            .secret("client_secret", "SENTINEL-SECRET-123");
        assert_eq!(
            String::from_utf8(params.to_json()).unwrap(),
            r#"{"z_first":"a\"b","client_id":"id","client_secret":"SENTINEL-SECRET-123"}"#
        );
        let request = TokenRequest::post("x", "y", Url::parse("https://h.example/t").unwrap())
            .query(params.clone())
            .json(params)
            .basic_auth("id", &ClientSecret::new("SENTINEL-SECRET-123"));
        let debug = format!("{request:?}");
        assert!(!debug.contains("SENTINEL"), "{debug}");
    }

    #[test]
    fn basic_auth_matches_rfc_7617() {
        let value = basic_auth_value("Aladdin", &ClientSecret::new("open sesame"));
        assert_eq!(
            value.to_str().unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(value.is_sensitive());
    }
}
