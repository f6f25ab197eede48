//! [`OAuthMiddleware`]: the middleware for reqwest-middleware (feature
//! `reqwest`).

use crate::authorizer::{Account, Authorizer};
use crate::body::ApiBody;
use crate::call::{Failure, Wire, call};
use http::{Extensions, HeaderMap};
use oauth_core::url::{Position, Url};
use oauth_core::{AccessToken, AttachToken};
use reqwest::{Request, Response, ResponseBuilderExt};
use reqwest_middleware::{Middleware, Next};

/// A [`reqwest_middleware::Middleware`] that calls the API with a valid
/// token: attaches it the provider's way, and when the provider rejects it,
/// refreshes once and retries once. Made by [`Authorizer::middleware`].
///
/// Its errors are `reqwest_middleware::Error::Middleware` holding an
/// [`Error`](crate::Error): find it with
/// [`Error::from_middleware`](crate::Error::from_middleware) (or
/// `anyhow::Error::downcast_ref::<oauth_middleware::Error>()`). Transport
/// errors stay `reqwest_middleware::Error::Reqwest`.
///
/// Retrying needs a copy of the request (`reqwest::Request::try_clone`):
/// a body held in memory (bytes, text, JSON, form) can be copied, a
/// streaming one (`Body::wrap_stream`) cannot; a rejected token on such a
/// request is [`Error::NotReplayable`](crate::Error::NotReplayable).
///
/// Cheap to clone; `Debug` never shows a token.
#[derive(Clone, Debug)]
pub struct OAuthMiddleware {
    authorizer: Authorizer,
    /// [`Authorizer::rewrites_url`], asked once.
    rewrites_url: bool,
}

impl Authorizer {
    /// The reqwest middleware using these tokens.
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn middleware(&self) -> OAuthMiddleware {
        OAuthMiddleware {
            authorizer: self.clone(),
            rewrites_url: self.rewrites_url(),
        }
    }
}

impl OAuthMiddleware {
    /// The authorizer it uses.
    pub fn authorizer(&self) -> &Authorizer {
        &self.authorizer
    }
}

#[async_trait::async_trait]
impl Middleware for OAuthMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let account = extensions.get::<Account>().cloned();
        let method = request.method().clone();
        // An attachment that signs the query (AliExpress) puts the token in
        // the URL that reqwest reports in its errors and as `Response::url()`:
        // those get the caller's URL back. Header attachments leave the URL
        // alone (and cost no copy here).
        let original = self.rewrites_url.then(|| request.url().clone());
        let mut wire = ReqwestWire { next, extensions };
        let outcome = call(
            &self.authorizer,
            &mut wire,
            request,
            account.as_ref(),
            &method,
        )
        .await;
        match (outcome, original) {
            (Ok(response), None) => Ok(response),
            (Ok(response), Some(url)) => {
                let (head, body, _) = ReqwestWire::split(response);
                Ok(ReqwestWire::rebuild(head, ApiBody::new(body), url))
            }
            (Err(Failure::Transport(e)), original) => Err(match (e, original) {
                (reqwest_middleware::Error::Reqwest(e), Some(url)) => {
                    reqwest_middleware::Error::Reqwest(e.with_url(url))
                }
                (e, _) => e,
            }),
            (Err(Failure::Auth(e)), _) => Err(reqwest_middleware::Error::middleware(e)),
        }
    }
}

/// A copy of a body held in memory (`None` for a streaming one), sharing
/// its bytes: reqwest's `Body::try_clone` is not public, so the bytes are
/// taken out (a reusable body yields them whole, at once, without copying)
/// and put in two bodies.
fn copy_body(body: &mut reqwest::Body) -> Option<reqwest::Body> {
    use http_body::Body as _;
    let len = body.as_bytes()?.len();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let bytes = match std::pin::Pin::new(&mut *body).poll_frame(&mut cx) {
        std::task::Poll::Ready(Some(Ok(frame))) => frame.into_data().ok()?,
        // Empty.
        std::task::Poll::Ready(None) => bytes::Bytes::new(),
        _ => return None,
    };
    *body = reqwest::Body::from(bytes.clone());
    // Anything else would be a change in reqwest: do not retry.
    (bytes.len() == len).then(|| reqwest::Body::from(bytes))
}

/// The rest of the middleware chain, as the driver's HTTP client.
struct ReqwestWire<'a> {
    next: Next<'a>,
    extensions: &'a mut Extensions,
}

