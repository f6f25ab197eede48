//! A small raw HTTP/1.1 server on `127.0.0.1:0` for the faults httpmock
//! cannot produce: a connection reset in the middle of the body, a server
//! that stalls before or in the middle of its answer, and a 10 MiB body sent
//! chunked (no `Content-Length`, so the client must stop reading itself).
//!
//! Every connection is handled by its own task; the accept loop is aborted
//! when the [`RawServer`] is dropped, and the stalled handlers end with the
//! test's runtime. Reads are bounded in size and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the raw server does with each request until it is healed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFault {
    /// Headers with `Content-Length: 512`, 40 bytes of body, then a TCP
    /// reset (`SO_LINGER` 0).
    ResetMidBody,
    /// Reads the request, then sends nothing for [`STALL`].
    StallBeforeHeaders,
    /// Headers with `Content-Length: 512`, 40 bytes of body, then nothing
    /// for [`STALL`].
    StallMidBody,
    /// A 200 with `Transfer-Encoding: chunked` and 10 MiB of body.
    HugeChunked,
}

/// How long a stalling server waits: far longer than any client timeout
/// used in the tests (the task is dropped with the runtime anyway).
pub const STALL: Duration = Duration::from_secs(30);

/// Size of the chunked body of [`RawFault::HugeChunked`].
pub const HUGE_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The largest request the server reads (token requests are tiny).
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// The start of every partial body: a token answer cut short.
const PARTIAL_BODY: &str = r#"{"access_token":"SENTINELat0123456789ab"#;

/// A raw HTTP/1.1 server with one fault.
#[derive(Debug)]
pub struct RawServer {
    base: String,
    connections: Arc<AtomicUsize>,
    healed: Arc<AtomicBool>,
    accept: JoinHandle<()>,
}

impl RawServer {
    /// Starts a server on `127.0.0.1:0` with `fault`; once
    /// [`heal`](Self::heal)ed it answers `200` with `success_body` (JSON).
    pub async fn start(fault: RawFault, success_body: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let connections = Arc::new(AtomicUsize::new(0));
        let healed = Arc::new(AtomicBool::new(false));
        let success: Arc<str> = Arc::from(success_body);
        let accept = {
            let connections = Arc::clone(&connections);
            let healed = Arc::clone(&healed);
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let healed = healed.load(Ordering::SeqCst);
                    let success = Arc::clone(&success);
                    tokio::spawn(async move {
                        // A failed write means the client went away: fine.
                        let _ = handle(stream, fault, healed, &success).await;
                    });
                }
            })
        };
        Ok(Self {
            base,
            connections,
            healed,
            accept,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// From now on, answer every new connection with the success body.
    pub fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn handle(
    mut stream: TcpStream,
    fault: RawFault,
    healed: bool,
    success: &str,
) -> std::io::Result<()> {
    tokio::time::timeout(Duration::from_secs(5), read_request(&mut stream))
        .await
        .map_err(|_| std::io::Error::other("request read timed out"))??;
    if healed {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            success.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(success.as_bytes()).await?;
        stream.flush().await?;
        return stream.shutdown().await;
    }
    match fault {
        RawFault::ResetMidBody => {
            write_partial(&mut stream).await?;
            // Let the client read the headers and start on the body.
            tokio::time::sleep(Duration::from_millis(100)).await;
            stream.set_zero_linger()?;
            drop(stream);
            Ok(())
        }
        RawFault::StallBeforeHeaders => {
            tokio::time::sleep(STALL).await;
            Ok(())
        }
        RawFault::StallMidBody => {
            write_partial(&mut stream).await?;
            tokio::time::sleep(STALL).await;
            Ok(())
        }
        RawFault::HugeChunked => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            let first = r#"{"access_token":""#;
            stream
                .write_all(format!("{:x}\r\n{first}\r\n", first.len()).as_bytes())
                .await?;
            let chunk = vec![b'a'; 64 * 1024];
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            let mut sent = first.len();
            while sent < HUGE_BODY_BYTES {
                stream.write_all(&frame).await?;
                sent += chunk.len();
            }
            stream.write_all(b"2\r\n\"}\r\n0\r\n\r\n").await?;
            stream.flush().await
        }
    }
}

async fn write_partial(stream: &mut TcpStream) -> std::io::Result<()> {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 512\r\n\r\n";
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(PARTIAL_BODY.as_bytes()).await?;
    stream.flush().await
}

/// Reads one request: the head up to the blank line, then `Content-Length`
/// bytes of body. Bounded by [`MAX_REQUEST_BYTES`].
async fn read_request(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return Err(std::io::Error::other("request head too large"));
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::other(
                "closed before the request head ended",
            ));
        }
        buffer.extend_from_slice(chunk.get(..read).unwrap_or_default());
    };
    let head = String::from_utf8_lossy(buffer.get(..head_end).unwrap_or_default()).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST_BYTES);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(chunk.get(..read).unwrap_or_default());
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A loopback port that refuses connections: a socket bound to it but
/// never listening. Holding it (rather than binding and freeing a port)
/// keeps any other test from listening on that port meanwhile.
#[derive(Debug)]
pub struct RefusingPort {
    _socket: tokio::net::TcpSocket,
    base: String,
}

impl RefusingPort {
    /// Binds a socket on `127.0.0.1:0` without listening.
    pub fn bind() -> std::io::Result<Self> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let base = format!("http://{}", socket.local_addr()?);
        Ok(Self {
            _socket: socket,
            base,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }
}
