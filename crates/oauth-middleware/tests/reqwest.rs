//! The reqwest middleware against a loopback API.
#![cfg(feature = "reqwest")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use bytes::Bytes;
use oauth_middleware::{Account, Authorizer, Error, Tokens};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use std::sync::Arc;
use support::{Api, Grant};

fn api_client(tokens: impl Into<Tokens>) -> ClientWithMiddleware {
    let authorizer = Authorizer::new(&support::client(), tokens);
    ClientBuilder::new(support::http())
        .with(authorizer.middleware())
        .build()
}

fn oauth_error(e: &reqwest_middleware::Error) -> &Error {
    Error::from_middleware(e).expect("the middleware's error")
}

#[tokio::test]
async fn attaches_the_token() {
    let api = Api::new(&["SENTINEL-AT-0"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::manager(&grant).await);
    let answer = http
        .post(format!("{base}/api"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "ok hello");
    assert_eq!(*api.seen.lock().unwrap(), ["Bearer SENTINEL-AT-0"]);
    assert_eq!(grant.refreshes(), 0);
}

#[tokio::test]
async fn rejected_token_is_refreshed_once_and_the_call_retried_once() {
    let api = Api::new(&["SENTINEL-AT-1"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::manager(&grant).await);
    let answer = http
        .post(format!("{base}/api?page=2"))
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.url().query(), Some("page=2"));
    assert_eq!(answer.text().await.unwrap(), "ok payload");
    assert_eq!(
        *api.seen.lock().unwrap(),
        ["Bearer SENTINEL-AT-0", "Bearer SENTINEL-AT-1"]
    );
    assert_eq!(grant.refreshes(), 1);
}

#[tokio::test]
async fn rejected_twice_is_rejected_after_refresh() {
    let api = Api::new(&[]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::manager(&grant).await);
    let err = http.get(format!("{base}/api")).send().await.unwrap_err();
    assert!(
        matches!(
            oauth_error(&err),
            Error::OAuth(oauth_core::Error::RejectedAfterRefresh { .. })
        ),
        "{err:?}"
    );
    assert_eq!(api.requests(), 2, "exactly two API requests");
    assert_eq!(grant.refreshes(), 1, "exactly one refresh");
    // The API echoed the token in its error: scrubbed.
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{:?}", oauth_error(&err)),
    ] {
        assert!(!text.contains("SENTINEL"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_rejected_calls_cause_one_refresh() {
    let api = Api::new(&["SENTINEL-AT-1"]);
    // Every call's first attempt is answered once all 1000 arrived.
    *api.hold.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(1000)));
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::manager(&grant).await);
    let url = format!("{base}/api");
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let http = http.clone();
            let url = url.clone();
            tokio::spawn(async move { http.get(url).send().await.map(|a| a.status()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    assert_eq!(grant.refreshes(), 1, "one refresh for all");
    let seen = api.seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        2000,
        "each call: one rejected attempt, one retry"
    );
    assert_eq!(
        seen.iter().filter(|s| *s == "Bearer SENTINEL-AT-1").count(),
        1000
    );
}

#[tokio::test]
async fn a_streaming_body_is_not_retried() {
    let api = Api::new(&["SENTINEL-AT-1"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let manager = support::manager(&grant).await;
    let http = api_client(manager.clone());
    let stream = reqwest::Body::wrap(http_body_util::Full::new(Bytes::from_static(b"chunk")));
    let err = http
        .post(format!("{base}/api"))
        .body(stream)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(oauth_error(&err), Error::NotReplayable { .. }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("SENTINEL"));
    assert_eq!(api.requests(), 1, "no retry");
    // The rejected token was invalidated: the next call uses a fresh one.
    let answer = http.get(format!("{base}/api")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(grant.refreshes(), 1);
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_passed_on_whole() {
    let api = Api::new(&["SENTINEL-AT-0"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::manager(&grant).await);
    let answer = http.get(format!("{base}/big")).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(answer.headers()["content-type"], "application/json");
    assert!(answer.url().path().ends_with("/big"));
    let body = answer.bytes().await.unwrap();
    assert_eq!(body.len(), support::BIG);
    assert!(body == support::big_body(), "not a byte lost");
    assert_eq!(api.requests(), 1);
    assert_eq!(grant.refreshes(), 0, "unclassified: no refresh");
}

#[tokio::test]
async fn a_read_answer_is_passed_on_rebuilt() {
    // A 401 with a small body is read and classified; with a cap of 0 it
    // is too large: passed on whole. Either way the caller gets it all.
    let api = Api::new(&[]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let authorizer =
        Authorizer::new(&support::client(), support::manager(&grant).await).body_limit(4);
    let http = ClientBuilder::new(support::http())
        .with(authorizer.middleware())
        .build();
    let answer = http.get(format!("{base}/api")).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .starts_with(r#"{"error":"invalid_token""#)
    );
    assert_eq!(grant.refreshes(), 0);
}

#[tokio::test]
async fn a_pool_routes_by_account() {
    let api = Api::new(&["SENTINEL-S1", "SENTINEL-S2"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::pool(&grant).await);
    for account in ["seller-2", "seller-1", "seller-2"] {
        let answer = http
            .get(format!("{base}/api"))
            .with_extension(Account::new(account))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    assert_eq!(
        *api.seen.lock().unwrap(),
        [
            "Bearer SENTINEL-S2",
            "Bearer SENTINEL-S1",
            "Bearer SENTINEL-S2"
        ]
    );
    // No account: a typed error, nothing sent.
    let err = http.get(format!("{base}/api")).send().await.unwrap_err();
    assert!(
        matches!(oauth_error(&err), Error::MissingAccount),
        "{err:?}"
    );
    // An account the pool does not hold: the pool's typed error.
    let err = http
        .get(format!("{base}/api"))
        .with_extension(Account::new("seller-3"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        oauth_error(&err),
        Error::OAuth(oauth_core::Error::UnknownAccount { .. })
    ));
    assert_eq!(api.requests(), 3);
}

#[tokio::test]
async fn a_pool_account_is_refreshed_and_retried() {
    let api = Api::new(&["SENTINEL-S1", "SENTINEL-AT-1"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let http = api_client(support::pool(&grant).await);
    let answer = http
        .get(format!("{base}/api"))
        .with_extension(Account::new("seller-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        *api.seen.lock().unwrap(),
        ["Bearer SENTINEL-S2", "Bearer SENTINEL-AT-1"]
    );
    assert_eq!(grant.refreshes(), 1);
}

#[tokio::test]
async fn another_attachment_replaces_the_clients() {
    let api = Api::new(&["SENTINEL-AT-0"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let custom: Arc<dyn oauth_core::AttachToken> = Arc::new(oauth_core::HeaderToken::new(
        http::header::AUTHORIZATION,
        "Token ",
    ));
    let authorizer =
        Authorizer::new(&support::client(), support::manager(&grant).await).with_attachment(custom);
    let http = ClientBuilder::new(support::http())
        .with(authorizer.middleware())
        .build();
    let _ = http.get(format!("{base}/api")).send().await;
    let seen = api.seen.lock().unwrap().clone();
    assert_eq!(
        seen.first().map(String::as_str),
        Some("Token SENTINEL-AT-0"),
        "{seen:?}"
    );
}

/// Puts the token in the query, as AliExpress's signature does (and in
/// the header the test API reads).
#[derive(Debug)]
struct TokenInQuery;

impl oauth_core::AttachToken for TokenInQuery {
    fn attach(
        &self,
        token: &oauth_core::AccessToken,
        head: &mut http::request::Parts,
    ) -> Result<(), oauth_core::Error> {
        let uri = format!("{}?access_token={}", head.uri, token.expose_secret());
        head.uri = uri
            .parse()
            .map_err(|_| oauth_core::Error::configuration("bad uri"))?;
        // The test API reads the header.
        oauth_core::HeaderToken::authorization_bearer().attach(token, head)
    }
}

#[tokio::test]
async fn a_token_in_the_query_never_reaches_errors_or_the_answers_url() {
    let api = Api::new(&["SENTINEL-AT-0"]);
    let base = support::serve(api.clone()).await;
    let grant = Arc::new(Grant::default());
    let authorizer = Authorizer::new(&support::client(), support::manager(&grant).await)
        .with_attachment(Arc::new(TokenInQuery));
    let http = ClientBuilder::new(support::http())
        .with(authorizer.middleware())
        .build();
    // An answer: its URL is the caller's.
    let answer = http.get(format!("{base}/api")).send().await.unwrap();
    assert_eq!(answer.url().as_str(), format!("{base}/api"));
    assert!(!answer.url().as_str().contains("SENTINEL"));
    // A transport failure (nothing listens there): no token in the error.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = http
        .get(format!("http://{closed}/api"))
        .send()
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SENTINEL"), "{text}");
    assert!(text.contains(&closed.to_string()), "{text}");
}
