//! The tower layer: the same cases as the reqwest middleware, over an
//! in-process service answering like the loopback API.
#![cfg(feature = "tower")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use oauth_middleware::{
    Account, Authorizer, Error, OAuthService, ReplayBody, ServiceError, Tokens,
};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use support::{Api, Grant};
use tower_layer::Layer;
use tower_service::Service;

/// The API as a tower service (what a hyper client would reach).
#[derive(Clone)]
struct FakeApi(Arc<Api>);

impl<B: AsRef<[u8]> + Send + 'static> Service<http::Request<B>> for FakeApi {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let api = Arc::clone(&self.0);
        Box::pin(async move {
            let authorization = request
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let hold = api.hold.lock().unwrap().clone();
            if let Some(barrier) = hold
                && authorization == "Bearer SENTINEL-AT-0"
            {
                barrier.wait().await;
            }
            let (status, body) = api.answer(
                request.uri().path(),
                &authorization,
                request.body().as_ref(),
            );
            Ok(http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap())
        })
    }
}

/// A streaming body: cannot be sent twice.
struct Streaming(&'static [u8]);

impl AsRef<[u8]> for Streaming {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

impl ReplayBody for Streaming {
    fn replay(&self) -> Option<Self> {
        None
    }
}

fn service(api: &Arc<Api>, tokens: impl Into<Tokens>) -> OAuthService<FakeApi> {
    Authorizer::new(&support::client(), tokens)
        .layer()
        .layer(FakeApi(Arc::clone(api)))
}

async fn send<B>(
    service: &mut OAuthService<FakeApi>,
    request: http::Request<B>,
) -> Result<(u16, Bytes), ServiceError<Infallible>>
where
    B: ReplayBody + AsRef<[u8]> + Send + 'static,
{
    std::future::poll_fn(|cx| Service::<http::Request<B>>::poll_ready(service, cx)).await?;
    let answer = service.call(request).await?;
    let status = answer.status().as_u16();
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    Ok((status, body))
}

/// A request with a body held in memory (`Full<Bytes>` would do as well).
fn post(path: &str, body: &'static str) -> http::Request<Bytes> {
    http::Request::post(format!("http://api.shopx.example{path}"))
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

#[tokio::test]
async fn tower_attaches_the_token() {
    let api = Api::new(&["SENTINEL-AT-0"]);
    let grant = Arc::new(Grant::default());
    let mut service = service(&api, support::manager(&grant).await);
    let (status, body) = send(&mut service, post("/api", "hello")).await.unwrap();
    assert_eq!((status, &body[..]), (200, &b"ok hello"[..]));
    assert_eq!(*api.seen.lock().unwrap(), ["Bearer SENTINEL-AT-0"]);
    assert_eq!(grant.refreshes(), 0);
}

#[tokio::test]
async fn tower_rejected_token_is_refreshed_once_and_the_call_retried_once() {
    let api = Api::new(&["SENTINEL-AT-1"]);
    let grant = Arc::new(Grant::default());
    let mut service = service(&api, support::manager(&grant).await);
    let (status, body) = send(&mut service, post("/api", "payload")).await.unwrap();
    assert_eq!((status, &body[..]), (200, &b"ok payload"[..]));
    assert_eq!(
        *api.seen.lock().unwrap(),
        ["Bearer SENTINEL-AT-0", "Bearer SENTINEL-AT-1"]
    );
    assert_eq!(grant.refreshes(), 1);
}

#[tokio::test]
async fn tower_rejected_twice_is_rejected_after_refresh() {
    let api = Api::new(&[]);
    let grant = Arc::new(Grant::default());
    let mut service = service(&api, support::manager(&grant).await);
    let err = send(&mut service, post("/api", "")).await.unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Auth(Error::OAuth(oauth_core::Error::RejectedAfterRefresh { .. }))
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("SENTINEL"));
    assert_eq!(api.requests(), 2);
    assert_eq!(grant.refreshes(), 1);
}

#[tokio::test]
async fn tower_a_streaming_body_is_not_retried() {
    let api = Api::new(&["SENTINEL-AT-1"]);
    let grant = Arc::new(Grant::default());
    let mut service = service(&api, support::manager(&grant).await);
    let request = http::Request::post("http://api.shopx.example/api")
        .body(Streaming(b"chunk"))
        .unwrap();
    let err = send(&mut service, request).await.unwrap_err();
    assert!(
        matches!(err, ServiceError::Auth(Error::NotReplayable { .. })),
        "{err:?}"
    );
    assert_eq!(api.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_a_thousand_rejected_calls_cause_one_refresh() {
    let api = Api::new(&["SENTINEL-AT-1"]);
    *api.hold.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(1000)));
    let grant = Arc::new(Grant::default());
    let service = service(&api, support::manager(&grant).await);
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let mut service = service.clone();
            tokio::spawn(async move { send(&mut service, post("/api", "")).await.map(|a| a.0) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    assert_eq!(grant.refreshes(), 1);
    assert_eq!(api.requests(), 2000);
}

#[tokio::test]
async fn tower_an_answer_larger_than_the_cap_is_passed_on_whole() {
    let api = Api::new(&["SENTINEL-AT-0"]);
    let grant = Arc::new(Grant::default());
    let mut service = service(&api, support::manager(&grant).await);
    let (status, body) = send(&mut service, post("/big", "")).await.unwrap();
    assert_eq!(status, 401);
    assert!(body == support::big_body());
    assert_eq!(grant.refreshes(), 0);
}

#[tokio::test]
async fn tower_a_pool_routes_by_account() {
    let api = Api::new(&["SENTINEL-S1", "SENTINEL-S2"]);
    let grant = Arc::new(Grant::default());
    let mut service = service(&api, support::pool(&grant).await);
    for account in ["seller-2", "seller-1"] {
        let mut request = post("/api", "");
        request.extensions_mut().insert(Account::new(account));
        assert_eq!(send(&mut service, request).await.unwrap().0, 200);
    }
    assert_eq!(
        *api.seen.lock().unwrap(),
        ["Bearer SENTINEL-S2", "Bearer SENTINEL-S1"]
    );
    let err = send(&mut service, post("/api", "")).await.unwrap_err();
    assert!(matches!(err, ServiceError::Auth(Error::MissingAccount)));
    assert_eq!(api.requests(), 2);
}
