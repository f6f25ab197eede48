//! eBay described for tools (the `oauth` command, fuzzers, test harnesses):
//! its settings and how [`Ebay`] is made from them.

use crate::{API_SCOPE, Ebay, PROVIDER};
use oauth_core::provider::registry::{Configure, Setting, SettingValues};
use oauth_core::{ClientSecret, Error, Scopes};

impl Configure for Ebay {
    const NAME: &'static str = PROVIDER;
    const TITLE: &'static str = "eBay";
    const SETTINGS: &'static [Setting] = &[
        Setting {
            key: "client_id",
            label: "client id",
            help: "Client id (\"App ID\") of the keyset.",
            secret: false,
            required: true,
        },
        Setting {
            key: "client_secret",
            label: "client secret",
            help: "Client secret (\"Cert ID\") of the keyset.",
            secret: true,
            required: true,
        },
        Setting {
            key: "ru_name",
            label: "RuName",
            help: "RuName of the keyset (sent as `redirect_uri`).",
            secret: false,
            required: true,
        },
        Setting {
            key: "scopes",
            label: "scopes",
            help: "Scopes for user consent, space-separated [default: `https://api.ebay.com/oauth/api_scope`].",
            secret: false,
            required: false,
        },
        Setting {
            key: "app_scopes",
            label: "application scopes",
            help: "Scopes of application tokens, space-separated [default: `https://api.ebay.com/oauth/api_scope`].",
            secret: false,
            required: false,
        },
    ];
    const HAS_SANDBOX: bool = true;
    const NEEDS_CONSENT: bool = true;
    const EXAMPLE_SETTINGS: &'static [(&'static str, &'static str)] = &[
        ("client_id", "ExampleI-Example-SBX-1a2b3c4d5-6e7f8a9b"),
        ("client_secret", "SBX-example-cert-id"),
        ("ru_name", "Example_Inc-Example-Test-abcd"),
    ];

    fn from_settings(values: &SettingValues) -> Result<Self, Error> {
        let scopes = |key| {
            values
                .get(key)
                .map_or_else(|| Scopes::from([API_SCOPE]), Scopes::from_space_separated)
        };
        Ok(Ebay::new(
            values.require("client_id")?,
            ClientSecret::new(values.require("client_secret")?),
        )
        .ru_name(values.require("ru_name")?)
        .scopes(scopes("scopes"))
        .application_scopes(scopes("app_scopes")))
    }
}

#[cfg(test)]
mod tests {
    use oauth_core::provider::registry::{ClientOptions, ProviderEntry};

    #[test]
    fn the_example_settings_build_a_client() {
        let entry = ProviderEntry::of::<crate::Ebay>();
        let client = entry
            .build(&entry.example_values(), ClientOptions::default())
            .unwrap();
        assert_eq!(client.provider(), "ebay");
        let err = entry
            .build(
                &entry.example_values().with("ru_name", " "),
                ClientOptions::default(),
            )
            .map(drop)
            .unwrap_err();
        assert!(
            err.to_string().contains("missing eBay settings: RuName"),
            "{err}"
        );
    }
}
