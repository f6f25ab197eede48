//! The consent page URL.
//!
//! `GET <base>/oauth/authorize?response_type=code&force_auth=true&redirect_uri=<callback>&client_id=<app_key>&state=<state>[&uuid=<uuid>]`
//!
//! The callback receives `?code=...&state=...`: hand the whole URL to
//! [`oauth_core::parse_callback`]. When a `uuid` is sent here, the same
//! `uuid` must be sent with the code to `/auth/token/create`
//! ([`Client::create_token`]).

use crate::config::{AUTHORIZE_PATH, Client};
use oauth_core::url::Url;
use oauth_core::{CsrfState, authorize_url};

impl Client {
    /// The consent page URL for `state`, without `uuid`.
    pub fn authorize_url(&self, state: &CsrfState) -> Url {
        self.build_authorize_url(state, None)
    }

    /// The consent page URL for `state` with a `uuid` that binds the code to
    /// this flow: pass the same `uuid` to [`create_token`](Self::create_token).
    /// An empty `uuid` is left out.
    pub fn authorize_url_with_uuid(&self, state: &CsrfState, uuid: &str) -> Url {
        self.build_authorize_url(state, Some(uuid))
    }

    fn build_authorize_url(&self, state: &CsrfState, uuid: Option<&str>) -> Url {
        let endpoint = self.base.join_path(AUTHORIZE_PATH);
        let mut params = vec![
            ("response_type", "code"),
            ("force_auth", if self.force_auth { "true" } else { "false" }),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("client_id", self.app_key.as_str()),
            ("state", state.as_str()),
        ];
        if let Some(uuid) = uuid.map(str::trim).filter(|u| !u.is_empty()) {
            params.push(("uuid", uuid));
        }
        authorize_url(&endpoint, &params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::AppSecret;

    fn client(force_auth: bool) -> Client {
        Client::builder("12345678", AppSecret::new("s"))
            .redirect_uri("https://app.example/cb?x=1")
            .force_auth(force_auth)
            .build()
            .unwrap()
    }

    #[test]
    fn authorize_url_has_every_parameter_in_order() {
        let state = CsrfState::from_stored("st-1");
        assert_eq!(
            client(true).authorize_url(&state).as_str(),
            "https://api-sg.aliexpress.com/oauth/authorize?response_type=code&force_auth=true&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&client_id=12345678&state=st-1"
        );
        assert_eq!(
            client(false)
                .authorize_url_with_uuid(&state, "u-9")
                .as_str(),
            "https://api-sg.aliexpress.com/oauth/authorize?response_type=code&force_auth=false&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&client_id=12345678&state=st-1&uuid=u-9"
        );
        assert!(
            !client(true)
                .authorize_url_with_uuid(&state, "")
                .as_str()
                .contains("uuid")
        );
    }
}
