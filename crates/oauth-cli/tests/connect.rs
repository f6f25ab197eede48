//! `oauth <provider> login` and `oauth serve` as processes, against a sandbox started
//! in the test whose consent redirects to the process's listener; the consent is
//! followed programmatically (the sandbox's shortcut for programs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use oauth_sandbox::{Provider, Sandbox};
use serde_json::Value;

mod support;
use support::{aliexpress_env, ebay_env};

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `oauth` binary running in the background, its stdout read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Running {
    fn start(args: &[&str], env: &[(&str, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oauth"))
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Self {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
        }
    }

    /// The next line of stdout (waiting at most 20 s, off the async runtime).
    async fn line(&mut self) -> String {
        let lines = std::mem::replace(&mut self.lines, mpsc::channel().1);
        let (lines, line) = tokio::task::spawn_blocking(move || {
            let line = lines.recv_timeout(Duration::from_secs(20));
            (lines, line)
        })
        .await
        .unwrap();
        self.lines = lines;
        let line = line.unwrap_or_else(|e| panic!("no line on stdout ({e}): {:?}", self.stdout));
        self.stdout.push(line.clone());
        line
    }

    /// Reads stdout until a line contains `text`.
    async fn until(&mut self, text: &str) -> String {
        loop {
            let line = self.line().await;
            if line.contains(text) {
                return line;
            }
        }
    }

    /// Waits (at most 20 s) for the exit: (code, all of stdout, stderr).
    async fn finish(mut self) -> (Option<i32>, String, String) {
        let mut child = self.child;
        let status = tokio::task::spawn_blocking(move || {
            for _ in 0..2000 {
                if let Some(status) = child.try_wait().unwrap() {
                    return Some(status);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
            None
        })
        .await
        .unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.stdout.push(line);
        }
        let stderr = self.stderr.join().unwrap();
        let stdout = self.stdout.join("\n");
        assert!(
            status.is_some(),
            "oauth did not exit in time\n{stdout}\n{stderr}"
        );
        (status.and_then(|s| s.code()), stdout, stderr)
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Follows a connect URL the way a browser would: the connect (302 + cookie), the
/// sandbox's consent (302 to the callback), the callback with the cookie. Returns the
/// callback's status and page.
async fn follow_connect(connect_url: &str) -> (u16, String) {
    let client = http();
    let started = client.get(connect_url).send().await.unwrap();
    assert_eq!(started.status(), 302, "{connect_url}");
    let cookie = started.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("oauth_connect="), "{cookie}");
    let consent = started.headers()["location"].to_str().unwrap().to_owned();
    let consented = client.get(&consent).send().await.unwrap();
    assert_eq!(consented.status(), 302, "{consent}");
    let callback = consented.headers()["location"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let landed = client
        .get(&callback)
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    let status = landed.status().as_u16();
    (status, landed.text().await.unwrap())
}

fn stored(store: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(store).unwrap()).unwrap()
}

/// Every secret the sandbox knows or issued to `store`, none of which may be printed.
fn secrets(sandbox: &Sandbox, store: &Path) -> Vec<String> {
    let creds = sandbox.credentials();
    let mut secrets = vec![
        creds.ebay.client_secret.clone(),
        creds.aliexpress.app_secret.clone(),
    ];
    if let Ok(text) = std::fs::read_to_string(store) {
        let value: Value = serde_json::from_str(&text).unwrap();
        for entry in value["accounts"].as_object().into_iter().flatten() {
            for field in ["access_token", "refresh_token"] {
                if let Some(token) = entry.1["tokens"][field].as_str() {
                    secrets.push(token.to_owned());
                }
            }
        }
    }
    secrets
}

fn assert_no_secret(text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret was printed: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_login_stores_the_tokens_and_a_declined_consent_exits_3() {
    let port = free_port();
    let sandbox = Sandbox::builder()
        .ebay_accept_url(format!("http://127.0.0.1:{port}/callback/ebay"))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let args = [
        "ebay",
        "login",
        "--store",
        store_arg,
        "--account",
        "seller-1",
        "--listen",
        &listen,
        "--no-browser",
        "--timeout",
        "30",
    ];
    let mut login = Running::start(&args, &ebay_env(&sandbox));
    let url = login.line().await;
    assert_eq!(
        url,
        format!("http://127.0.0.1:{port}/connect/ebay?account=seller-1")
    );
    // DNS rebinding: a request not addressed to 127.0.0.1:PORT is refused, on every
    // route; the login goes on.
    for path in [
        "/connect/ebay?account=seller-1",
        "/status",
        "/callback/ebay",
    ] {
        let refused = http()
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header("host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{path}");
        assert!(refused.headers().get("set-cookie").is_none(), "{path}");
    }
    let (status, page) = follow_connect(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-outcome=\"connected\""), "{page}");
    let (code, stdout, stderr) = login.finish().await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ebay: tokens of account \"seller-1\" saved to"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("http://127.0.0.1:{port}/callback/ebay")),
        "{stderr}"
    );
    let value = stored(&store);
    assert!(
        value["accounts"]["ebay/seller-1"]["tokens"]["access_token"].is_string(),
        "{value}"
    );
    let secrets = secrets(&sandbox, &store);
    assert_no_secret(&format!("{stdout}\n{stderr}"), &secrets);

    // Declined: exit 3, a message, nothing stored for the account.
    sandbox.deny_consent(Provider::Ebay, true);
    let mut args = args;
    args[5] = "seller-2";
    let mut login = Running::start(&args, &ebay_env(&sandbox));
    let url = login.line().await;
    let (status, page) = follow_connect(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-outcome=\"denied\""), "{page}");
    let (code, stdout, stderr) = login.finish().await;
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the consent was declined at eBay: nothing was stored"),
        "{stderr}"
    );
    assert!(stored(&store)["accounts"]["ebay/seller-2"].is_null());
    assert_no_secret(&format!("{stdout}\n{stderr}"), &secrets);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliexpress_login_listens_at_its_loopback_redirect_uri() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback/aliexpress");
    let sandbox = Sandbox::builder()
        .aliexpress_redirect_uri(redirect.clone())
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let env = aliexpress_env(&sandbox);
    assert!(env.contains(&("OAUTH_ALIEXPRESS_REDIRECT_URI", redirect)));
    let mut login = Running::start(
        &[
            "aliexpress",
            "login",
            "--store",
            store.to_str().unwrap(),
            "--no-browser",
            "--json",
        ],
        &env,
    );
    let start: Value = serde_json::from_str(&login.line().await).unwrap();
    let url = start["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("http://127.0.0.1:{port}/oauth/connect/aliexpress?account=default")
    );
    let (status, page) = follow_connect(&url).await;
    assert_eq!(status, 200, "{page}");
    let (code, stdout, stderr) = login.finish().await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let last: Value = serde_json::from_str(stdout.split_once('\n').unwrap().1).unwrap();
    assert_eq!(last["action"], "login");
    assert_eq!(last["account"], "default");
    assert!(stored(&store)["accounts"]["aliexpress/default"].is_object());
    assert_no_secret(&format!("{stdout}\n{stderr}"), &secrets(&sandbox, &store));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_connects_an_account_and_shows_it_on_the_status_page() {
    let port = free_port();
    let sandbox = Sandbox::builder()
        .ebay_accept_url(format!("http://127.0.0.1:{port}/callback/ebay"))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let listen = format!("127.0.0.1:{port}");
    let mut serve = Running::start(
        &[
            "serve",
            "--store",
            store.to_str().unwrap(),
            "--listen",
            &listen,
        ],
        &ebay_env(&sandbox),
    );
    serve.until("stop with Ctrl-C").await;
    let printed = serve.stdout.join("\n");
    assert!(
        printed.contains(&format!(
            "the RuName's auth accepted URL must be http://127.0.0.1:{port}/callback/ebay"
        )),
        "{printed}"
    );
    assert!(printed.contains("aliexpress: not served"), "{printed}");

    let base = format!("http://127.0.0.1:{port}");
    let client = http();
    let page = client.get(format!("{base}/status")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // DNS rebinding: a page whose name now points at 127.0.0.1 sends its own Host.
    for path in ["/status", "/status.json", "/connect/ebay?account=x"] {
        for host in ["evil.example", "evil.example:{port}", "localhost:{port}"] {
            let host = host.replace("{port}", &port.to_string());
            let refused = client
                .get(format!("{base}{path}"))
                .header("host", host.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), 403, "{path} {host}");
            assert!(refused.headers().get("set-cookie").is_none(), "{path}");
        }
    }
    let started = client
        .get(format!("{base}/connect/ebay?account=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 302);
    assert!(started.headers().contains_key("set-cookie"));
    let location = started.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&sandbox.ebay_base_url()), "{location}");

    let (status, page) = follow_connect(&format!("{base}/connect/ebay?account=x")).await;
    assert_eq!(status, 200, "{page}");
    let status: Value = client
        .get(format!("{base}/status.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let accounts = status["accounts"].as_array().unwrap();
    assert!(
        accounts
            .iter()
            .any(|a| a["provider"] == "ebay" && a["account"] == "x"),
        "{status}"
    );

    // SIGTERM: a clean stop.
    let pid = serve.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let (code, stdout, stderr) = serve.finish().await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("oauth serve: stopped"), "{stderr}");
    assert_no_secret(&format!("{stdout}\n{stderr}"), &secrets(&sandbox, &store));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn serve_refuses_a_public_listener_without_an_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let run = support::oauth(
        &[
            "serve",
            "--store",
            store.to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ],
        &[("OAUTH_EBAY_CLIENT_ID", "id".to_owned())],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("--admin-token-file"), "{run:#?}");
}

#[tokio::test]
async fn serve_behind_a_reverse_proxy_needs_an_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    // A loopback listener, a public URL: the standard reverse-proxy setup.
    for public in ["https://oauth.example.com", "https://10.0.0.1:8443/oauth"] {
        let run = support::oauth(
            &[
                "serve",
                "--store",
                store.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--public-url",
                public,
            ],
            &[("OAUTH_EBAY_CLIENT_ID", "id".to_owned())],
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stderr.contains("--admin-token-file"), "{run:#?}");
        assert!(run.stderr.contains("not a loopback URL"), "{run:#?}");
    }
}
