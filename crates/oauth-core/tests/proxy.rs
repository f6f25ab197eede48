//! Proxies are used only when configured, and never carry a plain-HTTP
//! request across the network: against a recording loopback proxy and a
//! recording target server (plain `std::net`, one thread each).
//!
//! The tests about the environment's proxy variables run their client in a
//! child process (this test binary again, `--exact <test>`, with a marker
//! variable): setting variables in this process would be `unsafe` (edition
//! 2024) and would race the other tests.
#![cfg(feature = "reqwest")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::transport::{HttpClientBuilder, Proxy};
use oauth_core::{Error, HttpClient, Params, RetryPolicy, TokenRequest};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use url::Url;

const SENTINEL: &str = "SENTINELrefresh0123456789";

/// Set in the child process: the test runs its client part only.
const CHILD: &str = "OAUTH_PROXY_TEST_CHILD";
/// The target URL handed to the child.
const TARGET: &str = "OAUTH_PROXY_TEST_TARGET";
/// Which server the child expects to answer (`target` or `proxy`).
const EXPECT: &str = "OAUTH_PROXY_TEST_EXPECT";

const TARGET_BODY: &str = r#"{"answered_by":"target"}"#;
const PROXY_BODY: &str = r#"{"answered_by":"proxy"}"#;

/// A loopback server that records every request it receives (request line,
/// headers and body, as text) and answers each with `answer` (a `CONNECT`
/// with 403: no tunnel, the test only looks at what was asked).
struct Recorder {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start(answer: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&received);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let record = Arc::clone(&record);
                thread::spawn(move || serve(stream, &record, answer));
            }
        });
        Self { port, received }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, record: &Mutex<Vec<String>>, answer: &str) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let connect = head.starts_with("CONNECT ");
        record
            .lock()
            .unwrap()
            .push(format!("{head}\r\n{}", String::from_utf8_lossy(&body)));
        let response = if connect {
            "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
        } else {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            )
        };
        if stream.write_all(response.as_bytes()).is_err() || connect {
            return;
        }
    }
}

fn refresh_request(url: &str) -> TokenRequest {
    TokenRequest::post("test", "refresh_token", Url::parse(url).unwrap()).form(
        Params::new()
            .plain("grant_type", "refresh_token")
            .secret("refresh_token", SENTINEL),
    )
}

fn builder() -> HttpClientBuilder {
    HttpClient::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::none())
}

/// Sends the refresh request and returns the body of the answer.
async fn send(client: &HttpClient, url: &str) -> String {
    let response = client.send(&refresh_request(url)).await.unwrap();
    assert_eq!(response.status(), 200);
    String::from_utf8(response.body().to_vec()).unwrap()
}

/// Runs `test` again in a child process, with the proxy variables of this
/// process removed and `env` set; panics with its output if it fails.
fn run_child(test: &str, env: &[(&str, String)]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "REQUEST_METHOD",
    ] {
        command.env_remove(name);
    }
    command.env(CHILD, "1");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "child failed: {text}");
    // `--exact` matched the test: a filter that matched nothing would pass.
    assert!(text.contains("1 passed"), "{text}");
}

