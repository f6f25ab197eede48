//! The token requests (code exchange, refresh, client credentials), as
//! data: no I/O.

use crate::config::check_scopes;
use crate::{Ebay, PROVIDER};
use oauth_core::{
    AuthorizationCode, Error, Params, ProviderDetails, RequestContext, Scopes, TokenRequest,
    TokenSet,
};

impl Ebay {
    /// A `POST` to the token endpoint with Basic client authentication and
    /// a form body.
    fn token_request(
        &self,
        context: &RequestContext<'_>,
        grant: &'static str,
        form: Params,
    ) -> TokenRequest {
        TokenRequest::post(PROVIDER, grant, context.endpoints.token().clone())
            .basic_auth(self.client_id.as_str(), &self.client_secret)
            .form(form)
    }

    /// `grant_type=authorization_code&code=<code>&redirect_uri=<RuName>`,
    /// the code form-encoded once. Never retried: a code may be used once.
    pub(crate) fn code_exchange(
        &self,
        context: &RequestContext<'_>,
        code: &AuthorizationCode,
    ) -> TokenRequest {
        let form = Params::new()
            .plain("grant_type", "authorization_code")
            .secret("code", code.expose_secret())
            .plain("redirect_uri", self.ru_name.clone());
        self.token_request(context, "authorization_code", form)
            .retry_safe(false)
    }

    /// The scopes a token set records, or the settings' when it records
    /// none (sets made before scopes were recorded).
    pub(crate) fn recorded_scopes<'a>(&'a self, current: &'a TokenSet) -> &'a Scopes {
        if current.scopes.is_empty() {
            &self.scopes
        } else {
            &current.scopes
        }
    }

    /// `grant_type=refresh_token&refresh_token=<rt>&scope=<scopes>`: the
    /// refresh of `current` for exactly `scopes`. Safe to retry (eBay does
    /// not rotate refresh tokens).
    pub(crate) fn refresh_for(
        &self,
        context: &RequestContext<'_>,
        current: &TokenSet,
        scopes: &Scopes,
    ) -> Result<TokenRequest, Error> {
        let refresh_token = current
            .refresh_token
            .as_ref()
            .ok_or_else(no_refresh_token)?;
        check_scopes(scopes, "refresh scopes")?;
        if refresh_token.is_empty() {
            return Err(no_refresh_token());
        }
        let form = Params::new()
            .plain("grant_type", "refresh_token")
            .secret("refresh_token", refresh_token.expose_secret())
            .plain("scope", scopes.join(" "));
        Ok(self
            .token_request(context, "refresh_token", form)
            .retry_safe(true))
    }

    /// `grant_type=client_credentials&scope=<scopes>`: an application
    /// token. Safe to retry.
    pub(crate) fn client_credentials(
        &self,
        context: &RequestContext<'_>,
        scopes: &Scopes,
    ) -> Result<TokenRequest, Error> {
        check_scopes(scopes, "application scopes")?;
        let form = Params::new()
            .plain("grant_type", "client_credentials")
            .plain("scope", scopes.join(" "));
        Ok(self
            .token_request(context, "client_credentials", form)
            .retry_safe(true))
    }
}

fn no_refresh_token() -> Error {
    Error::ReauthorizationRequired {
        details: ProviderDetails::new(PROVIDER)
            .with_message("the token set has no refresh token: the user must consent again"),
    }
}
