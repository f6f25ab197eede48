//! OrangeConnex against the provider conformance suite of `oauth-core`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use oauth_core::ClientKey;
use oauth_core::test_util::provider_conformance::{ProviderCase, check_provider};
use oauth_core::test_util::recording::ScriptedResponse;
use oauth_orangeconnex::OrangeConnex;

fn token(refresh_token: &str) -> ScriptedResponse {
    ScriptedResponse::json(
        200,
        format!(
            r#"{{"access_token":"SENTINEL-oc-at","token_type":"bearer","expires_in":3599,"refresh_token":"{refresh_token}","scope":"read write"}}"#
        ),
    )
}

#[tokio::test]
async fn orangeconnex_conforms() {
    check_provider(ProviderCase {
        settings: OrangeConnex::new("3pp-client-7", "https://app.example/oc/callback")
            .client_key(ClientKey::new("SENTINEL-client-key")),
        exchange_answer: Some(token("SENTINEL-oc-rt-1")),
        refresh_answer: token("SENTINEL-oc-rt-2"),
        reauthorize_answer: ScriptedResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"Invalid refresh token: SENTINEL-rt-0"}"#,
        ),
        invalid_client_answer: ScriptedResponse::json(
            401,
            r#"{"error":"invalid_client","error_description":"Bad client credentials: SENTINEL-client-key"}"#,
        ),
        initial_answer: None,
    })
    .await;
}
