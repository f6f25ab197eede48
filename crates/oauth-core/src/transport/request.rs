//! A token-endpoint request, described independently of the HTTP client.

use crate::secret::ClientSecret;
use base64::engine::general_purpose::STANDARD;
use base64::write::EncoderStringWriter;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::io::Write;
use std::sync::Arc;
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
    ///
    /// The bytes `url::form_urlencoded::Serializer` writes, in one
    /// allocation of the exact length (no growth reallocations, and a
    /// request body made from it without a copy).
    pub fn to_form_urlencoded(&self) -> String {
        // Form encoding writes ASCII only: the check cannot fail.
        String::from_utf8(self.form_urlencoded_bytes())
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// [`to_form_urlencoded`](Self::to_form_urlencoded), as bytes.
    pub(crate) fn form_urlencoded_bytes(&self) -> Vec<u8> {
        let pairs: usize = self
            .0
            .iter()
            .map(|(name, value)| form_encoded_len(name) + 1 + form_encoded_len(value.expose()))
            .sum();
        let mut out = Vec::with_capacity(pairs + self.0.len().saturating_sub(1));
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b'&');
            }
            form_encode_into(&mut out, name);
            out.push(b'=');
            form_encode_into(&mut out, value.expose());
        }
        out
    }

    /// The secret values, in order.
    fn secrets(&self) -> impl Iterator<Item = &SecretString> {
        self.0.iter().filter_map(|(_, value)| match value {
            ParamValue::Secret(secret) => Some(secret),
            ParamValue::Plain(_) => None,
        })
    }

    /// A flat JSON object of string values, in order.
    pub fn to_json(&self) -> Vec<u8> {
        // Written by hand to keep the order (a serde_json map sorts keys).
        // The exact length when nothing needs escaping (quotes, colon and
        // comma around each pair, the braces).
        let plain: usize = self
            .0
            .iter()
            .map(|(name, value)| name.len() + value.expose().len() + 6)
            .sum();
        let mut out = Vec::with_capacity((plain + 2).saturating_sub(1).max(2));
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

/// For each byte: whether `url::form_urlencoded` writes it as it is.
// In bounds: a `u8` indexes 256 entries.
#[allow(clippy::indexing_slicing)]
static FORM_UNCHANGED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = matches!(
            b,
            b'*' | b'-' | b'.' | b'0'..=b'9' | b'A'..=b'Z' | b'_' | b'a'..=b'z'
        );
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    table
};

/// Whether `url::form_urlencoded` writes `byte` as it is (a table look-up:
/// the encoder's two passes cost a byte-wise cascade of comparisons
/// otherwise).
fn form_unchanged(byte: u8) -> bool {
    FORM_UNCHANGED
        .get(usize::from(byte))
        .copied()
        .unwrap_or(false)
}

/// The length of `text` form-encoded.
fn form_encoded_len(text: &str) -> usize {
    let escaped: usize = text
        .bytes()
        .map(|b| usize::from(!form_unchanged(b) && b != b' '))
        .sum();
    text.len() + 2 * escaped
}

/// Appends `text` form-encoded as `url::form_urlencoded::byte_serialize`
/// does: `*-._`, digits and ASCII letters as they are, space as `+`, any
/// other byte as `%XX` (upper-case hex). Runs of bytes kept as they are
/// are copied at once.
fn form_encode_into(out: &mut Vec<u8>, text: &str) {
    fn hex(nibble: u8) -> u8 {
        if nibble < 10 {
            b'0' + nibble
        } else {
            b'A' + nibble - 10
        }
    }
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        let run = rest
            .iter()
            .position(|&b| !form_unchanged(b))
            .unwrap_or(rest.len());
        let (unchanged, tail) = rest.split_at(run);
        out.extend_from_slice(unchanged);
        let Some((&b, tail)) = tail.split_first() else {
            break;
        };
        if b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', hex(b >> 4), hex(b & 0x0f)]);
        }
        rest = tail;
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
#[derive(Clone)]
pub struct TokenRequest {
    pub(crate) provider: &'static str,
    pub(crate) grant: &'static str,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) retry_safe: bool,
    /// Query, body and header secrets, shared with the responses to this
    /// request: they scrub what the server echoes back from these, without
    /// a copy of any secret per send.
    pub(crate) payload: Arc<Payload>,
}