impl Wire for ReqwestWire<'_> {
    type Request = Request;
    type Sent = Response;
    type Response = Response;
    type Body = reqwest::Body;
    type Error = reqwest_middleware::Error;
    type Extra = Url;

    fn replay(request: &mut Request) -> Option<Request> {
        // Not `Request::try_clone`: it sets the copy's timeout (kept in the
        // request's extensions) before replacing them all, which allocates a
        // map, a table and a box even when there is no timeout. reqwest
        // 0.13's request extensions are private and hold nothing else it
        // reads (`RequestConfig<TotalTimeout>` is its only per-request
        // setting), so the copy is the method, the URL (one allocation),
        // the version, the headers (none to copy before the token is
        // attached, unless the caller set some), the timeout and the body
        // (shared).
        let body = match request.body_mut() {
            Some(body) => Some(copy_body(body)?),
            None => None,
        };
        let mut copy = Request::new(request.method().clone(), request.url().clone());
        *copy.version_mut() = request.version();
        if !request.headers().is_empty() {
            *copy.headers_mut() = request.headers().clone();
        }
        if let Some(timeout) = request.timeout() {
            *copy.timeout_mut() = Some(*timeout);
        }
        *copy.body_mut() = body;
        Some(copy)
    }

    fn headers_mut(request: &mut Request) -> &mut HeaderMap {
        request.headers_mut()
    }

    fn attach(
        request: &mut Request,
        attachment: &dyn AttachToken,
        token: &AccessToken,
    ) -> Result<(), oauth_core::Error> {
        // The head as `http` parts: the headers moved (no copy), the URL
        // parsed as a URI (fragments are never sent).
        let uri = http::Uri::try_from(&request.url()[..Position::AfterQuery])
            .map_err(|_| oauth_core::Error::configuration("the request URL is not a valid URI"))?;
        let (mut head, ()) = http::Request::new(()).into_parts();
        head.method = request.method().clone();
        head.uri = uri;
        head.version = request.version();
        head.headers = std::mem::take(request.headers_mut());
        let outcome = attachment.attach(token, &mut head);
        // The headers go back in any case (after a failure the request is
        // not sent).
        *request.headers_mut() = head.headers;
        outcome?;
        // A provider that signs the query (AliExpress) changed it.
        if head.uri != request.url()[..Position::AfterQuery] {
            *request.url_mut() = Url::parse(&head.uri.to_string()).map_err(|_| {
                oauth_core::Error::configuration("the signed request URL is not valid")
            })?;
        }
        Ok(())
    }

    fn send(
        &mut self,
        request: Request,
    ) -> impl Future<Output = Result<Response, reqwest_middleware::Error>> + Send {
        self.next.clone().run(request, &mut *self.extensions)
    }

    fn status(response: &Response) -> u16 {
        response.status().as_u16()
    }

    fn headers(response: &Response) -> &HeaderMap {
        response.headers()
    }

    fn pass(response: Response) -> Response {
        response
    }

    fn split(response: Response) -> (http::response::Parts, reqwest::Body, Url) {
        let url = response.url().clone();
        let (head, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        (head, body, url)
    }

    fn rebuild(
        mut head: http::response::Parts,
        body: ApiBody<reqwest::Body>,
        url: Url,
    ) -> Response {
        // `Response::url()` again: reqwest keeps it in an extension only its
        // response builder can set.
        if let Ok(with_url) = http::Response::builder().url(url).body(()) {
            head.extensions.extend(with_url.into_parts().0.extensions);
        }
        Response::from(http::Response::from_parts(head, reqwest::Body::wrap(body)))
    }

    fn body_error(error: reqwest::Error) -> reqwest_middleware::Error {
        reqwest_middleware::Error::Reqwest(error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_copy_for_a_retry_keeps_the_request_whole() {
        let url = Url::parse("https://api.example/x?a=1").unwrap();
        for body in [Some("payload"), Some(""), None] {
            let mut request = Request::new(http::Method::POST, url.clone());
            request
                .headers_mut()
                .insert("x-other", "1".parse().unwrap());
            *request.timeout_mut() = Some(Duration::from_secs(7));
            *request.body_mut() = body.map(reqwest::Body::from);
            let copy = ReqwestWire::replay(&mut request).unwrap();
            for r in [&request, &copy] {
                assert_eq!(r.method(), http::Method::POST);
                assert_eq!(r.url(), &url);
                assert_eq!(r.headers()["x-other"], "1");
                assert_eq!(r.timeout(), Some(&Duration::from_secs(7)));
                assert_eq!(
                    r.body().and_then(reqwest::Body::as_bytes),
                    body.map(str::as_bytes)
                );
            }
        }
        let mut bare = Request::new(http::Method::GET, url);
        let copy = ReqwestWire::replay(&mut bare).unwrap();
        assert!(copy.headers().is_empty() && copy.timeout().is_none());
    }
}
