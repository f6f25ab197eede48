//! The token requests (code exchange, refresh, client credentials) and the
//! grant traits.

use crate::PROVIDER;
use crate::config::{Client, check_scopes};
use crate::token::{ApplicationToken, UserToken, decode_application_token, decode_token_response};
use oauth_core::url::Url;
use oauth_core::{
    AuthorizationCode, AuthorizationCodeGrant, CsrfState, Error, Params, ProviderDetails,
    RawResponse, RefreshGrant, RefreshToken, Scopes, TokenRequest, TokenSet, async_trait,
};
use std::time::Duration;

impl Client {
    /// A `POST` to the token endpoint with Basic client authentication and
    /// a form body.
    fn token_request(&self, grant: &'static str, form: Params) -> TokenRequest {
        TokenRequest::post(PROVIDER, grant, self.inner.token_endpoint.clone())
            .basic_auth(self.inner.client_id.as_str(), &self.inner.client_secret)
            .form(form)
    }

    /// Sends `request` and notes when the answer arrived.
    async fn send(
        &self,
        request: &TokenRequest,
    ) -> Result<(RawResponse, std::time::SystemTime), Error> {
        let response = self.inner.http.send(request).await?;
        Ok((response, self.inner.clock.now()))
    }

    /// Exchanges the authorization code from the callback (as returned by
    /// [`oauth_core::parse_callback`], decoded once) for a user token:
    /// `grant_type=authorization_code&code=<code>&redirect_uri=<RuName>`,
    /// the code form-encoded once.
    ///
    /// Not retried after a 5xx or timeout: a code may be used once.
    ///
    /// # Errors
    /// [`Error::ReauthorizationRequired`] for an invalid, expired or used
    /// code; [`Error::InvalidClient`] for bad credentials; any other
    /// classified failure.
    pub async fn exchange_code_for_user_token(
        &self,
        code: &AuthorizationCode,
    ) -> Result<UserToken, Error> {
        if code.is_empty() {
            return Err(Error::configuration("the authorization code is empty"));
        }
        let form = Params::new()
            .plain("grant_type", "authorization_code")
            .secret("code", code.expose_secret())
            .plain("redirect_uri", self.inner.ru_name.clone());
        let request = self
            .token_request("authorization_code", form)
            .retry_safe(false);
        let (response, now) = self.send(&request).await?;
        decode_token_response(&response, &self.inner.scopes, now)
            .map_err(|e| response.scrub_error(e))
    }

    /// Refreshes a user access token for exactly `scopes` (they must be
    /// among those the user consented to):
    /// `grant_type=refresh_token&refresh_token=<rt>&scope=<scopes>`.
    ///
    /// The answer carries no refresh token (eBay does not rotate it). Most
    /// callers want [`RefreshGrant::refresh`] or
    /// [`refresh_narrowed`](Self::refresh_narrowed), which keep the refresh
    /// token and check the scopes.
    ///
    /// # Errors
    /// [`Error::Configuration`] for empty scopes (before any request);
    /// [`Error::ReauthorizationRequired`] for an invalid, expired or revoked
    /// refresh token; [`Error::InvalidScope`] naming `scopes`; any other
    /// classified failure.
    pub async fn refresh_user_token(
        &self,
        refresh_token: &RefreshToken,
        scopes: &Scopes,
    ) -> Result<UserToken, Error> {
        check_scopes(scopes, "refresh scopes")?;
        if refresh_token.is_empty() {
            return Err(no_refresh_token());
        }
        let form = Params::new()
            .plain("grant_type", "refresh_token")
            .secret("refresh_token", refresh_token.expose_secret())
            .plain("scope", scopes.join(" "));
        let request = self.token_request("refresh_token", form).retry_safe(true);
        let (response, now) = self.send(&request).await?;
        decode_token_response(&response, scopes, now).map_err(|e| response.scrub_error(e))
    }

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
    /// a new consent); otherwise as [`refresh_user_token`](Self::refresh_user_token).
    pub async fn refresh_narrowed(
        &self,
        current: &TokenSet,
        scopes: &Scopes,
    ) -> Result<TokenSet, Error> {
        check_scopes(scopes, "refresh scopes")?;
        let granted = self.recorded_scopes(current);
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
        self.refresh_for(current, scopes).await
    }

