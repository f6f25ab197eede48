//! The authorization URL (`getAuthorizationCode`).

use crate::OrangeConnex;
use oauth_core::CsrfState;

/// Path of the authorization endpoint, relative to the environment's base.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";

impl OrangeConnex {
    /// The query of the URL to send the seller to:
    /// `<base>/oauth/authorize?response_type=code&client_id=..&redirect_uri=..&state=..`.
    ///
    /// All four parameters are required by OrangeConnex and always present;
    /// there is no scope. `Client::authorize_url` percent-encodes each value
    /// once (RFC 3986). Keep `state` in the seller's session and check it
    /// with [`oauth_core::parse_callback`] when they come back.
    pub(crate) fn authorize_query(&self, state: &CsrfState) -> Vec<(&'static str, String)> {
        vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client_id().as_str().to_owned()),
            ("redirect_uri", self.redirect_uri().to_owned()),
            ("state", state.as_str().to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::{Client, Environment, OrangeConnex};
    use oauth_core::CsrfState;

    #[test]
    fn carries_the_four_parameters_in_order() {
        let client = Client::builder(OrangeConnex::new("3pp id", "https://app.example/oc/cb?x=1"))
            .environment(Environment::Sandbox)
            .build()
            .unwrap();
        let url = client
            .authorize_url(&CsrfState::from_stored("st-1"))
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://openapi-stage-hk.orangeconnex.com/oauth/authorize?response_type=code&client_id=3pp%20id&redirect_uri=https%3A%2F%2Fapp.example%2Foc%2Fcb%3Fx%3D1&state=st-1"
        );
    }
}
