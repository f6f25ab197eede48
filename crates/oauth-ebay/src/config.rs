//! Environments, the client builder and the client.

use oauth_core::url::Url;
use oauth_core::{
    ClientId, ClientSecret, EndpointUrl, Error, HttpClient, Scope, Scopes, SharedClock,
    system_clock,
};
use std::fmt;
use std::sync::Arc;

/// Path of the consent page under the authorize host.
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
/// Path of the token endpoint under the API host.
pub const TOKEN_PATH: &str = "/identity/v1/oauth2/token";
/// The scope every keyset may request for an application token, and the
/// default scope of [`Client::application_token`](crate::Client::application_token).
pub const API_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";

const PRODUCTION_AUTHORIZE_HOST: &str = "https://auth.ebay.com";
const PRODUCTION_API_HOST: &str = "https://api.ebay.com";
const SANDBOX_AUTHORIZE_HOST: &str = "https://auth.sandbox.ebay.com";
const SANDBOX_API_HOST: &str = "https://api.sandbox.ebay.com";

/// Where the eBay endpoints live.
///
/// | | consent page | token endpoint |
/// |---|---|---|
/// | `Production` | `https://auth.ebay.com/oauth2/authorize` | `https://api.ebay.com/identity/v1/oauth2/token` |
/// | `Sandbox` | `https://auth.sandbox.ebay.com/oauth2/authorize` | `https://api.sandbox.ebay.com/identity/v1/oauth2/token` |
/// | `Custom` | `<authorize>/oauth2/authorize` | `<api>/identity/v1/oauth2/token` |
///
/// Sandbox and production keysets are distinct: a sandbox client id is
/// refused by production and the other way round.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// eBay production.
    Production,
    /// eBay's sandbox (separate keysets, test users).
    Sandbox,
    /// Custom bases (a proxy, the local `oauth-sandbox`, a mock server):
    /// the standard paths are appended to each base, keeping any base path.
    Custom {
        /// Base of the consent page (`/oauth2/authorize` is appended).
        authorize: EndpointUrl,
        /// Base of the token endpoint (`/identity/v1/oauth2/token` is appended).
        api: EndpointUrl,
    },
}

impl Environment {
    /// One custom base serving both the consent page and the token endpoint
    /// (`<base>/oauth2/authorize` and `<base>/identity/v1/oauth2/token`).
    ///
    /// # Errors
    /// [`Error::Configuration`] unless `base` is an `https` URL, or an
    /// `http` URL on a loopback host.
    pub fn custom(base: &str) -> Result<Self, Error> {
        let base = EndpointUrl::parse(base)?;
        Ok(Self::Custom {
            authorize: base.clone(),
            api: base,
        })
    }

    /// The consent page URL.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the URL cannot be built.
    pub fn authorize_endpoint(&self) -> Result<Url, Error> {
        Ok(self.authorize_base()?.join_path(AUTHORIZE_PATH))
    }

    /// The token endpoint URL.
    ///
    /// # Errors
    /// [`Error::Configuration`] if the URL cannot be built.
    pub fn token_endpoint(&self) -> Result<Url, Error> {
        Ok(self.api_base()?.join_path(TOKEN_PATH))
    }

    fn authorize_base(&self) -> Result<EndpointUrl, Error> {
        match self {
            Self::Production => EndpointUrl::parse(PRODUCTION_AUTHORIZE_HOST),
            Self::Sandbox => EndpointUrl::parse(SANDBOX_AUTHORIZE_HOST),
            Self::Custom { authorize, .. } => Ok(authorize.clone()),
        }
    }

    fn api_base(&self) -> Result<EndpointUrl, Error> {
        match self {
            Self::Production => EndpointUrl::parse(PRODUCTION_API_HOST),
            Self::Sandbox => EndpointUrl::parse(SANDBOX_API_HOST),
            Self::Custom { api, .. } => Ok(api.clone()),
        }
    }
}

/// Builds a [`Client`]; every setting is checked once, in
/// [`build`](Self::build).
///
/// Required: client id (eBay "App ID"), client secret ("Cert ID"), RuName
/// and at least one scope. Defaults: [`Environment::Production`],
/// application scopes `[API_SCOPE]`, a new [`HttpClient`], the system clock.
pub struct ClientBuilder {
    client_id: ClientId,
    client_secret: ClientSecret,
    ru_name: Option<String>,
    scopes: Scopes,
    application_scopes: Scopes,
    environment: Environment,
    http: Option<HttpClient>,
    clock: Option<SharedClock>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("ru_name", &self.ru_name)
            .field("scopes", &self.scopes)
            .field("application_scopes", &self.application_scopes)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The RuName (eBay "redirect URL name") registered for the keyset. It is
    /// sent as `redirect_uri`, in place of a URL.
    pub fn ru_name(mut self, ru_name: impl Into<String>) -> Self {
        self.ru_name = Some(ru_name.into());
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

    /// Production (default), sandbox, or custom bases.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The HTTP client to send token requests with. Share one between all
    /// the accounts and providers of a service (clones share a pool).
    pub fn http_client(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock that turns `expires_in` into absolute instants.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    /// [`Error::Configuration`] for an empty or malformed client id, secret
    /// or RuName, no scopes or a scope with whitespace, a base URL that is
    /// neither HTTPS nor loopback, or an HTTP client that cannot be built.
    pub fn build(self) -> Result<Client, Error> {
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
        let ru_name = self.ru_name.unwrap_or_default();
        if ru_name.trim().is_empty() {
            return Err(Error::configuration(
                "eBay RuName is missing: set it with ClientBuilder::ru_name",
            ));
        }
        if ru_name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::configuration(
                "eBay RuName must not contain whitespace or control characters",
            ));
        }
        check_scopes(&self.scopes, "scopes")?;
        check_scopes(&self.application_scopes, "application scopes")?;
        let authorize_endpoint = self.environment.authorize_endpoint()?;
        let token_endpoint = self.environment.token_endpoint()?;
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::new()?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                client_id: self.client_id,
                client_secret: self.client_secret,
                ru_name,
                scopes: self.scopes,
                application_scopes: self.application_scopes,
                environment: self.environment,
                authorize_endpoint,
                token_endpoint,
                http,
                clock: self.clock.unwrap_or_else(system_clock),
            }),
        })
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

