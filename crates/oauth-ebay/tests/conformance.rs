//! eBay against the provider conformance suite of `oauth-core`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use oauth_core::test_util::provider_conformance::{ProviderCase, check_provider};
use oauth_core::test_util::recording::ScriptedResponse;
use oauth_core::{ClientSecret, Scopes};
use oauth_ebay::{API_SCOPE, Ebay};

#[tokio::test]
async fn ebay_conforms() {
    check_provider(ProviderCase {
        settings: Ebay::new("App-ID-1", ClientSecret::new("SENTINEL-cert-id"))
            .ru_name("Example_Inc-Example-Test-abcd")
            .scopes(Scopes::from([API_SCOPE])),
        exchange_answer: Some(ScriptedResponse::json(
            200,
            r#"{"access_token":"v^1.1#SENTINEL-at-1","expires_in":7200,"refresh_token":"v^1.1#SENTINEL-rt-1","refresh_token_expires_in":47304000,"token_type":"User Access Token"}"#,
        )),
        // eBay does not rotate: a refresh answers with an access token only.
        refresh_answer: ScriptedResponse::json(
            200,
            r#"{"access_token":"v^1.1#SENTINEL-at-2","expires_in":7200,"token_type":"User Access Token"}"#,
        ),
        reauthorize_answer: ScriptedResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}"#,
        ),
        invalid_client_answer: ScriptedResponse::json(
            401,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
        ),
        initial_answer: None,
    })
    .await;
}
