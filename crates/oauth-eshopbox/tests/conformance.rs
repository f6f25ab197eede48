//! `oauth-core`'s provider conformance suite on Eshopbox: refresh, retries,
//! error classes, the first token without consent, secret hygiene.

use oauth_core::test_util::provider_conformance::{ProviderCase, check_provider};
use oauth_core::test_util::recording::ScriptedResponse;
use oauth_eshopbox::{ClientSecret, Eshopbox, RefreshToken};

#[tokio::test]
async fn eshopbox_passes_the_provider_conformance_suite() {
    let answer = r#"{"access_token":"SENTINEL-at-1","id_token":"SENTINEL-id-1","scope":"openid profile","expires_in":86400,"token_type":"Bearer"}"#;
    check_provider(ProviderCase {
        settings: Eshopbox::new(
            "client-1",
            ClientSecret::new("SENTINEL-cs-1"),
            RefreshToken::new("SENTINEL-rt-configured"),
        ),
        exchange_answer: None,
        refresh_answer: ScriptedResponse::json(200, answer),
        reauthorize_answer: ScriptedResponse::json(
            403,
            r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
        ),
        invalid_client_answer: ScriptedResponse::json(
            401,
            r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        ),
        initial_answer: Some(ScriptedResponse::json(200, answer)),
    })
    .await;
}
