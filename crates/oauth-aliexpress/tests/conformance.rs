//! `oauth-core`'s provider conformance suite on AliExpress: the code flow,
//! refresh with rotation (never repeated), error classes, secret hygiene.

use oauth_aliexpress::AliExpress;
use oauth_core::AppSecret;
use oauth_core::test_util::provider_conformance::{ProviderCase, check_provider};
use oauth_core::test_util::recording::ScriptedResponse;

#[tokio::test]
async fn aliexpress_passes_the_provider_conformance_suite() {
    let answer = r#"{"access_token":"SENTINEL-at-1","refresh_token":"SENTINEL-rt-1","expires_in":86400,"refresh_expires_in":172800,"seller_id":2637908814,"code":"0","request_id":"2101d05f1715220390"}"#;
    check_provider(ProviderCase {
        settings: AliExpress::new("12345678", AppSecret::new("SENTINEL-app-secret"))
            .redirect_uri("https://app.example/callback"),
        exchange_answer: Some(ScriptedResponse::json(200, answer)),
        refresh_answer: ScriptedResponse::json(200, answer),
        reauthorize_answer: ScriptedResponse::json(
            400,
            include_str!("fixtures/error_a_IllegalRefreshToken.json"),
        ),
        invalid_client_answer: ScriptedResponse::json(
            200,
            include_str!("fixtures/error_b_IncompleteSignature.json"),
        ),
        initial_answer: None,
    })
    .await;
}
