//! The one implementation of a call with a token, over any HTTP client
//! ([`Wire`]): attach, send, classify, and on a rejected token invalidate,
//! refresh (the manager's single flight) and retry once.
//!
//! The steps, as in the code:
//! 1. the account's token source ([`Authorizer::source`]: a pool needs an
//!    [`Account`]);
//! 2. a token ([`Source::token`]: lock-free while fresh);
//! 3. a copy of the request *before* attaching, for a retry
//!    ([`Wire::replay`]; `None` for a streaming body);
//! 4. attach and send;
//! 5. ask the provider whether the answer must be read
//!    (`api_answer_needs_body`); if not, pass it on untouched (**passed**);
//! 6. read it within the cap; larger: pass it on whole, unclassified;
//! 7. classify; anything but a rejected token: pass it on (rebuilt from
//!    what was read);
//! 8. rejected: invalidate that token (a compare-and-swap: of any number of
//!    rejected calls, one changes the manager, and its next read starts
//!    the one refresh all share); without a copy: **not_replayable**;
//! 9. a fresh token (`access_token`: the single flight), attached to the
//!    copy, sent **once**; rejected again: **rejected_after_refresh**
//!    ([`oauth_core::Error::RejectedAfterRefresh`]), otherwise
//!    **refreshed_and_retried**. There is no loop: step 9 has no step 8.

use crate::authorizer::{Account, Authorizer, Source};
use crate::body::{ApiBody, Read, read_bounded};
use crate::error::Error;
use bytes::Bytes;
use http::HeaderMap;
use oauth_core::{AccessToken, AttachToken, RawResponse, TokenHandle};
use std::future::Future;
use tracing::Instrument;

/// What the driver needs from an HTTP client: its request and answer
/// types, a copy of a request, attaching, sending, and the answer's head
/// and body.
pub(crate) trait Wire: Send {
    type Request: Send;
    /// An answer as sent back by the client.
    type Sent: Send;
    /// An answer as the middleware passes it on.
    type Response: Send;
    /// The answer's body as read (`Unpin`: read in place).
    type Body: http_body::Body<Error: Send> + Unpin + Send;
    type Error: Send;

    /// A copy of `request` for a retry, or `None` if its body cannot be
    /// copied (`request` itself is left as it was: `&mut` lets an adapter
    /// share the body's bytes between the two).
    fn replay(request: &mut Self::Request) -> Option<Self::Request>;

    /// The request's headers (the attachment's fast path inserts the
    /// token's headers there).
    fn headers_mut(request: &mut Self::Request) -> &mut HeaderMap;

    /// The attachment's general path: the request's whole head.
    fn attach(
        request: &mut Self::Request,
        attachment: &dyn AttachToken,
        token: &AccessToken,
    ) -> Result<(), oauth_core::Error>;

    fn send(
        &mut self,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Sent, Self::Error>> + Send;

    fn status(response: &Self::Sent) -> u16;
    fn headers(response: &Self::Sent) -> &HeaderMap;

    /// An answer passed on unread.
    fn pass(response: Self::Sent) -> Self::Response;

    /// What an adapter keeps aside while an answer's body is read
    /// (reqwest: the answer's URL).
    type Extra: Send;

    /// The answer split into what rebuilds it and its body.
    fn split(response: Self::Sent) -> (http::response::Parts, Self::Body, Self::Extra);

    /// The answer rebuilt with `body` (what was read, then the rest).
    fn rebuild(
        head: http::response::Parts,
        body: ApiBody<Self::Body>,
        extra: Self::Extra,
    ) -> Self::Response;

    fn body_error(error: <Self::Body as http_body::Body>::Error) -> Self::Error;
}

/// A call's failure: the HTTP client's, or ours.
pub(crate) enum Failure<E> {
    Transport(E),
    Auth(Error),
}

impl<E> From<Error> for Failure<E> {
    fn from(e: Error) -> Self {
        Self::Auth(e)
    }
}

impl<E> From<oauth_core::Error> for Failure<E> {
    fn from(e: oauth_core::Error) -> Self {
        Self::Auth(Error::OAuth(e))
    }
}

/// How a call ended, as traced (`outcome`).
#[derive(Clone, Copy)]
enum Outcome {
    Passed,
    RefreshedAndRetried,
    RejectedAfterRefresh,
    NotReplayable,
    Error,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::RefreshedAndRetried => "refreshed_and_retried",
            Self::RejectedAfterRefresh => "rejected_after_refresh",
            Self::NotReplayable => "not_replayable",
            Self::Error => "error",
        }
    }
}

/// What became of one attempt's answer.
enum Verdict<R> {
    /// Pass it on.
    Pass(R),
    /// The token was rejected (the answer is dropped).
    Rejected(oauth_core::ProviderDetails),
}

