//! Reading an answer's body within a cap without losing a byte of it.

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// An answer's body as the middleware passes it on: the body as received
/// (untouched), or the part that was read to classify it followed by the
/// rest, if any (an answer larger than the cap continues from where the
/// reading stopped: nothing is lost).
///
/// Its data are [`Bytes`]; errors are the inner body's.
#[derive(Debug)]
pub struct ApiBody<B> {
    /// What was read already, given out first.
    prefix: Option<Bytes>,
    /// The body, while it has more to give.
    rest: Option<B>,
    /// Trailers met while reading, given out last.
    trailers: Option<HeaderMap>,
}

impl<B> ApiBody<B> {
    /// `body`, untouched.
    pub fn new(body: B) -> Self {
        Self {
            prefix: None,
            rest: Some(body),
            trailers: None,
        }
    }
}

/// An answer's body after a bounded read.
pub(crate) enum Read<B> {
    /// Read to its end within the cap: its bytes, and the body to pass on
    /// (the same bytes, and trailers if there were some).
    Whole(Bytes, ApiBody<B>),
    /// Larger than the cap: the body to pass on (what was read, then the
    /// rest), unread beyond the cap.
    TooLarge(ApiBody<B>),
}

/// Reads `body` until its end or until more than `limit` bytes came.
pub(crate) async fn read_bounded<B>(mut body: B, limit: usize) -> Result<Read<B>, B::Error>
where
    B: Body + Unpin,
{
    let mut buffer = BytesMut::new();
    let mut trailers = None;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Err(e)) => return Err(e),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(mut data) => {
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        buffer.extend_from_slice(chunk);
                        let n = chunk.len();
                        data.advance(n);
                    }
                    if buffer.len() > limit {
                        return Ok(Read::TooLarge(ApiBody {
                            prefix: Some(buffer.freeze()),
                            rest: Some(body),
                            trailers: None,
                        }));
                    }
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers = Some(t);
                        break;
                    }
                }
            },
        }
    }
    let bytes = buffer.freeze();
    let again = ApiBody {
        prefix: (!bytes.is_empty()).then(|| bytes.clone()),
        rest: None,
        trailers,
    };
    Ok(Read::Whole(bytes, again))
}

impl<B> Body for ApiBody<B>
where
    B: Body + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        if let Some(rest) = this.rest.as_mut() {
            match Pin::new(rest).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    let frame = frame.map_data(|mut d| d.copy_to_bytes(d.remaining()));
                    return Poll::Ready(Some(Ok(frame)));
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.rest = None,
            }
        }
        Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none()
            && self.trailers.is_none()
            && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let prefix = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        let mut hint = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint);
        let lower = hint.lower().saturating_add(prefix);
        let upper = hint.upper().map(|u| u.saturating_add(prefix));
        // Upper first: raising the lower bound above the old upper panics.
        if let Some(upper) = upper {
            hint.set_upper(upper);
        }
        hint.set_lower(lower);
        hint
    }
}
