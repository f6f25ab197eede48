//! A fake [`Transport`]: scripted answers and recorded requests, no
//! sockets (feature `test-util`).
//!
//! ```
//! # async fn demo() -> Result<(), oauth_core::Error> {
//! use oauth_core::test_util::transport::{FakeAnswer, FakeTransport};
//! use oauth_core::{Params, TokenRequest};
//!
//! let fake = FakeTransport::new();
//! fake.push(FakeAnswer::status(503).header(http::header::RETRY_AFTER, "1"));
//! fake.push(FakeAnswer::json(200, r#"{"access_token":"a","token_type":"bearer"}"#));
//! let client = fake.client_builder().build()?;
//!
//! let url = url::Url::parse("https://auth.example/token").unwrap();
//! let request = TokenRequest::post("example", "client_credentials", url)
//!     .form(Params::new().plain("grant_type", "client_credentials"))
//!     .retry_safe(true);
//! let response = client.send(&request).await?;
//! assert_eq!(response.status(), 200);
//! let sent = fake.requests();
//! assert_eq!(sent.len(), 2);
//! assert_eq!(sent[1].body, "grant_type=client_credentials");
//! # Ok(())
//! # }
//! # use oauth_core::{http_types as http, url};
//! ```

use crate::transport::{
    BodyStream, HttpClient, HttpClientBuilder, ResponseBody, Transport, TransportError,
    TransportRequest, TransportResponse,
};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

/// A [`Transport`] that answers from a script and records every request.
///
/// Answers are taken in order ([`push`](Self::push)); once the script is
/// used up, every request gets the [`otherwise`](Self::otherwise) answer,
/// or a connection error if none was set. Clones share the script and the
/// record.
#[derive(Clone, Default)]
pub struct FakeTransport {
    state: Arc<Mutex<State>>,
    /// Body chunks handed to the client so far.
    chunks_read: Arc<AtomicUsize>,
}

#[derive(Default)]
struct State {
    script: VecDeque<FakeAnswer>,
    otherwise: Option<FakeAnswer>,
    requests: Vec<TransportRequest>,
}

impl FakeTransport {
    /// No answer scripted, nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread cannot leave the state half-written.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends an answer to the script.
    pub fn push(&self, answer: FakeAnswer) -> &Self {
        self.state().script.push_back(answer);
        self
    }

    /// The answer once the script is used up.
    pub fn otherwise(&self, answer: FakeAnswer) -> &Self {
        self.state().otherwise = Some(answer);
        self
    }

    /// Every request received so far, in order: method, full URL, headers
    /// in wire order, body bytes.
    pub fn requests(&self) -> Vec<TransportRequest> {
        self.state().requests.clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.state().requests.len()
    }

    /// How many body chunks the client has read, over all answers (an
    /// oversized body must be refused without reading it whole).
    pub fn chunks_read(&self) -> usize {
        self.chunks_read.load(Ordering::SeqCst)
    }

    /// An [`HttpClient`] builder sending through this transport.
    pub fn client_builder(&self) -> HttpClientBuilder {
        HttpClient::builder().transport(Arc::new(self.clone()))
    }
}

impl fmt::Debug for FakeTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("FakeTransport")
            .field("scripted", &state.script.len())
            .field("requests", &state.requests.len())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Transport for FakeTransport {
    async fn send(&self, request: TransportRequest) -> Result<TransportResponse, TransportError> {
        let answer = {
            let mut state = self.state();
            state.requests.push(request);
            state.script.pop_front().or_else(|| state.otherwise.clone())
        };
        let Some(answer) = answer else {
            return Err(TransportError::connect(
                "fake transport: no answer scripted",
            ));
        };
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        match answer.outcome {
            Outcome::Error(error) => Err(error),
            Outcome::Response {
                status,
                headers,
                chunks,
                announced_len,
                followed_redirect,
            } => {
                let body = ResponseBody::from_stream(FakeBody {
                    chunks: chunks.into(),
                    announced_len,
                    read: Arc::clone(&self.chunks_read),
                });
                Ok(TransportResponse::new(status, headers, body)
                    .with_followed_redirect(followed_redirect))
            }
        }
    }
}

/// One scripted answer: a response (status, headers, body in chunks) or a
/// transport error, after an optional delay.
#[derive(Clone, Debug)]
pub struct FakeAnswer {
    delay: Duration,
    outcome: Outcome,
}

#[derive(Clone, Debug)]
enum Outcome {
    Response {
        status: StatusCode,
        headers: HeaderMap,
        chunks: Vec<Bytes>,
        announced_len: Option<u64>,
        followed_redirect: bool,
    },
    Error(TransportError),
}

impl FakeAnswer {
    /// A response with this status, no header and no body. A status
    /// outside 100..=999 becomes 500.
    pub fn status(status: u16) -> Self {
        Self {
            delay: Duration::ZERO,
            outcome: Outcome::Response {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                headers: HeaderMap::new(),
                chunks: Vec::new(),
                announced_len: None,
                followed_redirect: false,
            },
        }
    }

    /// A response with this status and a JSON body
    /// (`Content-Type: application/json`).
    pub fn json(status: u16, body: &str) -> Self {
        Self::status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
    }

    /// A transport error instead of a response.
    pub fn error(error: TransportError) -> Self {
        Self {
            delay: Duration::ZERO,
            outcome: Outcome::Error(error),
        }
    }

    /// Waits this long before answering (the client's per-attempt timeout
    /// applies; with tokio's paused clock the wait costs no real time).
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: &'static str) -> Self {
        if let Outcome::Response { headers, .. } = &mut self.outcome {
            headers.append(name, HeaderValue::from_static(value));
        }
        self
    }

    /// The body, in one chunk.
    #[must_use]
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        self.chunks([body.into()])
    }

    /// The body, in these chunks.
    #[must_use]
    pub fn chunks<I>(mut self, chunks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
    {
        if let Outcome::Response { chunks: body, .. } = &mut self.outcome {
            *body = chunks.into_iter().map(Into::into).collect();
        }
        self
    }

    /// Announces this exact body length before the body is read (as a
    /// `Content-Length` would), whatever the chunks add up to.
    #[must_use]
    pub fn announced_len(mut self, len: u64) -> Self {
        if let Outcome::Response { announced_len, .. } = &mut self.outcome {
            *announced_len = Some(len);
        }
        self
    }

    /// Says that this answer came after following a redirect (as a
    /// transport over a redirect-following client would).
    #[must_use]
    pub fn followed_redirect(mut self) -> Self {
        if let Outcome::Response {
            followed_redirect, ..
        } = &mut self.outcome
        {
            *followed_redirect = true;
        }
        self
    }
}

/// A scripted body, handed out chunk by chunk.
struct FakeBody {
    chunks: VecDeque<Bytes>,
    announced_len: Option<u64>,
    read: Arc<AtomicUsize>,
}

impl BodyStream for FakeBody {
    fn poll_chunk(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        let chunk = self.chunks.pop_front();
        if chunk.is_some() {
            self.read.fetch_add(1, Ordering::SeqCst);
        }
        Poll::Ready(chunk.map(Ok))
    }

    fn exact_len(&self) -> Option<u64> {
        self.announced_len
    }
}
