//! [`OAuthLayer`]: the same behaviour as a tower `Layer` for any
//! `Service<http::Request<B>>` (hyper, hyper-util's client, ...; feature
//! `tower`).

use crate::authorizer::{Account, Authorizer};
use crate::body::ApiBody;
use crate::call::{Failure, Wire, call};
use bytes::Bytes;
use http::HeaderMap;
use http_body::Body;
use oauth_core::{AccessToken, AttachToken, AttachTokenExt};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_service::Service;

/// A request body that can be sent again: what a retry after a rejected
/// token needs. The layer's services take requests whose body implements
/// it.
///
/// Implemented for the bodies held in memory (`Bytes`, `Vec<u8>`,
/// `String`, `&'static str`, `&'static [u8]`, `()`,
/// `http_body_util::Full<D>` and `Empty<D>`). A streaming body implements
/// it by returning `None`: a rejected token is then
/// [`Error::NotReplayable`](crate::Error::NotReplayable), not retried.
pub trait ReplayBody: Sized {
    /// A copy to send again, or `None` if this body cannot be copied.
    fn replay(&self) -> Option<Self>;
}

macro_rules! replay_by_clone {
    ($($t:ty),*) => {$(
        impl ReplayBody for $t {
            fn replay(&self) -> Option<Self> {
                Some(self.clone())
            }
        }
    )*};
}

replay_by_clone!(Bytes, Vec<u8>, String, &'static str, &'static [u8], ());

impl<D: Clone> ReplayBody for http_body_util::Full<D> {
    fn replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D> ReplayBody for http_body_util::Empty<D> {
    fn replay(&self) -> Option<Self> {
        Some(Self::new())
    }
}

/// A tower [`Layer`](tower_layer::Layer) that calls the API with a valid
/// token, as [`OAuthMiddleware`](crate::OAuthMiddleware) does for reqwest
/// (the same code): attaches it the provider's way, and when the provider
/// rejects it, refreshes once and retries once. Made by
/// [`Authorizer::layer`].
///
/// Its services need an inner service that is `Clone` (it is called again
/// for the retry), request bodies that implement [`ReplayBody`], and
/// response bodies that are `Unpin` (hyper's `Incoming` is). Answers come
/// back with an [`ApiBody`] (the body as received, or rebuilt after it was
/// read to be classified).
///
/// Cheap to clone; `Debug` never shows a token.
#[derive(Clone, Debug)]
pub struct OAuthLayer {
    authorizer: Authorizer,
}

impl Authorizer {
    /// The tower layer using these tokens.
    #[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
    pub fn layer(&self) -> OAuthLayer {
        OAuthLayer {
            authorizer: self.clone(),
        }
    }
}

impl<S> tower_layer::Layer<S> for OAuthLayer {
    type Service = OAuthService<S>;

    fn layer(&self, inner: S) -> OAuthService<S> {
        OAuthService {
            inner,
            authorizer: self.authorizer.clone(),
        }
    }
}

/// The service [`OAuthLayer`] wraps around `S`.
#[derive(Clone, Debug)]
pub struct OAuthService<S> {
    inner: S,
    authorizer: Authorizer,
}

impl<S> OAuthService<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// An [`OAuthService`]'s error: the inner service's, or the middleware's.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServiceError<E> {
    /// The inner service failed.
    Inner(E),
    /// The answer's body failed while it was read to be classified.
    Body(BoxError),
    /// No token, or a rejected one that was not retried or was rejected
    /// again ([`Error`](crate::Error)).
    Auth(crate::Error),
}

impl<E: fmt::Display> fmt::Display for ServiceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inner(e) => e.fmt(f),
            Self::Body(e) => write!(f, "reading the answer failed: {e}"),
            Self::Auth(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ServiceError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Inner(e) => Some(e),
            Self::Body(e) => Some(&**e),
            Self::Auth(e) => Some(e),
        }
    }
}

