//! Using the access token: signing any IOP API call.
//!
//! AliExpress has no token header: the access token is a **signed
//! parameter**, `access_token` on system calls (`<base>/rest<path>`) and
//! `session` on business calls (`<base>/sync?method=<name>`). Two ways:
//! - [`ApiRequest`]: describe the call, get a [`SignedApiRequest`] (a POST
//!   with the common parameters and `sign` in the query, the API's own
//!   parameters and the token in a form body) to send with any HTTP client;
//! - [`ApiAuth`] (the client's [`attachment`](oauth_core::Client::attachment)),
//!   an [`AttachToken`]: signs a request you built yourself whose
//!   parameters are **all in the query** (everything, token included, then
//!   goes in the query string).
//!
//! Check the answer with [`AliExpress`]'s
//! [`Provider::classify_api_response`](oauth_core::Provider::classify_api_response)
//! (or the same free function, [`classify_api_response`](crate::classify_api_response)):
//! [`Error::AccessTokenRejected`] means refresh, then retry once.

use crate::call::{FORM_CONTENT_TYPE_UTF8, Layout, gateway_url, with_query};
use crate::config::{AliExpress, SYNC_PATH};
use crate::sign::ApiKind;
use crate::{Client, ClientExt};
use oauth_core::http_types::{self, HeaderValue, Method};
use oauth_core::transport::ParamValue;
use oauth_core::url::Url;
use oauth_core::{AccessToken, AttachContext, AttachToken, Endpoints, Error, SharedClock};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::fmt;

/// Parameter names the signer sets itself; an API call may not set them.
const RESERVED: &[&str] = &[
    "app_key",
    "timestamp",
    "sign_method",
    "sign",
    "partner_id",
    "method",
    "access_token",
    "session",
];

fn check_api_name(api_name: &str) -> Result<ApiKind, Error> {
    if api_name.is_empty()
        || api_name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::configuration(
            "an IOP API name must be non-empty and without spaces",
        ));
    }
    let kind = ApiKind::of(api_name);
    if kind == ApiKind::System && !api_name.starts_with('/') {
        return Err(Error::configuration(
            "an IOP system API name is a path starting with `/` (e.g. `/order/get`)",
        ));
    }
    Ok(kind)
}

fn check_param_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::configuration("an IOP parameter name is empty"));
    }
    if RESERVED.contains(&name) {
        return Err(Error::configuration(format!(
            "the IOP parameter `{name}` is set by the signer and cannot be given"
        )));
    }
    Ok(())
}

/// One IOP API call to sign with an access token.
///
/// Parameters are kept by name (setting a name again replaces its value);
/// empty values are neither sent nor signed.
///
/// ```
/// use oauth_aliexpress::{AliExpress, ApiRequest, Client};
/// use oauth_core::{AccessToken, AppSecret};
///
/// let app = AliExpress::new("12345678", AppSecret::new("app-secret"))
///     .redirect_uri("https://app.example/callback");
/// let client = Client::builder(app).build()?;
/// let signed = ApiRequest::new("aliexpress.solution.order.get")
///     .param("page_size", "20")
///     .sign(&client, &AccessToken::new("access-token"))?;
/// assert!(signed.url().as_str().starts_with(
///     "https://api-sg.aliexpress.com/sync?app_key=12345678&method=aliexpress.solution.order.get&sign_method=sha256&timestamp="
/// ));
/// assert_eq!(signed.body(), b"page_size=20&session=access-token");
/// let request: oauth_core::http_types::Request<Vec<u8>> = signed.into_http_request()?;
/// assert_eq!(request.method(), "POST");
/// # Ok::<(), oauth_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ApiRequest {
    api_name: String,
    params: BTreeMap<String, ParamValue>,
}

