//! Providers described for tools (a command line, a fuzzer, a test
//! harness), so that a tool handles every provider of a list the same way
//! and a new provider is one more line in that list.
//!
//! A provider crate implements [`Configure`]: its title, the settings it
//! reads (each becomes a flag and an `OAUTH_<PROVIDER>_<KEY>` environment
//! variable in the `oauth` command) and how its settings type is made from
//! their values. A registry is then a list of [`ProviderEntry::of`]:
//!
//! ```ignore
//! pub const PROVIDERS: &[ProviderEntry] = &[
//!     ProviderEntry::of::<oauth_ebay::Ebay>(),
//!     ProviderEntry::of::<oauth_aliexpress::AliExpress>(),
//! ];
//! ```
//!
//! An entry builds an [`AnyClient`]: a [`Client`] behind a trait object
//! ([`DynClient`]), usable as a [`RefreshGrant`], an
//! [`AuthorizationCodeGrant`] and an [`AttachToken`].

use super::{Client, Endpoints, Environment, Grant, IntoTokenSet, Provider};
use crate::attach::AttachToken;
use crate::clock::SharedClock;
use crate::error::Error;
use crate::grant::{AuthorizationCodeGrant, RefreshGrant};
use crate::token_set::TokenSet;
use crate::transport::{HttpClient, RawResponse};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// One setting a provider reads from a tool's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The key, in `snake_case` (`client_id`): the `oauth` command's flag is
    /// `--client-id` and its variable `OAUTH_<PROVIDER>_CLIENT_ID`.
    pub key: &'static str,
    /// What it is, in messages (`client id (App ID)`).
    pub label: &'static str,
    /// One or two sentences of help.
    pub help: &'static str,
    /// Whether the value is a secret: never shown, best given in the
    /// environment.
    pub secret: bool,
    /// Whether a client cannot be built without it.
    pub required: bool,
}

impl Setting {
    /// The flag's name, without dashes (`client-id`).
    pub fn flag(&self) -> String {
        self.key.replace('_', "-")
    }

    /// The environment variable of `provider` (`OAUTH_EBAY_CLIENT_ID`).
    pub fn env_var(&self, provider: &str) -> String {
        format!(
            "OAUTH_{}_{}",
            provider.to_ascii_uppercase(),
            self.key.to_ascii_uppercase()
        )
    }
}

/// Values given for a provider's [`Setting`]s, by key. Every value is held
/// as a secret (zeroized on drop); `Debug` shows the keys only.
#[derive(Clone, Default)]
pub struct SettingValues(BTreeMap<String, SecretString>);

impl fmt::Debug for SettingValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl SettingValues {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, trimmed; a blank value counts as not given.
    pub fn set(&mut self, key: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.0.remove(key);
        } else {
            self.0
                .insert(key.to_owned(), SecretString::from(value.to_owned()));
        }
    }

    /// [`set`](Self::set), by value.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.set(key, value);
        self
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(ExposeSecret::expose_secret)
    }

    /// The value of `key`, or an error naming it as missing.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the setting (never a value).
    pub fn require(&self, key: &str) -> Result<&str, Error> {
        self.get(key)
            .ok_or_else(|| Error::configuration(format!("the setting `{key}` is missing")))
    }

    /// The required settings of `settings` that have no value.
    pub fn missing<'a>(&self, settings: &'a [Setting]) -> Vec<&'a Setting> {
        settings
            .iter()
            .filter(|s| s.required && self.get(s.key).is_none())
            .collect()
    }
}

/// A provider whose settings type can be made from [`SettingValues`]: what
/// a registry needs.
pub trait Configure: Provider + Clone + Sized {
    /// The provider's name, as [`Provider::name`] returns it (`ebay`).
    const NAME: &'static str;
    /// Its name for people (`eBay`).
    const TITLE: &'static str;
    /// The settings it reads, in the order a tool shows them.
    const SETTINGS: &'static [Setting];
    /// Whether it has a sandbox environment.
    const HAS_SANDBOX: bool;
    /// Whether a first token needs the user's consent (the code flow);
    /// `false` for grants that fetch their first token alone.
    const NEEDS_CONSENT: bool;
    /// Valid but fake values for every required setting (no real
    /// credential), for fuzzers, examples and tests that need a client
    /// without an account.
    const EXAMPLE_SETTINGS: &'static [(&'static str, &'static str)];

    /// The settings type from `values`.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming every missing required setting, or
    /// the first invalid one (never repeating a value).
    fn from_settings(values: &SettingValues) -> Result<Self, Error>;
}

