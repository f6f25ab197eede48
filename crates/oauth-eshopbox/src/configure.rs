//! Eshopbox described for tools (the `oauth` command, fuzzers, test
//! harnesses): its settings and how [`Eshopbox`] is made from them.

use crate::{Eshopbox, PROVIDER};
use oauth_core::provider::registry::{Configure, Setting, SettingValues};
use oauth_core::{ClientSecret, Error, RefreshToken};

impl Configure for Eshopbox {
    const NAME: &'static str = PROVIDER;
    const TITLE: &'static str = "Eshopbox";
    const SETTINGS: &'static [Setting] = &[
        Setting {
            key: "client_id",
            label: "client id",
            help: "Client id of the custom app.",
            secret: false,
            required: true,
        },
        Setting {
            key: "client_secret",
            label: "client secret",
            help: "Client secret of the custom app.",
            secret: true,
            required: true,
        },
        Setting {
            key: "refresh_token",
            label: "refresh token",
            help: "The custom app's long-lived refresh token.",
            secret: true,
            required: true,
        },
    ];
    const HAS_SANDBOX: bool = false;
    const NEEDS_CONSENT: bool = false;
    const EXAMPLE_SETTINGS: &'static [(&'static str, &'static str)] = &[
        ("client_id", "example-custom-app"),
        ("client_secret", "example-client-secret"),
        ("refresh_token", "example-refresh-token"),
    ];

    fn from_settings(values: &SettingValues) -> Result<Self, Error> {
        Ok(Eshopbox::new(
            values.require("client_id")?,
            ClientSecret::new(values.require("client_secret")?),
            RefreshToken::new(values.require("refresh_token")?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use oauth_core::provider::registry::{ClientOptions, ProviderEntry};

    #[test]
    fn the_example_settings_build_a_client() {
        let entry = ProviderEntry::of::<crate::Eshopbox>();
        let client = entry
            .build(&entry.example_values(), ClientOptions::default())
            .unwrap();
        assert_eq!(client.provider(), "eshopbox");
        assert!(!entry.needs_consent);
        let secret = entry.example_values().with("refresh_token", "SENTINEL-rt");
        let client = entry.build(&secret, ClientOptions::default()).unwrap();
        assert!(!format!("{client:?}").contains("SENTINEL"));
    }
}
