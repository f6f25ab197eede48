//! The client registrations the sandbox knows about.
//!
//! These are test values for a local emulator, not secrets: they are printed by the
//! binary and documented here on purpose.

/// Default eBay client id (App ID).
pub const DEFAULT_EBAY_CLIENT_ID: &str = "SandboxA-oauthsan-SBX-0123456789-abcdef01";
/// Default eBay client secret (Cert ID).
pub const DEFAULT_EBAY_CLIENT_SECRET: &str = "SBX-0123456789ab-cdef-0123-4567-89ab";
/// Default eBay RuName (the value sent as `redirect_uri`).
pub const DEFAULT_EBAY_RU_NAME: &str = "Sandbox_Dev-Sandbox-oauths-abcdefghi";
/// Default AliExpress app key.
pub const DEFAULT_ALIEXPRESS_APP_KEY: &str = "500123";
/// Default AliExpress app secret.
pub const DEFAULT_ALIEXPRESS_APP_SECRET: &str = "sandboxAliExpressAppSecret0123456789";
/// Default OrangeConnex client id (3PP id).
pub const DEFAULT_ORANGECONNEX_CLIENT_ID: &str = "sandbox-3pp-client";
/// Default OrangeConnex client key (sent in the `clientKey` header).
pub const DEFAULT_ORANGECONNEX_CLIENT_KEY: &str = "sandbox-oc-client-key-0123456789";
/// Default Eshopbox custom app client id.
pub const DEFAULT_ESHOPBOX_CLIENT_ID: &str = "sandboxEshopboxClientId0123";
/// Default Eshopbox custom app client secret.
pub const DEFAULT_ESHOPBOX_CLIENT_SECRET: &str = "sandbox-eshopbox-client-secret-0123456789";
/// Default pre-seeded, long-lived Eshopbox refresh token of the custom app.
pub const DEFAULT_ESHOPBOX_REFRESH_TOKEN: &str = "sandbox-eshopbox-refresh-token-0123456789";

/// Every client registration of a running sandbox, per provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// The eBay keyset and RuName.
    pub ebay: EbayCredentials,
    /// The AliExpress app.
    pub aliexpress: AliExpressCredentials,
    /// The OrangeConnex 3PP client.
    pub orangeconnex: OrangeConnexCredentials,
    /// The Eshopbox custom app.
    pub eshopbox: EshopboxCredentials,
}

/// An eBay keyset registered in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EbayCredentials {
    /// Client id (App ID), checked with Basic auth on the token endpoint.
    pub client_id: String,
    /// Client secret (Cert ID).
    pub client_secret: String,
    /// RuName: what the client sends as `redirect_uri`.
    pub ru_name: String,
    /// The "accept URL" the RuName maps to: where consent redirects with `code` and
    /// `state`. Default `<base>/callback/ebay`.
    pub accept_url: String,
}

/// An AliExpress app registered in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AliExpressCredentials {
    /// App key (`app_key`, also the `client_id` of the authorize URL).
    pub app_key: String,
    /// App secret, the HMAC-SHA256 key of every signature.
    pub app_secret: String,
    /// The registered callback URL; `redirect_uri` must equal it. Default
    /// `<base>/callback/aliexpress`.
    pub redirect_uri: String,
}

/// An OrangeConnex 3PP client registered in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrangeConnexCredentials {
    /// Client id (3PP id).
    pub client_id: String,
    /// The `clientKey` header value, if the client is registered with one. When set, a
    /// token request carrying a different `clientKey` is rejected, and API calls must
    /// carry it.
    pub client_key: Option<String>,
    /// The registered redirect URI; `redirect_uri` must equal it at authorize time and
    /// at the code exchange. Default `<base>/callback/orangeconnex`.
    pub redirect_uri: String,
}

/// An Eshopbox custom app registered in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EshopboxCredentials {
    /// Client id.
    pub client_id: String,
    /// Client secret, checked on every token request.
    pub client_secret: String,
    /// The pre-seeded long-lived refresh token of the custom app (it never rotates).
    pub refresh_token: String,
}

/// Overrides given to the builder; `None` means "use the default".
#[derive(Debug, Clone, Default)]
pub(crate) struct CredentialOverrides {
    pub ebay_client: Option<(String, String)>,
    pub ebay_ru_name: Option<String>,
    pub ebay_accept_url: Option<String>,
    pub aliexpress_app: Option<(String, String)>,
    pub aliexpress_redirect_uri: Option<String>,
    pub orangeconnex_client: Option<(String, Option<String>)>,
    pub orangeconnex_redirect_uri: Option<String>,
    pub eshopbox_client: Option<(String, String, String)>,
}

impl CredentialOverrides {
    /// Resolves the overrides against the defaults for a sandbox served at `base`.
    pub(crate) fn resolve(self, base: &str) -> Credentials {
        let callback = |provider: &str| format!("{base}/callback/{provider}");
        let (ebay_id, ebay_secret) = self.ebay_client.unwrap_or_else(|| {
            (
                DEFAULT_EBAY_CLIENT_ID.to_owned(),
                DEFAULT_EBAY_CLIENT_SECRET.to_owned(),
            )
        });
        let (app_key, app_secret) = self.aliexpress_app.unwrap_or_else(|| {
            (
                DEFAULT_ALIEXPRESS_APP_KEY.to_owned(),
                DEFAULT_ALIEXPRESS_APP_SECRET.to_owned(),
            )
        });
        let (oc_id, oc_key) = self.orangeconnex_client.unwrap_or_else(|| {
            (
                DEFAULT_ORANGECONNEX_CLIENT_ID.to_owned(),
                Some(DEFAULT_ORANGECONNEX_CLIENT_KEY.to_owned()),
            )
        });
        let (esb_id, esb_secret, esb_refresh) = self.eshopbox_client.unwrap_or_else(|| {
            (
                DEFAULT_ESHOPBOX_CLIENT_ID.to_owned(),
                DEFAULT_ESHOPBOX_CLIENT_SECRET.to_owned(),
                DEFAULT_ESHOPBOX_REFRESH_TOKEN.to_owned(),
            )
        });
        Credentials {
            ebay: EbayCredentials {
                client_id: ebay_id,
                client_secret: ebay_secret,
                ru_name: self
                    .ebay_ru_name
                    .unwrap_or_else(|| DEFAULT_EBAY_RU_NAME.to_owned()),
                accept_url: self.ebay_accept_url.unwrap_or_else(|| callback("ebay")),
            },
            aliexpress: AliExpressCredentials {
                app_key,
                app_secret,
                redirect_uri: self
                    .aliexpress_redirect_uri
                    .unwrap_or_else(|| callback("aliexpress")),
            },
            orangeconnex: OrangeConnexCredentials {
                client_id: oc_id,
                client_key: oc_key,
                redirect_uri: self
                    .orangeconnex_redirect_uri
                    .unwrap_or_else(|| callback("orangeconnex")),
            },
            eshopbox: EshopboxCredentials {
                client_id: esb_id,
                client_secret: esb_secret,
                refresh_token: esb_refresh,
            },
        }
    }
}
