//! The consent page URL's parameters.
//!
//! `GET <base>/oauth/authorize?response_type=code&force_auth=true&redirect_uri=<callback>&client_id=<app_key>&state=<state>[&uuid=<uuid>]`
//!
//! The callback receives `?code=...&state=...`: hand the whole URL to
//! [`oauth_core::parse_callback`]. When a `uuid` is sent here
//! ([`ClientExt::authorize_url_with_uuid`](crate::ClientExt::authorize_url_with_uuid)),
//! the same `uuid` must be sent with the code to `/auth/token/create`
//! ([`ClientExt::exchange_code_with_uuid`](crate::ClientExt::exchange_code_with_uuid)).

use crate::config::AliExpress;
use oauth_core::url::Url;
use oauth_core::{CsrfState, Error, encode_component};

impl AliExpress {
    /// The consent page's parameters, in order, for `state`.
    pub(crate) fn consent_params(
        &self,
        state: &CsrfState,
    ) -> Result<Vec<(&'static str, String)>, Error> {
        let force_auth = if self.forces_auth() { "true" } else { "false" };
        Ok(vec![
            ("response_type", "code".to_owned()),
            ("force_auth", force_auth.to_owned()),
            (
                "redirect_uri",
                self.checked_redirect_uri()?.as_str().to_owned(),
            ),
            ("client_id", self.app_key().as_str().to_owned()),
            ("state", state.as_str().to_owned()),
        ])
    }
}

/// The consent URL `url` with `uuid` as its last parameter, encoded as
/// the others are; a blank `uuid` is left out.
pub(crate) fn with_uuid(mut url: Url, uuid: &str) -> Url {
    let uuid = uuid.trim();
    if !uuid.is_empty() {
        let query = format!(
            "{}&uuid={}",
            url.query().unwrap_or_default(),
            encode_component(uuid)
        );
        url.set_query(Some(&query));
    }
    url
}

#[cfg(test)]
mod tests {
    use crate::{AliExpress, Client, ClientExt};
    use oauth_core::{AppSecret, CsrfState};

    fn client(force_auth: bool) -> Client {
        let settings = AliExpress::new("12345678", AppSecret::new("s"))
            .redirect_uri("https://app.example/cb?x=1")
            .force_auth(force_auth);
        Client::builder(settings).build().unwrap()
    }

    #[test]
    fn authorize_url_has_every_parameter_in_order() {
        let state = CsrfState::from_stored("st-1");
        assert_eq!(
            client(true).authorize_url(&state).unwrap().as_str(),
            "https://api-sg.aliexpress.com/oauth/authorize?response_type=code&force_auth=true&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&client_id=12345678&state=st-1"
        );
        assert_eq!(
            client(false)
                .authorize_url_with_uuid(&state, "u-9")
                .unwrap()
                .as_str(),
            "https://api-sg.aliexpress.com/oauth/authorize?response_type=code&force_auth=false&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&client_id=12345678&state=st-1&uuid=u-9"
        );
        assert!(
            !client(true)
                .authorize_url_with_uuid(&state, "")
                .unwrap()
                .as_str()
                .contains("uuid")
        );
    }
}