/// An eBay OAuth client: one keyset (client id, secret, RuName) in one
/// environment.
///
/// Cheap to clone (the settings are shared). `Debug` never shows the secret.
/// Use it for the consent URL ([`consent_url`](Self::consent_url)), the code
/// exchange, user-token refresh (it implements
/// [`RefreshGrant`](oauth_core::RefreshGrant) and
/// [`AuthorizationCodeGrant`](oauth_core::AuthorizationCodeGrant)) and
/// application tokens ([`application_token`](Self::application_token),
/// [`ApplicationTokenGrant`](crate::ApplicationTokenGrant)).
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    pub(crate) ru_name: String,
    pub(crate) scopes: Scopes,
    pub(crate) application_scopes: Scopes,
    pub(crate) environment: Environment,
    pub(crate) authorize_endpoint: Url,
    pub(crate) token_endpoint: Url,
    pub(crate) http: HttpClient,
    pub(crate) clock: SharedClock,
}

impl Client {
    /// Starts building a client from the keyset's client id ("App ID") and
    /// client secret ("Cert ID").
    pub fn builder(client_id: impl Into<ClientId>, client_secret: ClientSecret) -> ClientBuilder {
        ClientBuilder {
            client_id: client_id.into(),
            client_secret,
            ru_name: None,
            scopes: Scopes::new(),
            application_scopes: Scopes::from([API_SCOPE]),
            environment: Environment::Production,
            http: None,
            clock: None,
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The RuName sent as `redirect_uri`.
    pub fn ru_name(&self) -> &str {
        &self.inner.ru_name
    }

    /// The default (consent) scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.inner.scopes
    }

    /// The scopes of application tokens.
    pub fn application_scopes(&self) -> &Scopes {
        &self.inner.application_scopes
    }

    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.inner.environment
    }

    /// The consent page URL (without query).
    pub fn authorize_endpoint(&self) -> &Url {
        &self.inner.authorize_endpoint
    }

    /// The token endpoint URL.
    pub fn token_endpoint(&self) -> &Url {
        &self.inner.token_endpoint
    }

    /// The clock used to compute expiries.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ClientBuilder {
        Client::builder("App-ID-1", ClientSecret::new("cert-1"))
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
            assert_eq!(env.authorize_endpoint().unwrap().as_str(), authorize);
            assert_eq!(env.token_endpoint().unwrap().as_str(), token);
        }
    }

    #[test]
    fn custom_refuses_plain_http_off_loopback() {
        let err = Environment::custom("http://proxy.example.com").unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }));
    }

    #[test]
    fn builder_validates_once() {
        assert!(builder().build().is_ok());
        let bad = [
            Client::builder("", ClientSecret::new("x"))
                .ru_name("r")
                .scopes(Scopes::from(["s"])),
            Client::builder("a:b", ClientSecret::new("x"))
                .ru_name("r")
                .scopes(Scopes::from(["s"])),
            Client::builder("a", ClientSecret::new(" "))
                .ru_name("r")
                .scopes(Scopes::from(["s"])),
            Client::builder("a", ClientSecret::new("x")).scopes(Scopes::from(["s"])),
            Client::builder("a", ClientSecret::new("x"))
                .ru_name("r r")
                .scopes(Scopes::from(["s"])),
            Client::builder("a", ClientSecret::new("x")).ru_name("r"),
            Client::builder("a", ClientSecret::new("x"))
                .ru_name("r")
                .scopes(Scopes::from(["s t"])),
            builder().application_scopes(Scopes::new()),
        ];
        for b in bad {
            let err = b.build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let b = Client::builder("id", ClientSecret::new("SENTINEL-cert"))
            .ru_name("r")
            .scopes(Scopes::from(["s"]));
        assert!(!format!("{b:?}").contains("SENTINEL"));
        let client = b.build().unwrap();
        let text = format!("{client:?} {client:#?}");
        assert!(!text.contains("SENTINEL"), "{text}");
        assert!(text.contains("ClientSecret([REDACTED])"), "{text}");
    }
}