/// The child's part: sends to `$TARGET` with the client `builder` gives and
/// checks who answered (`$EXPECT`).
async fn child(builder: HttpClientBuilder) {
    let target = std::env::var(TARGET).unwrap();
    let client = builder.build().unwrap();
    let body = send(&client, &format!("{target}/oauth/token")).await;
    let expected = match std::env::var(EXPECT).as_deref() {
        Ok("proxy") => PROXY_BODY,
        _ => TARGET_BODY,
    };
    assert_eq!(body, expected);
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// What a target or proxy must have received: one `POST` carrying the form.
fn assert_one_post(received: &[String], request_line: &str) {
    assert_eq!(received.len(), 1, "{received:?}");
    let request = &received[0];
    assert!(request.starts_with(request_line), "{request}");
    assert!(
        request.ends_with(&format!(
            "grant_type=refresh_token&refresh_token={SENTINEL}"
        )),
        "{request}"
    );
}

#[tokio::test]
async fn the_default_client_ignores_the_proxy_variables() {
    if is_child() {
        return child(builder()).await;
    }
    let target = Recorder::start(TARGET_BODY);
    let proxy = Recorder::start(PROXY_BODY);
    let env = [
        (TARGET, target.url()),
        (EXPECT, "target".to_owned()),
        ("http_proxy", proxy.url()),
        ("HTTP_PROXY", proxy.url()),
        ("https_proxy", proxy.url()),
        ("HTTPS_PROXY", proxy.url()),
        ("all_proxy", proxy.url()),
        ("ALL_PROXY", proxy.url()),
    ];
    run_child("the_default_client_ignores_the_proxy_variables", &env);
    assert_one_post(&target.received(), "POST /oauth/token HTTP/1.1\r\n");
    assert!(proxy.received().is_empty(), "{:?}", proxy.received());
}

#[tokio::test]
async fn an_explicit_loopback_proxy_receives_the_request() {
    let target = Recorder::start(TARGET_BODY);
    let proxy = Recorder::start(PROXY_BODY);
    let proxy_url = format!("http://alice:pw@127.0.0.1:{}", proxy.port);
    let client = builder()
        .proxy(Proxy::parse(&proxy_url).unwrap())
        .build()
        .unwrap();
    let body = send(&client, &format!("{}/oauth/token", target.url())).await;
    assert_eq!(body, PROXY_BODY);
    let received = proxy.received();
    // Absolute form, as to a forwarding proxy, with the proxy's credentials.
    assert_one_post(
        &received,
        &format!("POST {}/oauth/token HTTP/1.1\r\n", target.url()),
    );
    assert!(
        received[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic ywxpy2u6chc="),
        "{}",
        received[0]
    );
    assert!(target.received().is_empty());
    assert!(!format!("{client:?}").contains("pw"));
}

#[tokio::test]
async fn proxy_from_environment_uses_a_loopback_proxy_from_the_environment() {
    if is_child() {
        return child(builder().proxy_from_environment()).await;
    }
    let target = Recorder::start(TARGET_BODY);
    let proxy = Recorder::start(PROXY_BODY);
    let env = [
        (TARGET, target.url()),
        (EXPECT, "proxy".to_owned()),
        ("HTTP_PROXY", proxy.url()),
    ];
    run_child(
        "proxy_from_environment_uses_a_loopback_proxy_from_the_environment",
        &env,
    );
    assert_one_post(
        &proxy.received(),
        &format!("POST {}/oauth/token HTTP/1.1\r\n", target.url()),
    );
    assert!(target.received().is_empty());
}

#[tokio::test]
async fn proxy_from_environment_honours_no_proxy() {
    if is_child() {
        return child(builder().proxy_from_environment()).await;
    }
    let target = Recorder::start(TARGET_BODY);
    let proxy = Recorder::start(PROXY_BODY);
    let env = [
        (TARGET, target.url()),
        (EXPECT, "target".to_owned()),
        ("all_proxy", proxy.url()),
        ("NO_PROXY", "example.com, 127.0.0.0/8".to_owned()),
    ];
    run_child("proxy_from_environment_honours_no_proxy", &env);
    assert_one_post(&target.received(), "POST /oauth/token HTTP/1.1\r\n");
    assert!(proxy.received().is_empty());
}

/// 192.0.2.1 (TEST-NET-1) is not on loopback (and routes nowhere: if the
/// rule were broken, the request would time out instead of reaching the
/// target).
const REMOTE_PROXY: &str = "http://192.0.2.1:3128";

#[tokio::test]
async fn a_remote_proxy_never_carries_a_plain_http_request() {
    let target = Recorder::start(TARGET_BODY);
    let client = builder()
        .proxy(Proxy::parse(REMOTE_PROXY).unwrap())
        .build()
        .unwrap();
    let body = send(&client, &format!("{}/oauth/token", target.url())).await;
    assert_eq!(body, TARGET_BODY);
    assert_one_post(&target.received(), "POST /oauth/token HTTP/1.1\r\n");
    // An https:// proxy elsewhere does not either (it would still reach its
    // own loopback, not ours).
    let client = builder()
        .proxy(Proxy::parse("https://192.0.2.1:8443").unwrap())
        .build()
        .unwrap();
    assert_eq!(
        send(&client, &format!("{}/oauth/token", target.url())).await,
        TARGET_BODY
    );
}

#[tokio::test]
async fn a_remote_proxy_from_the_environment_never_carries_a_plain_http_request() {
    if is_child() {
        return child(builder().proxy_from_environment()).await;
    }
    let target = Recorder::start(TARGET_BODY);
    let env = [
        (TARGET, target.url()),
        (EXPECT, "target".to_owned()),
        ("http_proxy", REMOTE_PROXY.to_owned()),
        ("ALL_PROXY", REMOTE_PROXY.to_owned()),
    ];
    run_child(
        "a_remote_proxy_from_the_environment_never_carries_a_plain_http_request",
        &env,
    );
    assert_one_post(&target.received(), "POST /oauth/token HTTP/1.1\r\n");
}

#[tokio::test]
async fn https_targets_go_through_the_proxy_in_a_connect_tunnel() {
    let proxy = Recorder::start(PROXY_BODY);
    let client = builder()
        .proxy(Proxy::parse(&proxy.url()).unwrap())
        .build()
        .unwrap();
    let err = client
        .send(&refresh_request("https://oauth.example.test/oauth/token"))
        .await
        .unwrap_err();
    // The proxy refused the tunnel: nothing was sent to the target.
    assert!(matches!(err, Error::Transient { .. }), "{err:?}");
    let received = proxy.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        received[0].starts_with("CONNECT oauth.example.test:443 HTTP/1.1\r\n"),
        "{}",
        received[0]
    );
    // Only the host and port: the path, form and token stay inside TLS.
    assert!(!received[0].contains(SENTINEL), "{}", received[0]);
    assert!(!received[0].contains("/oauth/token"), "{}", received[0]);
}
