//! The eBay settings ([`Ebay`]): a keyset, its RuName and scopes, checked
//! once when the client is built; the endpoints of each environment.

use crate::PROVIDER;
use oauth_core::{ClientId, ClientSecret, Endpoints, Environment, Error, Scope, Scopes};

/// Path of the consent page under the authorize host.
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
/// Path of the token endpoint under the API host.
pub const TOKEN_PATH: &str = "/identity/v1/oauth2/token";
/// The scope every keyset may request for an application token, and the
/// default scope of [`ClientExt::application_token`](crate::ClientExt::application_token).
pub const API_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";

const PRODUCTION_AUTHORIZE_HOST: &str = "https://auth.ebay.com";
const PRODUCTION_API_HOST: &str = "https://api.ebay.com";
const SANDBOX_AUTHORIZE_HOST: &str = "https://auth.sandbox.ebay.com";
const SANDBOX_API_HOST: &str = "https://api.sandbox.ebay.com";

/// An eBay keyset and what is particular to it: the settings of a
/// [`Client`](crate::Client), which implements [`oauth_core::Provider`].
///
/// Required: client id (eBay "App ID"), client secret ("Cert ID") (both
/// in [`new`](Self::new)), the [RuName](Self::ru_name) and at least one
/// [scope](Self::scopes). Default application scopes: `[API_SCOPE]`.
/// Everything is checked once, when the client is built.
///
/// Where the endpoints live, per [`Environment`]:
///
/// | | consent page | token endpoint |
/// |---|---|---|
/// | `Production` | `https://auth.ebay.com/oauth2/authorize` | `https://api.ebay.com/identity/v1/oauth2/token` |
/// | `Sandbox` | `https://auth.sandbox.ebay.com/oauth2/authorize` | `https://api.sandbox.ebay.com/identity/v1/oauth2/token` |
/// | `Custom(base)` | `<base>/oauth2/authorize` | `<base>/identity/v1/oauth2/token` |
///
/// Sandbox and production keysets are distinct: a sandbox client id is
/// refused by production and the other way round.
///
/// `Debug` never shows the secret.
#[derive(Clone, Debug)]
pub struct Ebay {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    pub(crate) ru_name: String,
    pub(crate) scopes: Scopes,
    pub(crate) application_scopes: Scopes,
}

impl Ebay {
    /// The settings of the keyset with this client id ("App ID") and
    /// client secret ("Cert ID").
    pub fn new(client_id: impl Into<ClientId>, client_secret: ClientSecret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            ru_name: String::new(),
            scopes: Scopes::new(),
            application_scopes: Scopes::from([API_SCOPE]),
        }
    }

    /// The RuName (eBay "redirect URL name") registered for the keyset. It is
    /// sent as `redirect_uri`, in place of a URL.
    pub fn ru_name(mut self, ru_name: impl Into<String>) -> Self {
        self.ru_name = ru_name.into();
        self
    }

    /// The scopes asked for on the consent page (and, by default, on
    /// refresh when a token set records none).
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The scopes of application tokens (client-credentials grant); by
    /// default [`API_SCOPE`] alone.
    pub fn application_scopes(mut self, scopes: Scopes) -> Self {
        self.application_scopes = scopes;
        self
    }

    /// Checks the settings ([`Provider::validate`](oauth_core::Provider::validate)).
    pub(crate) fn check(&self) -> Result<(), Error> {
        let id = self.client_id.as_str();
        if id.trim().is_empty() {
            return Err(Error::configuration("eBay client id (App ID) is empty"));
        }
        if id.contains(':') || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::configuration(
                "eBay client id (App ID) must not contain `:`, whitespace or control characters",
            ));
        }
        if self.client_secret.expose_secret().trim().is_empty() {
            return Err(Error::configuration(
                "eBay client secret (Cert ID) is empty",
            ));
        }
        if self.ru_name.trim().is_empty() {
            return Err(Error::configuration(
                "eBay RuName is missing: set it with Ebay::ru_name",
            ));
        }
        if self
            .ru_name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::configuration(
                "eBay RuName must not contain whitespace or control characters",
            ));
        }
        check_scopes(&self.scopes, "scopes")?;
        check_scopes(&self.application_scopes, "application scopes")
    }

    /// The endpoints in `environment` ([`Provider::endpoints`](oauth_core::Provider::endpoints)).
    pub(crate) fn endpoints_in(environment: &Environment) -> Result<Endpoints, Error> {
        let authorize = environment.base(
            PROVIDER,
            PRODUCTION_AUTHORIZE_HOST,
            Some(SANDBOX_AUTHORIZE_HOST),
        )?;
        let api = environment.base(PROVIDER, PRODUCTION_API_HOST, Some(SANDBOX_API_HOST))?;
        Ok(Endpoints::new(api.join_path(TOKEN_PATH))
            .with_authorize(authorize.join_path(AUTHORIZE_PATH))
            .with_api(api.as_url().clone()))
    }
}

