//! The authorization URL (`getAuthorizationCode`).

use crate::config::Client;
use oauth_core::url::Url;
use oauth_core::{CsrfState, authorize_url};

/// Path of the authorization endpoint, relative to the environment's base.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";

impl Client {
    /// The URL to send the seller to:
    /// `<base>/oauth/authorize?response_type=code&client_id=..&redirect_uri=..&state=..`.
    ///
    /// All four parameters are required by OrangeConnex and always present;
    /// there is no scope. Each value is percent-encoded once (RFC 3986).
    /// Keep `state` in the seller's session and check it with
    /// [`oauth_core::parse_callback`] when they come back.
    pub fn authorize_url(&self, state: &CsrfState) -> Url {
        authorize_url(
            &self.authorize_endpoint,
            &[
                ("response_type", "code"),
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", &self.redirect_uri),
                ("state", state.as_str()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::{Client, Environment};
    use oauth_core::CsrfState;

    #[test]
    fn carries_the_four_parameters_in_order() {
        let client = Client::builder("3pp id", "https://app.example/oc/cb?x=1")
            .environment(Environment::Sandbox)
            .build()
            .unwrap();
        let url = client.authorize_url(&CsrfState::from_stored("st-1"));
        assert_eq!(
            url.as_str(),
            "https://openapi-stage-hk.orangeconnex.com/oauth/authorize?response_type=code&client_id=3pp%20id&redirect_uri=https%3A%2F%2Fapp.example%2Foc%2Fcb%3Fx%3D1&state=st-1"
        );
    }
}