    /// The scopes a token set records, or the client's when it records none
    /// (sets made before scopes were recorded).
    fn recorded_scopes<'a>(&'a self, current: &'a TokenSet) -> &'a Scopes {
        if current.scopes.is_empty() {
            &self.inner.scopes
        } else {
            &current.scopes
        }
    }

    async fn refresh_for(&self, current: &TokenSet, scopes: &Scopes) -> Result<TokenSet, Error> {
        let refresh_token = current
            .refresh_token
            .as_ref()
            .ok_or_else(no_refresh_token)?;
        let token = self.refresh_user_token(refresh_token, scopes).await?;
        Ok(token.into_token_set(scopes.clone()).merge_previous(current))
    }

    /// Mints an application token (client-credentials grant) for the
    /// client's application scopes (by default
    /// `https://api.ebay.com/oauth/api_scope`).
    ///
    /// # Errors
    /// [`Error::InvalidClient`] for bad credentials; [`Error::InvalidScope`]
    /// for scopes the keyset lacks; any other classified failure.
    pub async fn application_token(&self) -> Result<ApplicationToken, Error> {
        self.application_token_for(&self.inner.application_scopes)
            .await
    }

    /// Mints an application token for `scopes`:
    /// `grant_type=client_credentials&scope=<scopes>`.
    ///
    /// # Errors
    /// [`Error::Configuration`] for empty scopes; otherwise as
    /// [`application_token`](Self::application_token).
    pub async fn application_token_for(&self, scopes: &Scopes) -> Result<ApplicationToken, Error> {
        check_scopes(scopes, "application scopes")?;
        let form = Params::new()
            .plain("grant_type", "client_credentials")
            .plain("scope", scopes.join(" "));
        let request = self
            .token_request("client_credentials", form)
            .retry_safe(true);
        let (response, now) = self.send(&request).await?;
        decode_application_token(&response, scopes, now).map_err(|e| response.scrub_error(e))
    }

    /// A [`RefreshGrant`] that keeps an application token fresh by minting
    /// new ones for the client's application scopes.
    pub fn application_token_grant(&self) -> ApplicationTokenGrant {
        ApplicationTokenGrant {
            client: self.clone(),
            scopes: self.inner.application_scopes.clone(),
        }
    }
}

fn no_refresh_token() -> Error {
    Error::ReauthorizationRequired {
        details: ProviderDetails::new(PROVIDER)
            .with_message("the token set has no refresh token: the user must consent again"),
    }
}

/// The user-token refresh: scopes are those the token set records (or the
/// client's default scopes when it records none); the refresh token and its
/// expiry are kept, since eBay does not rotate it.
#[async_trait]
impl RefreshGrant for Client {
    fn provider(&self) -> &'static str {
        PROVIDER
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        self.refresh_for(current, self.recorded_scopes(current))
            .await
    }

    fn max_refresh_duration(&self) -> Option<Duration> {
        Some(self.inner.http.max_send_duration())
    }

    fn rotates_refresh_token(&self) -> bool {
        false
    }
}

#[async_trait]
impl AuthorizationCodeGrant for Client {
    fn authorize_url(&self, state: &CsrfState) -> Url {
        self.consent_url(state)
    }

    /// The code exchange as a [`TokenSet`] recording the client's scopes.
    async fn exchange_code(&self, code: &AuthorizationCode) -> Result<TokenSet, Error> {
        let token = self.exchange_code_for_user_token(code).await?;
        Ok(token.into_token_set(self.inner.scopes.clone()))
    }
}

/// Application tokens for the token lifecycle: "refreshing" mints a new
/// application token (client-credentials grant); the current token set,
/// which has no refresh token, is not used.
///
/// Made by [`Client::application_token_grant`] or [`ApplicationTokenGrant::new`].
#[derive(Clone, Debug)]
pub struct ApplicationTokenGrant {
    client: Client,
    scopes: Scopes,
}

impl ApplicationTokenGrant {
    /// Application tokens for `scopes`.
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
    /// As [`Client::application_token`].
    pub async fn fetch(&self) -> Result<TokenSet, Error> {
        let token = self.client.application_token_for(&self.scopes).await?;
        Ok(token.into_token_set(self.scopes.clone()))
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

    fn max_refresh_duration(&self) -> Option<Duration> {
        Some(self.client.inner.http.max_send_duration())
    }

    fn rotates_refresh_token(&self) -> bool {
        false
    }
}
