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
}

impl Authorizer {
    /// The reqwest middleware using these tokens.
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn middleware(&self) -> OAuthMiddleware {
        OAuthMiddleware {
            authorizer: self.clone(),
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
        let mut wire = ReqwestWire { next, extensions };
        match call(
            &self.authorizer,
            &mut wire,
            request,
            account.as_ref(),
            &method,
        )
        .await
        {
            Ok(response) => Ok(response),
            Err(Failure::Transport(e)) => Err(e),
            Err(Failure::Auth(e)) => Err(reqwest_middleware::Error::middleware(e)),
        }
    }
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

    fn replay(request: &Request) -> Option<Request> {
        request.try_clone()
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
