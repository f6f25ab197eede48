//! The settings of an AliExpress app ([`AliExpress`]), their checks, and
//! where the endpoints live.

use crate::PROVIDER;
use crate::sign::Signer;
use oauth_core::provider::registry::{Configure, Setting, SettingValues};
use oauth_core::url::{self, Url};
use oauth_core::{AppSecret, ClientId, Endpoints, Environment, Error};
use std::fmt;

/// The production host: consent page, system (`/rest`) and business
/// (`/sync`) gateways all live on it.
pub const PRODUCTION_BASE_URL: &str = "https://api-sg.aliexpress.com";
/// Path of the consent page under the base URL.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Path of the system-interface gateway; the API path is appended to it
/// (`/rest/auth/token/create`).
pub const REST_PATH: &str = "/rest";
/// Path of the business-interface gateway (`/sync?method=<api name>`).
pub const SYNC_PATH: &str = "/sync";

/// The settings of one AliExpress (IOP) app: what
/// [`Client::builder`](crate::Client) takes. Data only; every check runs
/// once, when the client is built ([`Provider::validate`](oauth_core::Provider::validate)),
/// so that an invalid client cannot exist.
///
/// Required: the app key and secret ([`new`](Self::new)) and the redirect
/// URI registered for the app ([`redirect_uri`](Self::redirect_uri)).
/// Defaults: `force_auth=true`, no `partner_id`.
///
/// # Environments
/// | | consent page | system APIs (token calls included) | business APIs |
/// |---|---|---|---|
/// | [`Production`](Environment::Production) | `https://api-sg.aliexpress.com/oauth/authorize` | `https://api-sg.aliexpress.com/rest{path}` | `https://api-sg.aliexpress.com/sync` |
/// | [`Custom(base)`](Environment::Custom) | `<base>/oauth/authorize` | `<base>/rest{path}` | `<base>/sync` |
///
/// There is **no separate sandbox**: apps in "test" status get short-lived
/// tokens (1 day access, 2 days refresh) on the production host, and
/// [`Environment::Sandbox`] is a configuration error. In the client's
/// [`Endpoints`], `token()` is the system gateway (`<base>/rest`, to which
/// `/auth/token/create` and the other system API paths are appended) and
/// `api()` the business gateway (`<base>/sync`).
///
/// `Debug` never shows the app secret.
#[derive(Clone)]
pub struct AliExpress {
    app_key: ClientId,
    signer: Result<Signer, Error>,
    redirect_uri: Option<Result<Url, url::ParseError>>,
    force_auth: bool,
    partner_id: Option<String>,
}

impl fmt::Debug for AliExpress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AliExpress")
            .field("app_key", &self.app_key)
            .field("signer", &self.signer.as_ref().ok())
            .field(
                "redirect_uri",
                &self
                    .redirect_uri
                    .as_ref()
                    .map(|uri| uri.as_ref().map(Url::as_str)),
            )
            .field("force_auth", &self.force_auth)
            .field("partner_id", &self.partner_id)
            .finish()
    }
}

impl AliExpress {
    /// The app with `app_key` (the OAuth `client_id`; surrounding spaces
    /// are trimmed) and `app_secret` (the signing key, kept only as a keyed
    /// HMAC state).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the secret moves in and is zeroized here, once keyed: no copy stays with the caller"
    )]
    pub fn new(app_key: impl Into<String>, app_secret: AppSecret) -> Self {
        Self {
            app_key: ClientId::new(app_key.into().trim()),
            signer: Signer::new(&app_secret),
            redirect_uri: None,
            force_auth: true,
            partner_id: None,
        }
    }

    /// The callback URL registered for the app (sent as `redirect_uri` on
    /// the consent page; it must match the registration exactly).
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(Url::parse(redirect_uri.into().trim()));
        self
    }

    /// Whether the consent page asks the seller to log in again
    /// (`force_auth`, default `true`).
    pub fn force_auth(mut self, force_auth: bool) -> Self {
        self.force_auth = force_auth;
        self
    }

    /// A free-form `partner_id` tag sent (and signed) with every call, as
    /// the official SDKs do with their SDK name. Default: none; a blank one
    /// is none.
    pub fn partner_id(mut self, partner_id: impl Into<String>) -> Self {
        let partner_id = partner_id.into().trim().to_owned();
        self.partner_id = (!partner_id.is_empty()).then_some(partner_id);
        self
    }

    /// The app key.
    pub fn app_key(&self) -> &ClientId {
        &self.app_key
    }

    /// The signer keyed with the app secret (to sign or debug calls by
    /// hand); `None` only for a blank secret, which no built client has.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref().ok()
    }

    /// The redirect URI sent on the consent page, once set and valid.
    pub fn redirect_uri_url(&self) -> Option<&Url> {
        self.redirect_uri.as_ref()?.as_ref().ok()
    }

    /// Whether the consent page forces a new login.
    pub fn forces_auth(&self) -> bool {
        self.force_auth
    }

    /// The `partner_id` tag, if any.
    pub fn partner_id_tag(&self) -> Option<&str> {
        self.partner_id.as_deref()
    }

    /// The signer, or why there is none.
    pub(crate) fn checked_signer(&self) -> Result<&Signer, Error> {
        self.signer.as_ref().map_err(Clone::clone)
    }

    /// The redirect URI, or why there is none.
    pub(crate) fn checked_redirect_uri(&self) -> Result<&Url, Error> {
        match &self.redirect_uri {
            None => Err(Error::configuration(
                "the AliExpress redirect URI (the app's callback) is not set",
            )),
            Some(Err(e)) => Err(Error::configuration(format!(
                "the AliExpress redirect URI is not a URL: {e}"
            ))),
            Some(Ok(url)) => Ok(url),
        }
    }

    /// The checks of [`Provider::validate`](oauth_core::Provider::validate):
    /// app key, app secret, redirect URI, in that order.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let app_key = self.app_key.as_str();
        if app_key.is_empty() {
            return Err(Error::configuration("the AliExpress app key is empty"));
        }
        if app_key.chars().any(char::is_control) {
            return Err(Error::configuration(
                "the AliExpress app key contains control characters",
            ));
        }
        self.checked_signer()?;
        self.checked_redirect_uri()?;
        Ok(())
    }

    /// The endpoints in `environment` (see the table above).
    pub(crate) fn endpoints_in(environment: &Environment) -> Result<Endpoints, Error> {
        let base = environment.base(PROVIDER, PRODUCTION_BASE_URL, None)?;
        Ok(Endpoints::new(base.join_path(REST_PATH))
            .with_authorize(base.join_path(AUTHORIZE_PATH))
            .with_api(base.join_path(SYNC_PATH)))
    }
}

