//! A loopback HTTP server that records the exact bytes of each request it
//! receives and answers from a script (feature `test-util`).
//!
//! Provider crates use it to pin what goes on the wire, byte for byte: the
//! request line, every header in the order and case the client sent it,
//! and the body. Point a provider's custom environment at
//! [`RecordingServer::base_url`], run a flow, and compare
//! [`RecordedRequest::canonical`] with a committed fixture.
//!
//! ```
//! use oauth_core::test_util::recording::{RecordingServer, ScriptedResponse};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let server = RecordingServer::start(vec![ScriptedResponse::json(200, r#"{"ok":true}"#)]).await;
//! let address = server.base_url().trim_start_matches("http://").to_owned();
//!
//! // Any HTTP/1.1 client; here a raw socket.
//! let mut socket = tokio::net::TcpStream::connect(&address).await?;
//! let request = format!("POST /token HTTP/1.1\r\nHost: {address}\r\ncontent-length: 3\r\n\r\na=b");
//! socket.write_all(request.as_bytes()).await?;
//! let mut answer = String::new();
//! socket.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(answer.ends_with(r#"{"ok":true}"#));
//!
//! let requests = server.requests();
//! assert_eq!(requests[0].raw, request.as_bytes());
//! assert_eq!(
//!     requests[0].canonical(),
//!     "POST /token HTTP/1.1\nHost: 127.0.0.1:PORT\ncontent-length: 3\n\na=b\n"
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # Bounds
//! One request per connection (each answer says `Connection: close`), at
//! most [`MAX_REQUEST_BYTES`] per request, and [`READ_TIMEOUT`] to receive
//! it: a client that stalls or sends too much is disconnected without an
//! answer, and its bytes are not recorded. Each connection is served by its
//! own task, so a stalled one never holds up the next. Once the script is
//! exhausted, requests are still recorded and answered
//! `500 Internal Server Error` (text body `no scripted response left`).
//! Dropping the server stops it.
//!
//! Request bodies are read by `Content-Length`; a request without one has
//! an empty body (chunked bodies are not supported).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The largest request (head and body) the server reads.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The time allowed to receive a whole request, and to send the answer.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The end of a request head.
const HEAD_END: &[u8] = b"\r\n\r\n";

/// One scripted answer: a status, a content type and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header's value.
    pub content_type: String,
    /// The body, sent as is with its `Content-Length`.
    pub body: Vec<u8>,
}

impl ScriptedResponse {
    /// An answer with any status, content type and body.
    pub fn new(status: u16, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    /// An `application/json` answer.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, "application/json", body)
    }

    /// The bytes of the whole answer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The reason phrase of the usual statuses (clients ignore it).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// One request as received: its exact bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The request's bytes, exactly as received: request line, headers and
    /// body (by `Content-Length`).
    pub raw: Vec<u8>,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("raw", &String::from_utf8_lossy(&self.raw))
            .finish()
    }
}

impl RecordedRequest {
    /// The head (request line and headers, without the blank line) and the
    /// body.
    fn split(&self) -> (&[u8], &[u8]) {
        match find(&self.raw, HEAD_END) {
            Some(at) => (
                self.raw.get(..at).unwrap_or_default(),
                self.raw.get(at + HEAD_END.len()..).unwrap_or_default(),
            ),
            None => (&self.raw, &[]),
        }
    }