impl ApiRequest {
    /// A call of `api_name`: a path for system APIs (`/order/get`), a dotted
    /// name for business APIs (`aliexpress.solution.order.get`).
    pub fn new(api_name: impl Into<String>) -> Self {
        Self {
            api_name: api_name.into(),
            params: BTreeMap::new(),
        }
    }

    /// Sets a parameter (shown in `Debug`).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params
            .insert(name.into(), ParamValue::Plain(value.into()));
        self
    }

    /// Sets a parameter whose value is secret (redacted in `Debug`).
    pub fn secret_param(mut self, name: impl Into<String>, value: &str) -> Self {
        self.params.insert(
            name.into(),
            ParamValue::Secret(SecretString::from(value.to_owned())),
        );
        self
    }

    /// The API name.
    pub fn api_name(&self) -> &str {
        &self.api_name
    }

    /// System or business API.
    pub fn kind(&self) -> ApiKind {
        ApiKind::of(&self.api_name)
    }

    /// Signs the call with `token`, timestamped now on the client's clock
    /// ([`ClientExt::sign_api_request`], [`ApiAuth::sign`]).
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty token, an invalid API name (a
    /// system API name must start with `/`), an empty parameter name, or a
    /// parameter the signer sets itself (`app_key`, `timestamp`,
    /// `sign_method`, `sign`, `partner_id`, `method`, `access_token`,
    /// `session`).
    pub fn sign(&self, client: &Client, token: &AccessToken) -> Result<SignedApiRequest, Error> {
        client.sign_api_request(self, token)
    }
}

fn token_param(kind: ApiKind, token: &AccessToken) -> Result<(String, ParamValue), Error> {
    if token.expose_secret().trim().is_empty() {
        return Err(Error::configuration("the access token is empty"));
    }
    Ok((
        kind.token_param().to_owned(),
        ParamValue::Secret(SecretString::from(token.expose_secret().to_owned())),
    ))
}

/// A signed API call: `POST` to [`url`](Self::url) with the form
/// [`body`](Self::body) and `Content-Type:`
/// [`FORM_CONTENT_TYPE_UTF8`](crate::FORM_CONTENT_TYPE_UTF8).
///
/// The URL carries the signature and the body carries the access token:
/// log neither. `Debug` shows only the path and the body length.
#[derive(Clone)]
pub struct SignedApiRequest {
    url: Url,
    body: Vec<u8>,
}

impl fmt::Debug for SignedApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedApiRequest")
            .field("method", &"POST")
            .field("path", &self.url.path())
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl SignedApiRequest {
    /// The full URL, with the common parameters and `sign` in its query.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The form-encoded body (the API's parameters and the access token).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The `Content-Type` of the body.
    pub fn content_type(&self) -> &'static str {
        FORM_CONTENT_TYPE_UTF8
    }

    /// An [`http::Request`](http_types::Request) for any HTTP client.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the URL is not a valid `http` URI (it
    /// is not repeated in the error).
    pub fn into_http_request(self) -> Result<http_types::Request<Vec<u8>>, Error> {
        http_types::Request::builder()
            .method(Method::POST)
            .uri(self.url.as_str())
            .header(
                http_types::header::CONTENT_TYPE,
                HeaderValue::from_static(FORM_CONTENT_TYPE_UTF8),
            )
            .body(self.body)
            .map_err(|_| Error::configuration("the signed IOP request is not a valid HTTP request"))
    }
}

/// How an access token goes on an AliExpress API call: the client's
/// [`attachment`](oauth_core::Client::attachment) (its
/// [`Provider::Attachment`](oauth_core::Provider::Attachment)). It holds
/// what a signature needs: the app key, the signer, the `partner_id`, the
/// gateways of the client's environment and the client's clock (for the
/// `timestamp`).
///
/// As an [`AttachToken`], it signs a request whose parameters are all in
/// its query string. The API is read from the URI path: `.../rest/<path>`
/// is the system API `/<path>`; `.../sync?method=<name>` is the business
/// API `<name>`. The query's parameters are kept, the common ones, the
/// token (`access_token` or `session`) and `sign` are added, and the query
/// is rewritten (sorted, `sign` last). The body is not read: a request with
/// a form body must use [`ApiAuth::sign`] (or [`ApiRequest::sign`])
/// instead, or its signature will not match. The rewritten URI carries the
/// access token: do not log it.
///
/// `Debug` never shows the app secret.
#[derive(Clone)]
pub struct ApiAuth {
    settings: AliExpress,
    endpoints: Endpoints,
    clock: SharedClock,
}