/// The settings a tool reads (flags `--app-key`..., variables
/// `OAUTH_ALIEXPRESS_APP_KEY`...).
const SETTINGS: &[Setting] = &[
    Setting {
        key: "app_key",
        label: "app key",
        help: "The app key (AppKey) from the AliExpress developer console.",
        secret: false,
        required: true,
    },
    Setting {
        key: "app_secret",
        label: "app secret",
        help: "The app secret (AppSecret) that signs every call.",
        secret: true,
        required: true,
    },
    Setting {
        key: "redirect_uri",
        label: "redirect URI",
        help: "The callback URL registered for the app.",
        secret: false,
        required: true,
    },
    Setting {
        key: "partner_id",
        label: "partner id",
        help: "An optional free-form `partner_id` tag signed into every call.",
        secret: false,
        required: false,
    },
];

/// AliExpress for tools: `app_key`, `app_secret`, `redirect_uri` and an
/// optional `partner_id`; no sandbox; the code flow.
impl Configure for AliExpress {
    const NAME: &'static str = PROVIDER;
    const TITLE: &'static str = "AliExpress";
    const SETTINGS: &'static [Setting] = SETTINGS;
    const HAS_SANDBOX: bool = false;
    const NEEDS_CONSENT: bool = true;
    const EXAMPLE_SETTINGS: &'static [(&'static str, &'static str)] = &[
        ("app_key", "12345678"),
        ("app_secret", "example-app-secret"),
        ("redirect_uri", "https://app.example/callback"),
    ];

    fn from_settings(values: &SettingValues) -> Result<Self, Error> {
        let mut settings = Self::new(
            values.require("app_key")?,
            AppSecret::new(values.require("app_secret")?),
        )
        .redirect_uri(values.require("redirect_uri")?);
        if let Some(partner_id) = values.get("partner_id") {
            settings = settings.partner_id(partner_id);
        }
        settings.check()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    fn settings() -> AliExpress {
        AliExpress::new("12345678", AppSecret::new("helloworld"))
            .redirect_uri("https://app.example/callback")
    }

    #[test]
    fn valid_settings_build() {
        let client = Client::builder(settings()).build().unwrap();
        assert_eq!(client.provider().app_key().as_str(), "12345678");
        assert_eq!(
            client.endpoints().token().as_str(),
            "https://api-sg.aliexpress.com/rest"
        );
        assert!(client.provider().forces_auth());
        assert_eq!(client.provider().partner_id_tag(), None);
    }

    #[test]
    fn invalid_settings_are_refused() {
        let cases = [
            AliExpress::new("", AppSecret::new("s")).redirect_uri("https://a.example/cb"),
            AliExpress::new(" ", AppSecret::new("s")).redirect_uri("https://a.example/cb"),
            AliExpress::new("1", AppSecret::new("")).redirect_uri("https://a.example/cb"),
            AliExpress::new("1", AppSecret::new("s")),
            AliExpress::new("1", AppSecret::new("s")).redirect_uri("not a url"),
        ];
        for case in cases {
            let err = Client::builder(case).build().unwrap_err();
            assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        }
        assert!(matches!(
            Environment::custom("http://example.com"),
            Err(Error::Configuration { .. })
        ));
        let err = Client::builder(settings())
            .environment(Environment::Sandbox)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Configuration { .. }), "{err:?}");
        assert!(err.to_string().contains("no sandbox"), "{err}");
    }

    #[test]
    fn a_registry_entry_builds_a_client() {
        use oauth_core::provider::registry::{ClientOptions, ProviderEntry};
        let entry = ProviderEntry::of::<AliExpress>();
        let client = entry
            .build(&entry.example_values(), ClientOptions::default())
            .unwrap();
        assert_eq!(client.provider(), "aliexpress");
        let err = entry
            .build(&SettingValues::new(), ClientOptions::default())
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("app key, app secret, redirect URI"),
            "{err}"
        );
        let values = entry
            .example_values()
            .with("partner_id", "sdk-1")
            .with("app_key", "1\u{7}");
        let err = entry.build(&values, ClientOptions::default()).unwrap_err();
        assert!(err.to_string().contains("control characters"), "{err}");
    }

    #[test]
    fn custom_environment_keeps_base_path() {
        let env = Environment::custom("http://127.0.0.1:9/ae/").unwrap();
        let client = Client::builder(settings())
            .environment(env)
            .build()
            .unwrap();
        assert_eq!(
            crate::call::gateway_url(client.endpoints(), "/auth/token/create")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/ae/rest/auth/token/create"
        );
    }
}
