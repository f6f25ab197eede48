//! The user-consent URL.

use crate::Ebay;
use oauth_core::{CsrfState, Scopes};

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

impl Ebay {
    /// The consent URL's parameters, in order:
    /// `client_id`, `redirect_uri` (the RuName), `response_type=code`,
    /// `scope` (the options' scopes or the settings', space-joined), `state`,
    /// then `prompt=login` and `locale` when asked for.
    pub(crate) fn consent_params(
        &self,
        state: &CsrfState,
        options: &ConsentOptions,
    ) -> Vec<(&'static str, String)> {
        let scopes = options.scopes.as_ref().unwrap_or(&self.scopes);
        let mut params = vec![
            ("client_id", self.client_id.as_str().to_owned()),
            ("redirect_uri", self.ru_name.clone()),
            ("response_type", "code".to_owned()),
            ("scope", scopes.join(" ")),
            ("state", state.as_str().to_owned()),
        ];
        if options.prompt_login {
            params.push(("prompt", "login".to_owned()));
        }
        if let Some(locale) = &options.locale {
            params.push(("locale", locale.clone()));
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, ClientExt};
    use oauth_core::ClientSecret;

    #[test]
    fn consent_url_is_exact() {
        let settings = Ebay::new("App-ID", ClientSecret::new("cert"))
            .ru_name("Example_Inc-Example-Test-abc")
            .scopes(Scopes::from([
                "https://api.ebay.com/oauth/api_scope",
                "https://api.ebay.com/oauth/api_scope/sell.inventory",
            ]));
        let client = Client::builder(settings).build().unwrap();
        let state = CsrfState::from_stored("st-1");
        assert_eq!(
            client.authorize_url(&state).unwrap().as_str(),
            "https://auth.ebay.com/oauth2/authorize?client_id=App-ID&redirect_uri=Example_Inc-Example-Test-abc&response_type=code&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%20https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory&state=st-1"
        );
        let with = client
            .authorize_url_with(
                &state,
                &ConsentOptions::new()
                    .prompt_login()
                    .locale("de-DE")
                    .scopes(Scopes::from(["x"])),
            )
            .unwrap();
        assert_eq!(
            with.query().unwrap(),
            "client_id=App-ID&redirect_uri=Example_Inc-Example-Test-abc&response_type=code&scope=x&state=st-1&prompt=login&locale=de-DE"
        );
    }
}
