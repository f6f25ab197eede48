//! The client (`oauth-core`'s, on [`Ebay`]) and eBay's own operations
//! ([`ClientExt`]): consent options, narrowed refresh, application tokens.

use crate::authorize::ConsentOptions;
use crate::config::check_scopes;
use crate::provider::CLIENT_CREDENTIALS;
use crate::token::{ApplicationToken, decode};
use crate::{Ebay, PROVIDER};
use oauth_core::url::Url;
use oauth_core::{
    ClientId, CsrfState, Error, IntoTokenSet, Provider, RefreshGrant, Scopes, SharedClock,
    TokenSet, async_trait, authorize_url,
};
use std::future::Future;
use std::time::Duration;

/// An eBay OAuth client: one keyset ([`Ebay`]) in one environment.
///
/// Cheap to clone (the settings are shared); `Debug` never shows the
/// secret. The common operations are `oauth-core`'s
/// ([`authorize_url`](oauth_core::Client::authorize_url),
/// [`exchange_code`](oauth_core::Client::exchange_code) →
/// [`TokenResponse`](crate::TokenResponse),
/// [`refresh`](oauth_core::Client::refresh),
/// [`attachment`](oauth_core::Client::attachment)); it implements
/// [`RefreshGrant`] and [`AuthorizationCodeGrant`](oauth_core::AuthorizationCodeGrant).
/// eBay's own are in [`ClientExt`].
pub type Client = oauth_core::Client<Ebay>;

/// Builds a [`Client`] from [`Ebay`] settings: [`environment`](oauth_core::ClientBuilder::environment)
/// (default [`Environment::Production`](crate::Environment::Production)),
/// [`http_client`](oauth_core::ClientBuilder::http_client),
/// [`clock`](oauth_core::ClientBuilder::clock); everything is checked once,
/// in [`build`](oauth_core::ClientBuilder::build).
pub type ClientBuilder = oauth_core::ClientBuilder<Ebay>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Client {}
}

/// eBay's own operations on a [`Client`], beside the common ones: bring it
/// into scope (`use oauth_ebay::ClientExt;`). Sealed: implemented for
/// [`Client`] only.
///
/// Every request goes through [`Client::send_token_request`](oauth_core::Client::send_token_request),
/// which stamps the receive time, scrubs echoed secrets from errors and
/// traces the outcome.
pub trait ClientExt: sealed::Sealed {
    /// The client id.
    fn client_id(&self) -> &ClientId;

    /// The RuName sent as `redirect_uri`.
    fn ru_name(&self) -> &str;

    /// The default (consent) scopes.
    fn scopes(&self) -> &Scopes;

    /// The scopes of application tokens.
    fn application_scopes(&self) -> &Scopes;

    /// The consent URL with optional `prompt=login`, `locale` or other
    /// scopes; without options it is [`authorize_url`](oauth_core::Client::authorize_url)'s:
    /// `<authorize>?client_id=..&redirect_uri=<RuName>&response_type=code&scope=..&state=..`,
    /// every value percent-encoded once (scopes joined by `%20`).
    ///
    /// # Errors
    /// [`Error::Configuration`] if the environment has no consent page
    /// (never, for eBay's endpoints).
    fn authorize_url_with(&self, state: &CsrfState, options: &ConsentOptions)
    -> Result<Url, Error>;

    /// Refreshes `current` for fewer scopes than it records (an access
    /// token for a narrower purpose). The result records `scopes`, keeps the
    /// refresh token and its original expiry.
    ///
    /// The scopes a token set records are those of its access token: a
    /// later default refresh of the returned set asks for `scopes` again;
    /// keep the original set to go back to the full consent.
    ///
    /// # Errors
    /// [`Error::Configuration`], before any request, when `scopes` is empty
    /// or asks for a scope that `current` does not record (widening needs
    /// a new consent); otherwise as [`refresh`](oauth_core::Client::refresh).
    fn refresh_narrowed(
        &self,
        current: &TokenSet,
        scopes: &Scopes,
    ) -> impl Future<Output = Result<TokenSet, Error>> + Send;

    /// Mints an application token (client-credentials grant) for the
    /// client's application scopes (by default
    /// `https://api.ebay.com/oauth/api_scope`).
    ///
    /// # Errors
    /// [`Error::InvalidClient`] for bad credentials; [`Error::InvalidScope`]
    /// for scopes the keyset lacks; any other classified failure.
    fn application_token(&self) -> impl Future<Output = Result<ApplicationToken, Error>> + Send;

    /// Mints an application token for `scopes`:
    /// `grant_type=client_credentials&scope=<scopes>`.
    ///
    /// # Errors
    /// [`Error::Configuration`] for empty scopes; otherwise as
    /// [`application_token`](Self::application_token).
    fn application_token_for(
        &self,
        scopes: &Scopes,
    ) -> impl Future<Output = Result<ApplicationToken, Error>> + Send;

