//! The reqwest middleware's tracing, captured at TRACE (a test binary of
//! its own: `tracing` caches per call site whether anyone listens, so a
//! scoped subscriber must not race other tests' threads).
#![cfg(feature = "reqwest")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use oauth_middleware::{Account, Authorizer};
use reqwest_middleware::ClientBuilder;
use std::sync::Arc;
use support::{Api, Captured, Grant};

#[test]
fn traces_outcomes_but_never_a_token_or_query() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let api = Api::new(&["SENTINEL-AT-1"]);
        let base = support::serve(api.clone()).await;
        let grant = Arc::new(Grant::default());
        let manager = support::manager(&grant).await;
        let authorizer = Authorizer::new(&support::client(), manager.clone());
        let http = ClientBuilder::new(support::http())
            .with(authorizer.middleware())
            .build();
        let url = format!("{base}/api?secret=SENTINEL-QUERY");
        let answer = http.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let answer = http.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let rejecting = Api::new(&[]);
        let base = support::serve(rejecting).await;
        let err = http
            .get(format!("{base}/api?secret=SENTINEL-QUERY"))
            .send()
            .await
            .unwrap_err();
        // No token in any Debug or error either.
        let texts = [
            format!("{authorizer:?}"),
            format!("{:?}", authorizer.middleware()),
            format!("{manager:?}"),
            format!("{err} {err:?}"),
            format!("{:?}", Account::new("seller-42")),
        ];
        for text in texts {
            assert!(!text.contains("SENTINEL"), "{text}");
        }
    });
    let text = captured.text();
    assert!(text.contains("oauth_api_call"), "{text}");
    assert!(text.contains("outcome=\"refreshed_and_retried\""), "{text}");
    assert!(text.contains("outcome=\"passed\""), "{text}");
    assert!(
        text.contains("outcome=\"rejected_after_refresh\""),
        "{text}"
    );
    assert!(text.contains("provider=\"shopx\""), "{text}");
    assert!(text.contains("account=\"seller-42\""), "{text}");
    assert!(!text.contains("SENTINEL"), "a secret in the trace:\n{text}");
}