    /// The request line and header lines, each without its CRLF, lossily
    /// decoded as UTF-8.
    fn head_lines(&self) -> Vec<String> {
        let (head, _) = self.split();
        String::from_utf8_lossy(head)
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    /// The request line (`POST /path?query HTTP/1.1`).
    pub fn request_line(&self) -> String {
        self.head_lines().into_iter().next().unwrap_or_default()
    }

    /// The headers, in the order and case received (values trimmed).
    pub fn headers(&self) -> Vec<(String, String)> {
        self.head_lines()
            .into_iter()
            .skip(1)
            .filter_map(|line| {
                line.split_once(':')
                    .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
            })
            .collect()
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        self.split().1
    }

    /// The request as stable text, to compare with a fixture:
    ///
    /// - each line of the head (request line, headers in the order and case
    ///   received) followed by `\n` in place of its CRLF, then an empty
    ///   line, then the body, then `\n` (not part of the body);
    /// - the port of the `Host` header replaced with `PORT`
    ///   (`Host: 127.0.0.1:PORT`), and a `User-Agent` of
    ///   `oauth-core/<version>` written `oauth-core/VERSION`;
    /// - every other byte kept, with bytes other than printable ASCII
    ///   (and tab, in the head) written `\xNN` and a backslash written
    ///   `\\`: a CR or LF inside the body, or a bare one in the head, shows
    ///   up as `\x0d` or `\x0a`. No two different requests (apart from the
    ///   port and version) give the same text.
    pub fn canonical(&self) -> String {
        let (head, body) = self.split();
        let mut text = String::new();
        for line in split_crlf(head) {
            let line = canonical_header(line);
            escape_into(&mut text, &line, true);
            text.push('\n');
        }
        text.push('\n');
        escape_into(&mut text, body, false);
        text.push('\n');
        text
    }
}

/// `line` with the `Host` port and the oauth-core version replaced.
fn canonical_header(line: &[u8]) -> Vec<u8> {
    let Some(colon) = line.iter().position(|b| *b == b':') else {
        return line.to_vec();
    };
    let (name, rest) = line.split_at(colon);
    // `rest` starts with the colon; keep it and the whitespace after it.
    let spaces = rest
        .iter()
        .skip(1)
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    let value_at = 1 + spaces;
    let (separator, value) = rest.split_at(value_at.min(rest.len()));
    let value = if name.eq_ignore_ascii_case(b"host") {
        replace_port(value)
    } else if name.eq_ignore_ascii_case(b"user-agent") && value.starts_with(b"oauth-core/") {
        b"oauth-core/VERSION".to_vec()
    } else {
        return line.to_vec();
    };
    let mut out = Vec::with_capacity(line.len());
    out.extend_from_slice(name);
    out.extend_from_slice(separator);
    out.extend_from_slice(&value);
    out
}

/// `host:1234` as `host:PORT` (a value without a numeric port is kept).
fn replace_port(value: &[u8]) -> Vec<u8> {
    match value.iter().rposition(|b| *b == b':') {
        Some(at)
            if at + 1 < value.len()
                && value
                    .get(at + 1..)
                    .is_some_and(|port| port.iter().all(u8::is_ascii_digit)) =>
        {
            let mut out = value.get(..=at).unwrap_or_default().to_vec();
            out.extend_from_slice(b"PORT");
            out
        }
        _ => value.to_vec(),
    }
}

/// The parts of `bytes` between CRLFs.
fn split_crlf(bytes: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while let Some(at) = find(rest, b"\r\n") {
        parts.push(rest.get(..at).unwrap_or_default());
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    parts.push(rest);
    parts
}

/// Appends `bytes` to `text`, escaping what is not printable ASCII (tab is
/// kept when `keep_tab`).
fn escape_into(text: &mut String, bytes: &[u8], keep_tab: bool) {
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str("\\\\"),
            b'\t' if keep_tab => text.push('\t'),
            0x20..=0x7e => text.push(char::from(byte)),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// What the connection tasks share.
#[derive(Debug, Default)]
struct Shared {
    responses: Mutex<VecDeque<ScriptedResponse>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// Locks `mutex`, whether or not a task panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A loopback HTTP/1.1 server on a free port of 127.0.0.1 that records each
/// request's exact bytes and answers with the next scripted response (see
/// the [module documentation](self)).
///
/// Needs a Tokio runtime with I/O and time enabled (`#[tokio::test]`,
/// either flavour).
pub struct RecordingServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl fmt::Debug for RecordingServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingServer")
            .field("address", &self.address)
            .field("requests", &lock(&self.shared.requests).len())
            .finish_non_exhaustive()
    }
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl RecordingServer {
    /// Starts a server that answers with `responses`, in order.
    ///
    /// # Panics
    /// If no port of 127.0.0.1 can be bound (see
    /// [`try_start`](Self::try_start) to handle that error), or outside a
    /// Tokio runtime.
    #[allow(clippy::panic)] // A test helper: failing to bind fails the test.
    pub async fn start(responses: Vec<ScriptedResponse>) -> Self {
        match Self::try_start(responses).await {
            Ok(server) => server,
            Err(error) => panic!("recording server: cannot listen on 127.0.0.1: {error}"),
        }
    }

    /// Starts a server that answers with `responses`, in order.
    ///
    /// # Errors
    /// The I/O error if no port of 127.0.0.1 can be bound.
    pub async fn try_start(responses: Vec<ScriptedResponse>) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            responses: Mutex::new(responses.into()),
            requests: Mutex::new(Vec::new()),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self {
            address,
            shared,
            accept,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The requests received so far, in the order they were completely
    /// read (each is recorded before its answer is sent).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Adds answers at the end of the script.
    pub fn push_responses(&self, responses: impl IntoIterator<Item = ScriptedResponse>) {
        lock(&self.shared.responses).extend(responses);
    }

    /// How many scripted answers were not used yet.
    pub fn remaining_responses(&self) -> usize {
        lock(&self.shared.responses).len()
    }
}

/// Accepts connections until the server is dropped; one task each.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
            // A failed accept (e.g. too many open files) must not end the
            // server: wait a little and go on.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Reads one request, records it, answers it, closes the connection.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let raw = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await {
        Ok(Ok(Some(raw))) => raw,
        // Timed out, too large, closed early or an I/O error: no answer.
        _ => return,
    };
    lock(&shared.requests).push(RecordedRequest { raw });
    let response = lock(&shared.responses)
        .pop_front()
        .unwrap_or_else(|| ScriptedResponse::new(500, "text/plain", "no scripted response left"));
    let answer = async {
        stream.write_all(&response.to_bytes()).await?;
        stream.flush().await?;
        stream.shutdown().await
    };
    // The client may already be gone; nothing to do about it.
    let _ = tokio::time::timeout(READ_TIMEOUT, answer).await;
}

/// The bytes of one request (head, then `Content-Length` bytes of body);
/// `None` if the peer closed before the end of it or it is too large.
async fn read_request(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&raw, HEAD_END) {
            break at + HEAD_END.len();
        }
        if raw.len() > MAX_REQUEST_BYTES {
            return Ok(None);
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        raw.extend_from_slice(chunk.get(..read).unwrap_or_default());
    };
    let length = content_length(raw.get(..head_end).unwrap_or_default());
    let Some(total) = length.and_then(|length| head_end.checked_add(length)) else {
        // An unparsable Content-Length: refuse rather than guess.
        return Ok(None);
    };
    if total > MAX_REQUEST_BYTES {
        return Ok(None);
    }
    while raw.len() < total {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        raw.extend_from_slice(chunk.get(..read).unwrap_or_default());
    }
    // Bytes past the body (a pipelined request) are not part of this one.
    raw.truncate(total);
    Ok(Some(raw))
}

/// The `Content-Length` of a head: `Some(0)` without one, `None` if it is
/// not a number.
fn content_length(head: &[u8]) -> Option<usize> {
    let head = String::from_utf8_lossy(head);
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map_or(Some(0), |(_, value)| value.trim().parse().ok())
}

/// The environment variable that makes [`WireFixture::check`] rewrite the
/// fixture instead of comparing with it, when set to `1`.
pub const UPDATE_FIXTURES_ENV: &str = "UPDATE_WIRE_FIXTURES";

/// `text` with every occurrence of `base` (a server's
/// [`base_url`](RecordingServer::base_url)) written `BASE`.
pub fn replace_base(text: &str, base: &str) -> String {
    if base.is_empty() {
        return text.to_owned();
    }
    text.replace(base, "BASE")
}

/// An [`http::Request`] as stable text, for requests a crate builds but
/// does not send itself (signed API calls, attached tokens):
///
/// - `METHOD URI`, the URI with `base` written `BASE` (see [`replace_base`]);
/// - each header as `name: value`, in the header map's iteration order,
///   with ` (sensitive)` after the name of values marked sensitive
///   (`authorization (sensitive): Bearer ...`);
/// - an empty line, the body, and `\n` (not part of the body).
///
/// Bytes other than printable ASCII are escaped as in
/// [`RecordedRequest::canonical`].
pub fn render_http_request<B: AsRef<[u8]>>(request: &http::Request<B>, base: &str) -> String {
    let mut text = String::new();
    let first = format!(
        "{} {}",
        request.method(),
        replace_base(&request.uri().to_string(), base)
    );
    escape_into(&mut text, first.as_bytes(), true);
    text.push('\n');
    for (name, value) in request.headers() {
        text.push_str(name.as_str());
        if value.is_sensitive() {
            text.push_str(" (sensitive)");
        }
        text.push_str(": ");
        escape_into(&mut text, value.as_bytes(), true);
        text.push('\n');
    }
    text.push('\n');
    escape_into(&mut text, request.body().as_ref(), false);
    text.push('\n');
    text
}

/// A wire fixture: plain text, one section per flow (`## <flow name>`,
/// the flow's text, an empty line), compared with a committed file.
///
/// ```no_run
/// use oauth_core::test_util::recording::WireFixture;
///
/// let mut fixture = WireFixture::new();
/// fixture.section("consent URL", "BASE/authorize?client_id=x\n");
/// // Compares (or rewrites, with UPDATE_WIRE_FIXTURES=1).
/// fixture.check(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire.txt"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireFixture {
    text: String,
}