/// The parts of a [`TokenRequest`] that hold secrets.
#[derive(Clone, Default)]
pub(crate) struct Payload {
    pub(crate) query: Params,
    pub(crate) body: RequestBody,
    /// Secrets sent outside the parameters (the client secret of a Basic
    /// header), to scrub from anything the server echoes back.
    pub(crate) header_secrets: Vec<SecretString>,
}

impl Payload {
    /// Every secret sent: secret parameters of the query and body, then the
    /// header secrets.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &SecretString> {
        let body = match &self.body {
            RequestBody::Form { params, .. } | RequestBody::Json(params) => Some(params),
            RequestBody::Empty => None,
        };
        self.query
            .secrets()
            .chain(body.into_iter().flat_map(Params::secrets))
            .chain(self.header_secrets.iter())
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("provider", &self.provider)
            .field("grant", &self.grant)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("query", &self.payload.query)
            .field("headers", &self.headers)
            .field("body", &self.payload.body)
            .field("retry_safe", &self.retry_safe)
            .field("header_secrets", &self.payload.header_secrets)
            .finish()
    }
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
            headers: HeaderMap::new(),
            retry_safe: false,
            payload: Arc::new(Payload::default()),
        }
    }

    /// The payload, to change it (copied first only if a clone of this
    /// request shares it).
    fn payload_mut(&mut self) -> &mut Payload {
        Arc::make_mut(&mut self.payload)
    }

    /// Sets the query parameters (appended to any the URL has).
    pub fn query(mut self, query: Params) -> Self {
        self.payload_mut().query = query;
        self
    }

    /// A form body with the standard content type.
    pub fn form(mut self, params: Params) -> Self {
        self.payload_mut().body = RequestBody::Form {
            params,
            content_type: FORM_CONTENT_TYPE,
        };
        self
    }

    /// A form body with a specific content type (e.g. with `;charset=UTF-8`).
    pub fn form_with_content_type(mut self, params: Params, content_type: &'static str) -> Self {
        self.payload_mut().body = RequestBody::Form {
            params,
            content_type,
        };
        self
    }

    /// A JSON body.
    pub fn json(mut self, params: Params) -> Self {
        self.payload_mut().body = RequestBody::Json(params);
        self
    }

    /// Adds a header. Mark it `sensitive` when it carries a secret: it is
    /// then redacted in `Debug`, and its value is one of the secrets scrubbed
    /// from any error built from the answer (OrangeConnex's `clientKey`).
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue, sensitive: bool) -> Self {
        value.set_sensitive(sensitive);
        if sensitive && let Ok(text) = value.to_str() {
            self.payload_mut()
                .header_secrets
                .push(SecretString::from(text.to_owned()));
        }
        self.headers.append(name, value);
        self
    }

    /// `Authorization: Basic base64(client_id:client_secret)`, marked
    /// sensitive; the secret alone and the whole header value are scrubbed
    /// from errors.
    pub fn basic_auth(mut self, client_id: &str, client_secret: &ClientSecret) -> Self {
        let value = basic_auth_value(client_id, client_secret);
        self.payload_mut()
            .header_secrets
            .push(SecretString::from(client_secret.expose_secret()));
        self.header(http::header::AUTHORIZATION, value, true)
    }

    /// Every secret this request sends (secret parameters of the query and
    /// body, the client secret of a Basic header): what a response must not
    /// echo back into an error.
    ///
    /// [`HttpClient::send`](crate::HttpClient::send) does not copy them: its
    /// responses share them with the request.
    pub fn secret_values(&self) -> Vec<SecretString> {
        self.payload.secrets().cloned().collect()
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
        &self.payload.body
    }

    /// The headers (sensitive ones are flagged).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The full URL with the query appended. It may carry secrets
    /// (OrangeConnex): never log it.
    pub fn full_url(&self) -> Url {
        let mut url = self.url.clone();
        let query = &self.payload.query;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query.iter() {
                pairs.append_pair(name, value.expose());
            }
        }
        url
    }
}

