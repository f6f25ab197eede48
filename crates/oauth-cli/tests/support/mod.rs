//! What the CLI's test binaries share: running the `oauth` binary as a process with an
//! exact environment, the sandbox settings of each provider, the simulated consent.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oauth_sandbox::Sandbox;
use serde_json::Value;

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "{self:#?}");
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }
}

/// Runs `oauth args` with exactly `env` (the parent's environment is not inherited, so
/// no OAUTH_* variable of the machine leaks in), killing it after `limit`.
pub fn run_blocking(args: &[String], env: &[(String, String)], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oauth"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    };
    assert!(status.is_some(), "oauth did not finish in time: {run:#?}");
    run
}

/// [`run_blocking`] off the async runtime, so the in-process sandbox keeps serving. The
/// future borrows nothing: several runs can go at once (`tokio::join!`).
pub fn oauth(
    args: &[&str],
    env: &[(&str, String)],
    limit: Duration,
) -> impl Future<Output = Run> + Send + use<> {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    async move {
        tokio::task::spawn_blocking(move || run_blocking(&args, &env, limit))
            .await
            .unwrap()
    }
}

pub fn ebay_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().ebay;
    vec![
        ("OAUTH_EBAY_CLIENT_ID", creds.client_id.clone()),
        ("OAUTH_EBAY_CLIENT_SECRET", creds.client_secret.clone()),
        ("OAUTH_EBAY_RU_NAME", creds.ru_name.clone()),
        ("OAUTH_EBAY_BASE_URL", sandbox.ebay_base_url()),
    ]
}

pub fn aliexpress_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().aliexpress;
    vec![
        ("OAUTH_ALIEXPRESS_APP_KEY", creds.app_key.clone()),
        ("OAUTH_ALIEXPRESS_APP_SECRET", creds.app_secret.clone()),
        ("OAUTH_ALIEXPRESS_REDIRECT_URI", creds.redirect_uri.clone()),
        ("OAUTH_ALIEXPRESS_BASE_URL", sandbox.aliexpress_base_url()),
    ]
}

pub fn orangeconnex_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().orangeconnex;
    vec![
        ("OAUTH_ORANGECONNEX_CLIENT_ID", creds.client_id.clone()),
        (
            "OAUTH_ORANGECONNEX_REDIRECT_URI",
            creds.redirect_uri.clone(),
        ),
        (
            "OAUTH_ORANGECONNEX_CLIENT_KEY",
            creds.client_key.clone().unwrap(),
        ),
        (
            "OAUTH_ORANGECONNEX_BASE_URL",
            sandbox.orangeconnex_base_url(),
        ),
    ]
}

pub fn eshopbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().eshopbox;
    vec![
        ("OAUTH_ESHOPBOX_CLIENT_ID", creds.client_id.clone()),
        ("OAUTH_ESHOPBOX_CLIENT_SECRET", creds.client_secret.clone()),
        ("OAUTH_ESHOPBOX_REFRESH_TOKEN", creds.refresh_token.clone()),
        ("OAUTH_ESHOPBOX_BASE_URL", sandbox.eshopbox_base_url()),
    ]
}

/// Follows the simulated consent: GET the authorize URL, return the 302's Location.
pub async fn consent(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}