/// Refuses an empty scope list and scopes that are blank or carry
/// whitespace (they would split into several scopes on the wire).
pub(crate) fn check_scopes(scopes: &Scopes, what: &str) -> Result<(), Error> {
    if scopes.is_empty() {
        return Err(Error::configuration(format!(
            "eBay {what}: at least one scope is required"
        )));
    }
    if scopes.iter().any(|s: &Scope| {
        s.as_str().is_empty()
            || s.as_str()
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
    }) {
        return Err(Error::configuration(format!(
            "eBay {what}: a scope is empty or contains whitespace"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    fn ebay() -> Ebay {
        Ebay::new("App-ID-1", ClientSecret::new("cert-1"))
            .ru_name("Example-RuName")
            .scopes(Scopes::from([API_SCOPE]))
    }

    #[test]
    fn environments_have_the_documented_endpoints() {
        let cases = [
            (
                Environment::Production,
                "https://auth.ebay.com/oauth2/authorize",
                "https://api.ebay.com/identity/v1/oauth2/token",
            ),
            (
                Environment::Sandbox,
                "https://auth.sandbox.ebay.com/oauth2/authorize",
                "https://api.sandbox.ebay.com/identity/v1/oauth2/token",
            ),
            (
                Environment::custom("http://127.0.0.1:8080/ebay/").unwrap(),
                "http://127.0.0.1:8080/ebay/oauth2/authorize",
                "http://127.0.0.1:8080/ebay/identity/v1/oauth2/token",
            ),
        ];
        for (env, authorize, token) in cases {
            let client = Client::builder(ebay()).environment(env).build().unwrap();
            let endpoints = client.endpoints();
            assert_eq!(endpoints.authorize().unwrap().as_str(), authorize);
            assert_eq!(endpoints.token().as_str(), token);
        }
    }

    #[test]
    fn custom_refuses_plain_http_off_loopback() {
        let err = Environment::custom("http://proxy.example.com").unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }));
    }

    #[test]
    fn builder_validates_once() {
        assert!(Client::builder(ebay()).build().is_ok());
        let bad = [
            Ebay::new("", ClientSecret::new("x"))
                .ru_name("r")
                .scopes(Scopes::from(["s"])),
            Ebay::new("a:b", ClientSecret::new("x"))
                .ru_name("r")
                .scopes(Scopes::from(["s"])),
            Ebay::new("a", ClientSecret::new(" "))
                .ru_name("r")
                .scopes(Scopes::from(["s"])),
            Ebay::new("a", ClientSecret::new("x")).scopes(Scopes::from(["s"])),
            Ebay::new("a", ClientSecret::new("x"))
                .ru_name("r r")
                .scopes(Scopes::from(["s"])),
            Ebay::new("a", ClientSecret::new("x")).ru_name("r"),
            Ebay::new("a", ClientSecret::new("x"))
                .ru_name("r")
                .scopes(Scopes::from(["s t"])),
            ebay().application_scopes(Scopes::new()),
        ];
        for settings in bad {
            let err = Client::builder(settings).build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let settings = Ebay::new("id", ClientSecret::new("SENTINEL-cert"))
            .ru_name("r")
            .scopes(Scopes::from(["s"]));
        let builder = Client::builder(settings);
        assert!(!format!("{builder:?}").contains("SENTINEL"));
        let client = builder.build().unwrap();
        let text = format!("{client:?} {client:#?}");
        assert!(!text.contains("SENTINEL"), "{text}");
        assert!(text.contains("ClientSecret([REDACTED])"), "{text}");
    }
}
