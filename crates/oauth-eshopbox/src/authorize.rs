//! The authorize URL of Eshopbox *partner* apps.
//!
//! Partner apps (listed on Eshopbox's app store and installed by other
//! workspaces) send the workspace admin to an authorize page:
//!
//! ```text
//! https://partners.myeshopbox.com/installation/authorize?client_id=...&scope=<comma-separated>&redirect_uri=...&state=...&audience=...&response_type=code
//! ```
//!
//! **The exchange of the code that comes back is not documented** in any
//! source we have (Eshopbox documents only the refresh grant of custom
//! apps). This crate therefore builds the URL and stops there: there is no
//! code-exchange method and [`Client`](crate::Client) does not implement
//! [`AuthorizationCodeGrant`](oauth_core::AuthorizationCodeGrant). Parse the
//! callback with [`oauth_core::parse_callback`] and exchange the code as
//! Eshopbox's partner team tells you.

use oauth_core::url::Url;
use oauth_core::{ClientId, CsrfState, EndpointUrl, Error, Scopes, authorize_url};
use std::fmt;

/// The partner-app authorize page.
pub const PARTNER_AUTHORIZE_URL: &str = "https://partners.myeshopbox.com/installation/authorize";

/// Builds partner-app authorize URLs.
///
/// Only the authorize URL is documented by Eshopbox: **there is no
/// documented code exchange** for partner apps, so this crate has no
/// exchange method. Parse the callback with [`oauth_core::parse_callback`]
/// and exchange the code as Eshopbox's partner team tells you.
///
/// ```
/// use oauth_core::{CsrfState, Scopes};
/// use oauth_eshopbox::PartnerAuthorization;
///
/// let partner = PartnerAuthorization::builder("my-client-id", "https://app.example/eshopbox/callback")
///     .scopes(Scopes::from(["orders:read", "inventory:write"]))
///     .audience("https://wms.myeshopbox.com")
///     .build()?;
/// let state = CsrfState::from_stored("s-1");
/// assert_eq!(
///     partner.authorize_url(&state).as_str(),
///     "https://partners.myeshopbox.com/installation/authorize?client_id=my-client-id\
///      &scope=orders%3Aread%2Cinventory%3Awrite\
///      &redirect_uri=https%3A%2F%2Fapp.example%2Feshopbox%2Fcallback\
///      &state=s-1&audience=https%3A%2F%2Fwms.myeshopbox.com&response_type=code"
/// );
/// # Ok::<(), oauth_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PartnerAuthorization {
    endpoint: EndpointUrl,
    client_id: ClientId,
    redirect_uri: String,
    scopes: Scopes,
    audience: Option<String>,
}

impl fmt::Debug for PartnerAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerAuthorization")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("audience", &self.audience)
            .finish()
    }
}

/// Builds a [`PartnerAuthorization`], validating once.
#[derive(Debug, Clone)]
pub struct PartnerAuthorizationBuilder {
    endpoint: Option<EndpointUrl>,
    client_id: ClientId,
    redirect_uri: String,
    scopes: Scopes,
    audience: Option<String>,
}

impl PartnerAuthorization {
    /// Starts a builder for the partner app `client_id`, redirecting back to
    /// `redirect_uri` (exactly as registered with Eshopbox: it is sent as
    /// given).
    pub fn builder(
        client_id: impl Into<ClientId>,
        redirect_uri: impl Into<String>,
    ) -> PartnerAuthorizationBuilder {
        PartnerAuthorizationBuilder {
            endpoint: None,
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Scopes::new(),
            audience: None,
        }
    }

