//! The user-consent URL.

use crate::config::Client;
use oauth_core::url::Url;
use oauth_core::{CsrfState, Scopes, authorize_url};

/// Optional parameters of the consent page.
///
/// ```
/// use oauth_ebay::ConsentOptions;
/// let options = ConsentOptions::new().prompt_login().locale("de-DE");
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsentOptions {
    prompt_login: bool,
    locale: Option<String>,
    scopes: Option<Scopes>,
}

impl ConsentOptions {
    /// No options: the client's scopes, eBay's default login behaviour.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `prompt=login`: the user must sign in again even with a live
    /// eBay session (useful to switch seller accounts).
    pub fn prompt_login(mut self) -> Self {
        self.prompt_login = true;
        self
    }

    /// Sends `locale=<locale>` (e.g. `de-DE`) to choose the language of the
    /// consent page.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        let locale = locale.into();
        self.locale = (!locale.trim().is_empty()).then_some(locale);
        self
    }

    /// Asks for these scopes instead of the client's (ignored when empty).
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = (!scopes.is_empty()).then_some(scopes);
        self
    }
}

impl Client {
    /// The consent URL for the client's scopes:
    /// `<authorize>?client_id=..&redirect_uri=<RuName>&response_type=code&scope=..&state=..`,
    /// every value percent-encoded once (scopes joined by `%20`).
    pub fn consent_url(&self, state: &CsrfState) -> Url {
        self.consent_url_with(state, &ConsentOptions::new())
    }

    /// The consent URL with optional `prompt=login`, `locale` or other
    /// scopes.
    pub fn consent_url_with(&self, state: &CsrfState, options: &ConsentOptions) -> Url {
        let scopes = options.scopes.as_ref().unwrap_or(&self.inner.scopes);
        let scope = scopes.join(" ");
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", self.inner.client_id.as_str()),
            ("redirect_uri", &self.inner.ru_name),
            ("response_type", "code"),
            ("scope", &scope),
            ("state", state.as_str()),
        ];
        if options.prompt_login {
            params.push(("prompt", "login"));
        }
        if let Some(locale) = &options.locale {
            params.push(("locale", locale));
        }
        authorize_url(&self.inner.authorize_endpoint, &params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::ClientSecret;

    #[test]
    fn consent_url_is_exact() {
        let client = Client::builder("App-ID", ClientSecret::new("cert"))
            .ru_name("Example_Inc-Example-Test-abc")
            .scopes(Scopes::from([
                "https://api.ebay.com/oauth/api_scope",
                "https://api.ebay.com/oauth/api_scope/sell.inventory",
            ]))
            .build()
            .unwrap();
        let state = CsrfState::from_stored("st-1");
        assert_eq!(
            client.consent_url(&state).as_str(),
            "https://auth.ebay.com/oauth2/authorize?client_id=App-ID&redirect_uri=Example_Inc-Example-Test-abc&response_type=code&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%20https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory&state=st-1"
        );
        let with = client.consent_url_with(
            &state,
            &ConsentOptions::new()
                .prompt_login()
                .locale("de-DE")
                .scopes(Scopes::from(["x"])),
        );
        assert_eq!(
            with.query().unwrap(),
            "client_id=App-ID&redirect_uri=Example_Inc-Example-Test-abc&response_type=code&scope=x&state=st-1&prompt=login&locale=de-DE"
        );
    }
}