/// Makes the call `request` through `wire` with `authorizer`'s tokens.
///
/// Traced as one `oauth_api_call` span (debug level) with the provider,
/// the account, the method and the outcome (never a token, never the URL).
pub(crate) async fn call<W>(
    authorizer: &Authorizer,
    wire: &mut W,
    request: W::Request,
    account: Option<&Account>,
    method: &http::Method,
) -> Result<W::Response, Failure<W::Error>>
where
    W: Wire,
{
    let span = tracing::debug_span!(
        "oauth_api_call",
        provider = authorizer.provider(),
        account = tracing::field::Empty,
        method = %method,
        status = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    let inner = async {
        let (outcome, result) = attempts(authorizer, wire, request, account).await;
        tracing::Span::current().record("outcome", outcome.as_str());
        result
    };
    inner.instrument(span).await
}

async fn attempts<W>(
    authorizer: &Authorizer,
    wire: &mut W,
    mut request: W::Request,
    account: Option<&Account>,
) -> (Outcome, Result<W::Response, Failure<W::Error>>)
where
    W: Wire,
{
    // 1. The account.
    let source = match authorizer.source(account) {
        Ok(source) => source,
        Err(e) => return (Outcome::Error, Err(e.into())),
    };
    tracing::Span::current().record("account", source.account());
    // 2. A token.
    let handle = match source.token().await {
        Ok(handle) => handle,
        Err(e) => return (Outcome::Error, Err(e.into())),
    };
    // 3. The copy for a retry, before attaching.
    let replay = W::replay(&mut request);
    // 4-7. The first attempt.
    let details = match attempt(authorizer, &source, wire, request, &handle).await {
        Ok(Verdict::Pass(response)) => return (Outcome::Passed, Ok(response)),
        Ok(Verdict::Rejected(details)) => details,
        Err(e) => return (Outcome::Error, Err(e)),
    };
    // 8. Rejected: invalidate (CAS), and retry only with a copy.
    source.invalidate(&handle);
    let Some(replay) = replay else {
        let error = Error::NotReplayable { details };
        return (Outcome::NotReplayable, Err(error.into()));
    };
    // 9. One refresh for all (the manager's single flight), one retry.
    let fresh = match source.token().await {
        Ok(fresh) => fresh,
        Err(e) => return (Outcome::Error, Err(e.into())),
    };
    match attempt(authorizer, &source, wire, replay, &fresh).await {
        Ok(Verdict::Pass(response)) => (Outcome::RefreshedAndRetried, Ok(response)),
        Ok(Verdict::Rejected(details)) => {
            let error = oauth_core::Error::RejectedAfterRefresh { details };
            tracing::warn!("access token rejected again after a refresh");
            (Outcome::RejectedAfterRefresh, Err(error.into()))
        }
        Err(e) => (Outcome::Error, Err(e)),
    }
}

/// One attempt: attach `handle`'s token to `request`, send, classify when
/// the provider asks.
async fn attempt<W>(
    authorizer: &Authorizer,
    source: &Source<'_>,
    wire: &mut W,
    mut request: W::Request,
    handle: &TokenHandle,
) -> Result<Verdict<W::Response>, Failure<W::Error>>
where
    W: Wire,
{
    let client = authorizer.client();
    match authorizer.token_headers(source, handle)? {
        // Headers only (built once per token): clones inserted.
        Some(headers) => {
            let map = W::headers_mut(&mut request);
            for (name, value) in headers.iter() {
                map.insert(name.clone(), value.clone());
            }
        }
        None => W::attach(&mut request, authorizer.attachment(), handle.access_token())?,
    }
    let response = wire.send(request).await.map_err(Failure::Transport)?;
    tracing::Span::current().record("status", W::status(&response));
    if !client.api_answer_needs_body(W::status(&response), W::headers(&response)) {
        return Ok(Verdict::Pass(W::pass(response)));
    }
    let (head, body, extra) = W::split(response);
    let (bytes, body): (Bytes, _) = match read_bounded(body, authorizer.inner.body_limit).await {
        Ok(Read::Whole(bytes, body)) => (bytes, body),
        Ok(Read::TooLarge(body)) => return Ok(Verdict::Pass(W::rebuild(head, body, extra))),
        Err(e) => return Err(Failure::Transport(W::body_error(e))),
    };
    let raw = RawResponse::from_http(
        authorizer.provider(),
        head.status.as_u16(),
        &head.headers,
        bytes,
    )
    .with_sent_secrets(vec![handle.expose_secret().to_owned().into()]);
    match client
        .classify_api_response(&raw)
        .map_err(|e| raw.scrub_error(e))
    {
        Err(oauth_core::Error::AccessTokenRejected { details }) => Ok(Verdict::Rejected(details)),
        _ => Ok(Verdict::Pass(W::rebuild(head, body, extra))),
    }
}