    /// The URL to send the workspace admin to: `client_id`, `scope`
    /// (comma-separated; omitted when no scope is set), `redirect_uri`,
    /// `state`, `audience` (omitted when not set) and `response_type=code`,
    /// in that order, each percent-encoded once (RFC 3986).
    pub fn authorize_url(&self, state: &CsrfState) -> Url {
        let scope = self.scopes.join(",");
        let mut params: Vec<(&str, &str)> = vec![("client_id", self.client_id.as_str())];
        if !scope.is_empty() {
            params.push(("scope", &scope));
        }
        params.push(("redirect_uri", &self.redirect_uri));
        params.push(("state", state.as_str()));
        if let Some(audience) = &self.audience {
            params.push(("audience", audience));
        }
        params.push(("response_type", "code"));
        authorize_url(self.endpoint.as_url(), &params)
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The redirect URI, as sent.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
}

impl PartnerAuthorizationBuilder {
    /// The scopes to request (sent comma-separated).
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The `audience` parameter (the API the token is for), as Eshopbox
    /// gives it to the partner.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Another authorize page (a local emulator); default
    /// [`PARTNER_AUTHORIZE_URL`].
    pub fn endpoint(mut self, endpoint: EndpointUrl) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty client id, a redirect URI that
    /// is not an absolute `https` (or `http`) URL without fragment, a scope
    /// that is empty or contains a comma or whitespace (it would change the
    /// list), or an empty audience.
    pub fn build(self) -> Result<PartnerAuthorization, Error> {
        if self.client_id.as_str().trim().is_empty() {
            return Err(Error::configuration("eshopbox: the client id is empty"));
        }
        let redirect = Url::parse(self.redirect_uri.trim()).map_err(|_| {
            Error::configuration("eshopbox: the redirect URI is not an absolute URL")
        })?;
        if !matches!(redirect.scheme(), "https" | "http") || redirect.fragment().is_some() {
            return Err(Error::configuration(
                "eshopbox: the redirect URI must be an http(s) URL without fragment",
            ));
        }
        if self.scopes.iter().any(|s| {
            s.as_str().is_empty() || s.as_str().contains(|c: char| c == ',' || c.is_whitespace())
        }) {
            return Err(Error::configuration(
                "eshopbox: a scope is empty or contains a comma or whitespace",
            ));
        }
        if self
            .audience
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(Error::configuration("eshopbox: the audience is empty"));
        }
        let endpoint = match self.endpoint {
            Some(endpoint) => endpoint,
            None => EndpointUrl::parse(PARTNER_AUTHORIZE_URL)?,
        };
        Ok(PartnerAuthorization {
            endpoint,
            client_id: self.client_id,
            redirect_uri: self.redirect_uri.trim().to_owned(),
            scopes: self.scopes,
            audience: self.audience,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn minimal_url_omits_scope_and_audience() {
        let partner = PartnerAuthorization::builder("cid", "http://localhost:8080/cb?x=1")
            .build()
            .unwrap();
        let url = partner.authorize_url(&CsrfState::from_stored("a+b"));
        assert_eq!(
            url.as_str(),
            "https://partners.myeshopbox.com/installation/authorize?client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb%3Fx%3D1&state=a%2Bb&response_type=code"
        );
    }

    #[test]
    fn custom_endpoint_and_round_trip() {
        let partner = PartnerAuthorization::builder("cid", "https://app.example/cb")
            .scopes(Scopes::from(["a", "b:c"]))
            .audience("aud ience")
            .endpoint(EndpointUrl::parse("http://127.0.0.1:1/authorize").unwrap())
            .build()
            .unwrap();
        let url = partner.authorize_url(&CsrfState::from_stored("s"));
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let expected: Vec<(String, String)> = [
            ("client_id", "cid"),
            ("scope", "a,b:c"),
            ("redirect_uri", "https://app.example/cb"),
            ("state", "s"),
            ("audience", "aud ience"),
            ("response_type", "code"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, expected);
        assert!(url.as_str().starts_with("http://127.0.0.1:1/authorize?"));
        assert!(url.as_str().contains("audience=aud%20ience"));
    }

    #[test]
    fn invalid_settings_are_refused() {
        let cases = [
            PartnerAuthorization::builder("", "https://a.example/cb"),
            PartnerAuthorization::builder("c", "/cb"),
            PartnerAuthorization::builder("c", "ftp://a.example/cb"),
            PartnerAuthorization::builder("c", "https://a.example/cb#x"),
            PartnerAuthorization::builder("c", "https://a.example/cb")
                .scopes(Scopes::from(["a,b"])),
            PartnerAuthorization::builder("c", "https://a.example/cb").audience(" "),
        ];
        for case in cases {
            let err = case.build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }
}