    /// A [`RefreshGrant`] that keeps an application token fresh by minting
    /// new ones for the client's application scopes.
    fn application_token_grant(&self) -> ApplicationTokenGrant;
}

impl ClientExt for Client {
    fn client_id(&self) -> &ClientId {
        &self.provider().client_id
    }

    fn ru_name(&self) -> &str {
        &self.provider().ru_name
    }

    fn scopes(&self) -> &Scopes {
        &self.provider().scopes
    }

    fn application_scopes(&self) -> &Scopes {
        &self.provider().application_scopes
    }

    fn authorize_url_with(
        &self,
        state: &CsrfState,
        options: &ConsentOptions,
    ) -> Result<Url, Error> {
        let endpoint = self
            .endpoints()
            .authorize()
            .ok_or_else(|| Error::configuration("eBay has no consent page here"))?;
        let params = self.provider().consent_params(state, options);
        let pairs: Vec<_> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
        Ok(authorize_url(endpoint, &pairs))
    }

    async fn refresh_narrowed(
        &self,
        current: &TokenSet,
        scopes: &Scopes,
    ) -> Result<TokenSet, Error> {
        let ebay = self.provider();
        check_scopes(scopes, "refresh scopes")?;
        let granted = ebay.recorded_scopes(current);
        if !scopes.is_subset_of(granted) {
            tracing::debug!(
                provider = PROVIDER,
                grant = "refresh_token",
                "refusing to widen scopes on refresh"
            );
            return Err(Error::configuration(format!(
                "eBay refresh may only narrow scopes; not consented to: {}",
                scopes.difference(granted).join(" ")
            )));
        }
        let request = ebay.refresh_for(&self.request_context(), current, scopes)?;
        let response = self
            .send_token_request(&request, "refresh_token", |response, received_at| {
                decode(response, scopes, received_at)
            })
            .await?;
        Ok(ebay.refreshed(response, current))
    }

    async fn application_token(&self) -> Result<ApplicationToken, Error> {
        self.application_token_for(&self.provider().application_scopes)
            .await
    }

    async fn application_token_for(&self, scopes: &Scopes) -> Result<ApplicationToken, Error> {
        let request = self
            .provider()
            .client_credentials(&self.request_context(), scopes)?;
        self.send_token_request(&request, CLIENT_CREDENTIALS, |response, received_at| {
            decode(response, scopes, received_at).map(ApplicationToken::from)
        })
        .await
    }

    fn application_token_grant(&self) -> ApplicationTokenGrant {
        ApplicationTokenGrant {
            client: self.clone(),
            scopes: self.provider().application_scopes.clone(),
        }
    }
}

/// Application tokens for the token lifecycle: "refreshing" mints a new
/// application token (client-credentials grant); the current token set,
/// which has no refresh token, is not used.
///
/// Made by [`ClientExt::application_token_grant`] or [`ApplicationTokenGrant::new`].
#[derive(Clone, Debug)]
pub struct ApplicationTokenGrant {
    client: Client,
    scopes: Scopes,
}

impl ApplicationTokenGrant {
    /// Application tokens for `scopes`, minted by `client`.
    ///
    /// # Errors
    /// [`Error::Configuration`] for empty scopes or a scope with
    /// whitespace.
    pub fn new(client: Client, scopes: Scopes) -> Result<Self, Error> {
        check_scopes(&scopes, "application scopes")?;
        Ok(Self { client, scopes })
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// Mints an application token as a [`TokenSet`] (the first one, or any
    /// later one).
    ///
    /// # Errors
    /// As [`ClientExt::application_token`].
    pub async fn fetch(&self) -> Result<TokenSet, Error> {
        let token = self.client.application_token_for(&self.scopes).await?;
        Ok(token.into_token_set())
    }
}

#[async_trait]
impl RefreshGrant for ApplicationTokenGrant {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    async fn refresh(&self, _current: &TokenSet) -> Result<TokenSet, Error> {
        self.fetch().await
    }

    /// Application tokens need no consent: the first one is minted like
    /// every later one.
    async fn fetch_initial(&self) -> Option<Result<TokenSet, Error>> {
        Some(self.fetch().await)
    }

    fn default_refresh_skew(&self) -> Duration {
        self.client.provider().default_refresh_skew()
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        RefreshGrant::max_refresh_duration(&self.client)
    }

    /// The client's clock, which stamps the tokens minted.
    fn clock(&self) -> SharedClock {
        RefreshGrant::clock(&self.client)
    }

    fn rotates_refresh_token(&self) -> bool {
        false
    }
}