/// What every built client takes besides the provider's settings.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// The environment.
    pub environment: Environment,
    /// The HTTP client (default: a new one).
    pub http: Option<HttpClient>,
    /// The clock (default: the system clock).
    pub clock: Option<SharedClock>,
}

/// A [`Client`] of any provider, as one trait object.
pub trait DynClient: RefreshGrant + AuthorizationCodeGrant {
    /// The endpoints in the client's environment.
    fn endpoints(&self) -> &Endpoints;

    /// How a token goes on the provider's API requests.
    fn attachment(&self) -> &dyn AttachToken;

    /// The client's environment.
    fn environment(&self) -> &Environment;

    /// [`Provider::api_answer_needs_body`].
    fn api_answer_needs_body(&self, status: u16, headers: &http::HeaderMap) -> bool;

    /// [`Provider::classify_api_response`].
    ///
    /// # Errors
    /// The answer's class, when it is not a success.
    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error>;

    /// Decodes a token answer with the provider's decoder, as a token set
    /// (for fuzzers and tests: no request is sent).
    ///
    /// # Errors
    /// The classified failure, as [`Provider::decode_token_response`].
    fn decode_token_set(
        &self,
        response: &RawResponse,
        grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<TokenSet, Error>;
}

impl<P: Provider> DynClient for Client<P> {
    fn endpoints(&self) -> &Endpoints {
        Client::endpoints(self)
    }

    fn attachment(&self) -> &dyn AttachToken {
        Client::attachment(self)
    }

    fn environment(&self) -> &Environment {
        Client::environment(self)
    }

    fn api_answer_needs_body(&self, status: u16, headers: &http::HeaderMap) -> bool {
        self.provider().api_answer_needs_body(status, headers)
    }

    fn classify_api_response(&self, response: &RawResponse) -> Result<(), Error> {
        Client::classify_api_response(self, response)
    }

    fn decode_token_set(
        &self,
        response: &RawResponse,
        grant: &Grant<'_>,
        received_at: SystemTime,
    ) -> Result<TokenSet, Error> {
        self.provider()
            .decode_token_response(response, grant, received_at)
            .map(IntoTokenSet::into_token_set)
            .map_err(|e| response.scrub_error(e))
    }
}

/// A client of any provider (cheap to clone).
pub type AnyClient = Arc<dyn DynClient>;

/// A provider in a registry: its description and how to build its client,
/// without its type.
#[derive(Clone, Copy)]
pub struct ProviderEntry {
    /// [`Configure::NAME`].
    pub name: &'static str,
    /// [`Configure::TITLE`].
    pub title: &'static str,
    /// [`Configure::SETTINGS`].
    pub settings: &'static [Setting],
    /// [`Configure::HAS_SANDBOX`].
    pub has_sandbox: bool,
    /// [`Configure::NEEDS_CONSENT`].
    pub needs_consent: bool,
    /// [`Configure::EXAMPLE_SETTINGS`].
    pub example_settings: &'static [(&'static str, &'static str)],
    build: fn(&SettingValues, ClientOptions) -> Result<AnyClient, Error>,
}

impl fmt::Debug for ProviderEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderEntry")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("has_sandbox", &self.has_sandbox)
            .field("needs_consent", &self.needs_consent)
            .finish_non_exhaustive()
    }
}

impl ProviderEntry {
    /// The entry of provider `P`.
    pub const fn of<P: Configure>() -> Self {
        Self {
            name: P::NAME,
            title: P::TITLE,
            settings: P::SETTINGS,
            has_sandbox: P::HAS_SANDBOX,
            needs_consent: P::NEEDS_CONSENT,
            example_settings: P::EXAMPLE_SETTINGS,
            build: build::<P>,
        }
    }

    /// The [example settings](Configure::EXAMPLE_SETTINGS) as values.
    pub fn example_values(&self) -> SettingValues {
        self.example_settings
            .iter()
            .fold(SettingValues::new(), |values, (key, value)| {
                values.with(key, value)
            })
    }

    /// A client from setting values.
    ///
    /// # Errors
    /// [`Error::Configuration`] for missing or invalid settings (all the
    /// missing ones named at once), or as [`ClientBuilder::build`](super::ClientBuilder::build).
    pub fn build(
        &self,
        values: &SettingValues,
        options: ClientOptions,
    ) -> Result<AnyClient, Error> {
        let missing = values.missing(self.settings);
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.label).collect();
            return Err(Error::configuration(format!(
                "missing {} settings: {}",
                self.title,
                names.join(", ")
            )));
        }
        (self.build)(values, options)
    }
}

