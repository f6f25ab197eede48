//! OrangeConnex described for tools (the `oauth` command, fuzzers, test
//! harnesses): its settings and how [`OrangeConnex`] is made from them.

use crate::{OrangeConnex, PROVIDER};
use oauth_core::provider::registry::{Configure, Setting, SettingValues};
use oauth_core::{ClientKey, Error};

impl Configure for OrangeConnex {
    const NAME: &'static str = PROVIDER;
    const TITLE: &'static str = "OrangeConnex";
    const SETTINGS: &'static [Setting] = &[
        Setting {
            key: "client_id",
            label: "client id",
            help: "3PP client id.",
            secret: false,
            required: true,
        },
        Setting {
            key: "client_key",
            label: "client key",
            help: "The `clientKey` header value (optional for tokens, needed on API calls).",
            secret: true,
            required: false,
        },
        Setting {
            key: "redirect_uri",
            label: "redirect URI",
            help: "The registered redirect URI.",
            secret: false,
            required: true,
        },
    ];
    const HAS_SANDBOX: bool = true;
    const NEEDS_CONSENT: bool = true;
    const EXAMPLE_SETTINGS: &'static [(&'static str, &'static str)] = &[
        ("client_id", "example-3pp-client"),
        ("redirect_uri", "https://app.example/orangeconnex/callback"),
    ];

    fn from_settings(values: &SettingValues) -> Result<Self, Error> {
        let settings = OrangeConnex::new(
            values.require("client_id")?,
            values.require("redirect_uri")?,
        );
        Ok(match values.get("client_key") {
            Some(key) => settings.client_key(ClientKey::new(key)),
            None => settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use oauth_core::provider::registry::{ClientOptions, ProviderEntry};

    #[test]
    fn the_example_settings_build_a_client() {
        let entry = ProviderEntry::of::<crate::OrangeConnex>();
        let client = entry
            .build(&entry.example_values(), ClientOptions::default())
            .unwrap();
        assert_eq!(client.provider(), "orangeconnex");
        let with_key = entry.example_values().with("client_key", "SENTINEL-key");
        let client = entry.build(&with_key, ClientOptions::default()).unwrap();
        assert!(!format!("{client:?}").contains("SENTINEL"));
    }
}