/// A boxed error (an answer body's).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The boxed future of an [`OAuthService`].
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqB, ResB> Service<http::Request<ReqB>> for OAuthService<S>
where
    S: Service<http::Request<ReqB>, Response = http::Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqB: ReplayBody + Send + 'static,
    ResB: Body + Unpin + Send + 'static,
    ResB::Error: Into<BoxError> + Send,
{
    type Response = http::Response<ApiBody<ResB>>;
    type Error = ServiceError<S::Error>;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(ServiceError::Inner)
    }

    fn call(&mut self, request: http::Request<ReqB>) -> Self::Future {
        // The service that was made ready goes with the call; a clone stays.
        let clone = self.inner.clone();
        let service = std::mem::replace(&mut self.inner, clone);
        let authorizer = self.authorizer.clone();
        Box::pin(async move {
            let account = request.extensions().get::<Account>().cloned();
            let method = request.method().clone();
            let mut wire = TowerWire {
                service,
                ready: true,
                _body: std::marker::PhantomData,
            };
            match call(&authorizer, &mut wire, request, account.as_ref(), &method).await {
                Ok(response) => Ok(response),
                Err(Failure::Transport(e)) => Err(e),
                Err(Failure::Auth(e)) => Err(ServiceError::Auth(e)),
            }
        })
    }
}

/// The inner service, as the driver's HTTP client.
struct TowerWire<S, ReqB> {
    service: S,
    /// Whether `service` was made ready (the first call's was).
    ready: bool,
    _body: std::marker::PhantomData<fn(ReqB)>,
}

impl<S, ReqB, ResB> Wire for TowerWire<S, ReqB>
where
    S: Service<http::Request<ReqB>, Response = http::Response<ResB>> + Send,
    S::Future: Send,
    S::Error: Send,
    ReqB: ReplayBody + Send,
    ResB: Body + Unpin + Send,
    ResB::Error: Into<BoxError> + Send,
{
    type Request = http::Request<ReqB>;
    type Sent = http::Response<ResB>;
    type Response = http::Response<ApiBody<ResB>>;
    type Body = ResB;
    type Error = ServiceError<S::Error>;
    type Extra = ();

    fn replay(request: &mut http::Request<ReqB>) -> Option<http::Request<ReqB>> {
        let mut copy = http::Request::new(request.body().replay()?);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        // What is empty is not cloned (an emptied map may still hold its
        // allocation).
        if !request.headers().is_empty() {
            *copy.headers_mut() = request.headers().clone();
        }
        if !request.extensions().is_empty() {
            *copy.extensions_mut() = request.extensions().clone();
        }
        Some(copy)
    }

    fn headers_mut(request: &mut http::Request<ReqB>) -> &mut HeaderMap {
        request.headers_mut()
    }

    fn attach(
        request: &mut http::Request<ReqB>,
        attachment: &dyn AttachToken,
        token: &AccessToken,
    ) -> Result<(), oauth_core::Error> {
        attachment.attach_to(token, request)
    }

    async fn send(
        &mut self,
        request: http::Request<ReqB>,
    ) -> Result<http::Response<ResB>, ServiceError<S::Error>> {
        if !self.ready {
            std::future::poll_fn(|cx| self.service.poll_ready(cx))
                .await
                .map_err(ServiceError::Inner)?;
        }
        self.ready = false;
        self.service
            .call(request)
            .await
            .map_err(ServiceError::Inner)
    }

    fn status(response: &http::Response<ResB>) -> u16 {
        response.status().as_u16()
    }

    fn headers(response: &http::Response<ResB>) -> &HeaderMap {
        response.headers()
    }

    fn pass(response: http::Response<ResB>) -> http::Response<ApiBody<ResB>> {
        response.map(ApiBody::new)
    }

    fn split(response: http::Response<ResB>) -> (http::response::Parts, ResB, ()) {
        let (head, body) = response.into_parts();
        (head, body, ())
    }

    fn rebuild(
        head: http::response::Parts,
        body: ApiBody<ResB>,
        (): (),
    ) -> http::Response<ApiBody<ResB>> {
        http::Response::from_parts(head, body)
    }

    fn body_error(error: ResB::Error) -> ServiceError<S::Error> {
        ServiceError::Body(error.into())
    }
}