/// The `Authorization: Basic` value for a client id and secret (RFC 7617),
/// marked sensitive.
///
/// Encoded straight into a buffer of the exact length, which the header
/// value then owns: no plain-text `id:secret` copy is left behind in freed
/// memory, and one allocation in all.
pub fn basic_auth_value(client_id: &str, client_secret: &ClientSecret) -> HeaderValue {
    const PREFIX: &str = "Basic ";
    let secret = client_secret.expose_secret().as_bytes();
    let encoded_len = base64::encoded_len(client_id.len() + 1 + secret.len(), true).unwrap_or(0);
    let mut out = String::with_capacity(PREFIX.len() + encoded_len);
    out.push_str(PREFIX);
    let mut writer = EncoderStringWriter::from_consumer(out, &STANDARD);
    // Writing into a `String` cannot fail.
    let written = writer
        .write_all(client_id.as_bytes())
        .and_then(|()| writer.write_all(b":"))
        .and_then(|()| writer.write_all(secret));
    let out = writer.into_inner();
    // Base64 output is always a valid header value.
    let mut value = match written {
        Ok(()) => HeaderValue::from_maybe_shared(Bytes::from(out))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic")),
        Err(_) => HeaderValue::from_static("Basic"),
    };
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
        // Every length modulo 3, and secrets longer than the encoder's buffer.
        for len in [0, 1, 2, 3, 4, 5, 1023, 1024, 1025, 3000] {
            let secret: String = (0..len)
                .map(|i: usize| char::from(b'!' + u8::try_from(i % 90).unwrap()))
                .collect();
            let value = basic_auth_value("id-é", &ClientSecret::new(secret.clone()));
            let expected = format!(
                "Basic {}",
                base64::Engine::encode(&STANDARD, format!("id-é:{secret}"))
            );
            assert_eq!(value.to_str().unwrap(), expected, "{len}");
            assert_eq!(value.len(), expected.len());
            assert!(value.is_sensitive());
        }
    }

    #[test]
    fn form_encoding_is_what_the_url_serializer_writes_at_its_exact_length() {
        let cases = [
            Params::new(),
            Params::new().plain("a", ""),
            Params::new().plain("", ""),
            Params::new().plain("", "").plain("b", "c"),
            Params::new()
                .plain("scope", "https://api.ebay.com/oauth/api_scope a b")
                .secret("refresh_token", "v^1.1#i^1#p^3#r^1#I^3#f^0#t^Ul4x/Aa+==")
                .plain("naïve ✓", "&=?%+ \u{0}\n"),
            Params::new().plain(
                (0u8..128).map(char::from).collect::<String>(),
                "\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
            ),
        ];
        for params in cases {
            let mut reference = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in params.iter() {
                reference.append_pair(name, value.expose());
            }
            let ours = params.to_form_urlencoded();
            assert_eq!(ours, reference.finish());
            assert_eq!(ours.len(), ours.capacity(), "{ours}");
        }
    }

    #[test]
    fn json_is_allocated_at_its_exact_length_when_nothing_is_escaped() {
        for params in [
            Params::new(),
            Params::new().plain("a", "b"),
            Params::new()
                .plain("client_id", "id")
                .secret("secret", "s3cr3t-é"),
        ] {
            let json = params.to_json();
            assert_eq!(json.len(), json.capacity());
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(value.as_object().unwrap().len(), params.iter().count());
        }
    }

    #[test]
    fn secrets_are_listed_and_shared_with_clones() {
        let request = TokenRequest::post("x", "y", Url::parse("https://h.example/t").unwrap())
            .query(Params::new().secret("q", "query-secret"))
            .form(
                Params::new()
                    .plain("grant_type", "refresh_token")
                    .secret("refresh_token", "body-secret"),
            )
            .basic_auth("id", &ClientSecret::new("header-secret"));
        let listed: Vec<String> = request
            .secret_values()
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        assert_eq!(
            listed,
            [
                "query-secret",
                "body-secret",
                "header-secret",
                "Basic aWQ6aGVhZGVyLXNlY3JldA=="
            ]
        );
        // A clone shares the payload until it changes it.
        let clone = request.clone();
        assert!(Arc::ptr_eq(&clone.payload, &request.payload));
        let changed = clone.json(Params::new());
        assert!(!Arc::ptr_eq(&changed.payload, &request.payload));
        assert_eq!(request.secret_values().len(), 4);
        assert_eq!(changed.secret_values().len(), 3);
    }
}