fn build<P: Configure>(values: &SettingValues, options: ClientOptions) -> Result<AnyClient, Error> {
    let mut builder = Client::builder(P::from_settings(values)?).environment(options.environment);
    if let Some(http) = options.http {
        builder = builder.http_client(http);
    }
    if let Some(clock) = options.clock {
        builder = builder.clock(clock);
    }
    Ok(Arc::new(builder.build()?))
}

/// The entry named `name` in `registry`.
pub fn find<'a>(registry: &'a [ProviderEntry], name: &str) -> Option<&'a ProviderEntry> {
    registry.iter().find(|entry| entry.name == name)
}

// Builds a client with the built-in transport.
#[cfg(all(test, feature = "reqwest"))]
mod tests {
    use super::*;
    use crate::provider::rfc6749::Rfc6749;
    use crate::secret::ClientSecret;

    /// A provider made from settings: the generic one, fixed to one
    /// platform.
    #[derive(Clone, Debug)]
    struct Shop(Rfc6749);

    const SETTINGS: &[Setting] = &[
        Setting {
            key: "client_id",
            label: "client id",
            help: "The client id.",
            secret: false,
            required: true,
        },
        Setting {
            key: "client_secret",
            label: "client secret",
            help: "The client secret.",
            secret: true,
            required: true,
        },
    ];

    impl Provider for Shop {
        type TokenResponse = <Rfc6749 as Provider>::TokenResponse;
        type Attachment = <Rfc6749 as Provider>::Attachment;
        fn name(&self) -> &'static str {
            self.0.name()
        }
        fn rotates_refresh_tokens(&self) -> bool {
            self.0.rotates_refresh_tokens()
        }
        fn endpoints(&self, environment: &Environment) -> Result<Endpoints, Error> {
            self.0.endpoints(environment)
        }
        fn refresh_request(
            &self,
            context: &crate::provider::RequestContext<'_>,
            current: &TokenSet,
        ) -> Result<crate::transport::TokenRequest, Error> {
            self.0.refresh_request(context, current)
        }
        fn decode_token_response(
            &self,
            response: &RawResponse,
            grant: &Grant<'_>,
            received_at: SystemTime,
        ) -> Result<Self::TokenResponse, Error> {
            self.0.decode_token_response(response, grant, received_at)
        }
        fn attachment(&self, context: &crate::provider::AttachContext<'_>) -> Self::Attachment {
            self.0.attachment(context)
        }
    }

    impl Configure for Shop {
        const NAME: &'static str = "shop";
        const TITLE: &'static str = "Shop";
        const SETTINGS: &'static [Setting] = SETTINGS;
        const HAS_SANDBOX: bool = false;
        const NEEDS_CONSENT: bool = true;
        const EXAMPLE_SETTINGS: &'static [(&'static str, &'static str)] =
            &[("client_id", "id-1"), ("client_secret", "secret-1")];
        fn from_settings(values: &SettingValues) -> Result<Self, Error> {
            Ok(Self(
                Rfc6749::new(
                    "shop",
                    values.require("client_id")?,
                    Some(ClientSecret::new(values.require("client_secret")?)),
                )
                .production("https://shop.example")?,
            ))
        }
    }

    const REGISTRY: &[ProviderEntry] = &[ProviderEntry::of::<Shop>()];

    #[test]
    fn an_entry_builds_a_client_usable_as_every_trait() {
        let entry = find(REGISTRY, "shop").unwrap();
        assert_eq!(entry.settings[0].flag(), "client-id");
        assert_eq!(
            entry.settings[1].env_var("shop"),
            "OAUTH_SHOP_CLIENT_SECRET"
        );
        let err = entry
            .build(
                &SettingValues::new().with("client_id", " "),
                ClientOptions::default(),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("missing Shop settings: client id, client secret"),
            "{err}"
        );
        let values = SettingValues::new()
            .with("client_id", "id-1")
            .with("client_secret", "SENTINEL-secret");
        assert!(!format!("{values:?}").contains("SENTINEL"));
        let client = entry.build(&values, ClientOptions::default()).unwrap();
        assert_eq!(client.provider(), "shop");
        assert_eq!(
            client.endpoints().token().as_str(),
            "https://shop.example/oauth/token"
        );
        let grant: Arc<dyn RefreshGrant> = client.clone();
        assert!(!grant.rotates_refresh_token());
        assert!(!format!("{client:?}").contains("SENTINEL"));
        assert!(find(REGISTRY, "other").is_none());
        assert!(
            entry
                .build(&entry.example_values(), ClientOptions::default())
                .is_ok()
        );
    }
}
