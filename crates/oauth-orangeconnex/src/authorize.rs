//! The authorization URL (`getAuthorizationCode`).

/// Path of the authorization endpoint, relative to the environment's base.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";

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