impl WireFixture {
    /// An empty fixture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a section: `## <name>`, then `body` (a `\n` is added if it
    /// does not end with one), then an empty line.
    pub fn section(&mut self, name: &str, body: &str) {
        self.text.push_str("## ");
        self.text.push_str(name);
        self.text.push('\n');
        self.text.push_str(body);
        if !body.ends_with('\n') {
            self.text.push('\n');
        }
        self.text.push('\n');
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// With `UPDATE_WIRE_FIXTURES=1` ([`UPDATE_FIXTURES_ENV`]), writes the
    /// text to `path`; otherwise compares it with the file.
    ///
    /// # Panics
    /// When the file cannot be read or written, or differs: the message
    /// names the first differing line, its section, both versions of the
    /// line, and how to rewrite the fixture.
    #[allow(clippy::panic)] // A test helper: a mismatch fails the test.
    pub fn check(&self, path: impl AsRef<std::path::Path>) {
        let path = path.as_ref();
        if std::env::var(UPDATE_FIXTURES_ENV).is_ok_and(|v| v == "1") {
            if let Err(error) = std::fs::write(path, &self.text) {
                panic!("cannot write the wire fixture {}: {error}", path.display());
            }
            return;
        }
        let expected = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => panic!(
                "cannot read the wire fixture {}: {error} (run with {UPDATE_FIXTURES_ENV}=1 to create it)",
                path.display()
            ),
        };
        if let Some(difference) = first_difference(&expected, &self.text) {
            panic!(
                "the bytes on the wire differ from the fixture {}\n{difference}\n\
                 (if the change is intended, run with {UPDATE_FIXTURES_ENV}=1 and review the diff)",
                path.display()
            );
        }
    }
}