impl fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuth")
            .field("app_key", self.settings.app_key())
            .field("signer", &self.settings.signer())
            .field("partner_id", &self.settings.partner_id_tag())
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl ApiAuth {
    pub(crate) fn new(settings: AliExpress, context: &AttachContext<'_>) -> Self {
        Self {
            settings,
            endpoints: context.endpoints.clone(),
            clock: SharedClock::clone(context.clock),
        }
    }

    /// Signs `request` with `token`, timestamped now on the client's clock:
    /// a POST to the API's gateway, the common parameters and `sign` in the
    /// query, the API's parameters and the token in a form body.
    ///
    /// # Errors
    /// As [`ApiRequest::sign`].
    pub fn sign(
        &self,
        request: &ApiRequest,
        token: &AccessToken,
    ) -> Result<SignedApiRequest, Error> {
        let kind = check_api_name(&request.api_name)?;
        let token = token_param(kind, token)?;
        let mut own = Vec::with_capacity(request.params.len() + 1);
        for (name, value) in &request.params {
            check_param_name(name)?;
            own.push((name.clone(), value.clone()));
        }
        own.push(token);
        let call = self.settings.signed_call(
            &request.api_name,
            own,
            Layout::QueryAndForm,
            self.clock.now(),
        )?;
        let url = gateway_url(&self.endpoints, &request.api_name)?;
        Ok(SignedApiRequest {
            url: with_query(url, &call.query),
            body: call.body.to_form_urlencoded().into_bytes(),
        })
    }
}

impl AttachToken for ApiAuth {
    fn attach(
        &self,
        token: &AccessToken,
        head: &mut http_types::request::Parts,
    ) -> Result<(), Error> {
        let mut url = Url::parse(&head.uri.to_string()).map_err(|_| {
            Error::configuration("the request URI must be absolute to be signed for AliExpress")
        })?;
        if token.expose_secret().trim().is_empty() {
            return Err(Error::configuration("the access token is empty"));
        }
        let mut method = None;
        let mut own = Vec::new();
        for (name, value) in url.query_pairs() {
            if name == "method" {
                method = Some(value.into_owned());
                continue;
            }
            check_param_name(&name)?;
            own.push((name.into_owned(), ParamValue::Plain(value.into_owned())));
        }
        let path = url.path().trim_end_matches('/');
        let api_name = if path.ends_with(SYNC_PATH) {
            method.ok_or_else(|| {
                Error::configuration("a `/sync` request needs the business API name in `method`")
            })?
        } else if let Some(at) = path.find("/rest/") {
            if method.is_some() {
                return Err(Error::configuration(
                    "a `/rest/<path>` request must not carry `method`",
                ));
            }
            path.get(at + "/rest".len()..)
                .unwrap_or_default()
                .to_owned()
        } else {
            return Err(Error::configuration(
                "the request path is neither `.../rest/<api path>` nor `.../sync`",
            ));
        };
        let kind = check_api_name(&api_name)?;
        own.push(token_param(kind, token)?);
        let call =
            self.settings
                .signed_call(&api_name, own, Layout::QueryOnly, self.clock.now())?;
        url.set_query(None);
        head.uri = with_query(url, &call.query)
            .as_str()
            .parse()
            .map_err(|_| Error::configuration("the signed request URI is not a valid HTTP URI"))?;
        Ok(())
    }
}