/// A description of the first line where `actual` differs from
/// `expected`, or `None` when they are equal.
fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let mut expected_lines = expected.split_inclusive('\n');
    let mut actual_lines = actual.split_inclusive('\n');
    let mut section = "(before any section)";
    let mut number = 0_usize;
    loop {
        number += 1;
        let (want, got) = (expected_lines.next(), actual_lines.next());
        if want == got {
            match want {
                Some(line) => {
                    if let Some(name) = line.strip_prefix("## ") {
                        section = name.trim_end();
                    }
                    continue;
                }
                // Unreachable: equal texts returned above.
                None => return Some("the texts differ".to_owned()),
            }
        }
        let show = |line: Option<&str>| {
            line.map_or_else(|| "(end of text)".to_owned(), |l| format!("{l:?}"))
        };
        return Some(format!(
            "first difference at line {number}, in section `{section}`:\n  fixture: {}\n  actual:  {}",
            show(want),
            show(got)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send(server: &RecordingServer, bytes: &[u8]) -> String {
        let mut socket = TcpStream::connect(server.address()).await.unwrap();
        socket.write_all(bytes).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn records_exact_bytes_and_answers_in_order() {
        let server = RecordingServer::start(vec![
            ScriptedResponse::json(200, "{\"a\":1}"),
            ScriptedResponse::new(503, "text/html", "<p>down</p>"),
        ])
        .await;
        assert!(server.base_url().starts_with("http://127.0.0.1:"));
        let port = server.address().port();
        let first = format!(
            "POST /t?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: oauth-core/0.1.0\r\nContent-Length: 7\r\n\r\na=b\r\nc\\"
        );
        let answer = send(&server, first.as_bytes()).await;
        assert_eq!(
            answer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\nconnection: close\r\n\r\n{\"a\":1}"
        );
        let answer = send(&server, b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(answer.ends_with("<p>down</p>"));
        let answer = send(&server, b"GET /more HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 500 "));
        assert!(answer.ends_with("no scripted response left"));

        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[0].raw, first.as_bytes());
        assert_eq!(requests[0].request_line(), "POST /t?x=1 HTTP/1.1");
        assert_eq!(requests[0].header("content-length").as_deref(), Some("7"));
        assert_eq!(requests[0].body(), b"a=b\r\nc\\");
        assert_eq!(
            requests[0].canonical(),
            "POST /t?x=1 HTTP/1.1\nHost: 127.0.0.1:PORT\nUser-Agent: oauth-core/VERSION\nContent-Length: 7\n\na=b\\x0d\\x0ac\\\\\n"
        );
        assert_eq!(
            requests[1].canonical(),
            "GET / HTTP/1.1\nhost: localhost\n\n\n"
        );
        assert_eq!(server.remaining_responses(), 0);
    }

    #[tokio::test]
    async fn a_body_arriving_in_pieces_is_read_whole() {
        let server = RecordingServer::start(vec![ScriptedResponse::json(200, "{}")]).await;
        let mut socket = TcpStream::connect(server.address()).await.unwrap();
        socket
            .write_all(b"POST / HTTP/1.1\r\ncontent-length: 6\r\n\r\nabc")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        socket.write_all(b"def").await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"));
        assert_eq!(server.requests()[0].body(), b"abcdef");
    }

    #[tokio::test]
    async fn oversized_or_truncated_requests_are_dropped_unrecorded() {
        let server = RecordingServer::start(vec![ScriptedResponse::json(200, "{}")]).await;
        let huge = format!(
            "POST / HTTP/1.1\r\ncontent-length: {}\r\n\r\n",
            MAX_REQUEST_BYTES
        );
        let answer = send(&server, huge.as_bytes()).await;
        assert_eq!(answer, "");
        let mut socket = TcpStream::connect(server.address()).await.unwrap();
        socket
            .write_all(b"POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\nabc")
            .await
            .unwrap();
        socket.shutdown().await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, "");
        assert!(server.requests().is_empty());
        assert_eq!(server.remaining_responses(), 1);
    }

    #[test]
    fn canonical_keeps_other_headers_byte_for_byte() {
        let request = RecordedRequest {
            raw: b"GET / HTTP/1.1\r\nHOST:  [::1]:8080\r\nuser-agent: curl/8\r\nX-Tab:\ta\tb\r\nbare\nlf: \xff\r\n\r\n".to_vec(),
        };
        assert_eq!(
            request.canonical(),
            "GET / HTTP/1.1\nHOST:  [::1]:PORT\nuser-agent: curl/8\nX-Tab:\ta\tb\nbare\\x0alf: \\xff\n\n\n"
        );
        assert_eq!(replace_port(b"example.com"), b"example.com");
        assert_eq!(replace_port(b"example.com:"), b"example.com:");
    }

    #[test]
    fn http_requests_render_with_base_and_sensitivity() {
        let mut request = http::Request::post("http://127.0.0.1:5/sync?a=1")
            .header("content-type", "text/plain")
            .body(b"x\ny".to_vec())
            .unwrap();
        let mut secret = http::HeaderValue::from_static("Bearer t");
        secret.set_sensitive(true);
        request.headers_mut().insert("authorization", secret);
        assert_eq!(
            render_http_request(&request, "http://127.0.0.1:5"),
            "POST BASE/sync?a=1\ncontent-type: text/plain\nauthorization (sensitive): Bearer t\n\nx\\x0ay\n"
        );
    }

    #[test]
    fn fixture_differences_name_the_line_and_section() {
        let mut fixture = WireFixture::new();
        fixture.section("one", "a\nb\n");
        fixture.section("two", "c");
        assert_eq!(fixture.text(), "## one\na\nb\n\n## two\nc\n\n");
        assert_eq!(first_difference(fixture.text(), fixture.text()), None);
        let changed = fixture.text().replace('c', "C");
        assert_eq!(
            first_difference(fixture.text(), &changed).unwrap(),
            "first difference at line 6, in section `two`:\n  fixture: \"c\\n\"\n  actual:  \"C\\n\""
        );
        let shorter = "## one\na\n";
        assert!(
            first_difference(fixture.text(), shorter).unwrap().contains(
                "line 3, in section `one`:\n  fixture: \"b\\n\"\n  actual:  (end of text)"
            )
        );
    }
}
