//! The `oauth-sandbox` binary's flags, against the process itself.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use oauth_sandbox::Provider;
use serde_json::json;

use crate::common::client;
use crate::raw::{admin_post, counters, refresh, seed};

/// The binary, killed when dropped.
struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oauth-sandbox"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("oauth-sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    Running { child, base }
}

#[tokio::test]
async fn flags_set_lifetimes_and_rotation_for_every_provider() {
    let sandbox = start(&[
        "--port",
        "0",
        "--access-token-ttl",
        "5s",
        "--refresh-token-ttl=1h",
        "--rotate-refresh-tokens",
    ]);
    // It listens on loopback only.
    assert!(
        sandbox.base.starts_with("http://127.0.0.1:"),
        "{}",
        sandbox.base
    );
    let http = client();
    for provider in Provider::ALL {
        let set = seed(&http, &sandbox.base, provider, &["bin-1"])
            .await
            .remove(0);
        assert_eq!(set["expires_in"], 5, "{provider}");
        assert_eq!(set["refresh_token_expires_in"], 3600, "{provider}");
        let old = set["refresh_token"].as_str().unwrap();
        let refreshed = refresh(&http, &sandbox.base, provider, old).await;
        assert!(refreshed.ok(), "{provider}: {}", refreshed.body);
        assert_eq!(refreshed.body["expires_in"], 5);
        assert_ne!(
            refreshed.refresh_token().as_deref(),
            Some(old),
            "{provider}"
        );
        refresh(&http, &sandbox.base, provider, old)
            .await
            .assert_invalid_grant(provider);
    }
    let c = counters(&http, &sandbox.base).await;
    for provider in Provider::ALL {
        let account = &c[provider.path_segment()]["accounts"]["bin-1"];
        assert_eq!(account["refresh_token"], 1, "{c}");
        assert_eq!(account["refresh_token_reuse"], 1, "{c}");
    }
    let (status, _) = admin_post(&http, &sandbox.base, "reset-counters", &json!(null)).await;
    assert_eq!(status, 204);
    assert_eq!(
        counters(&http, &sandbox.base).await["ebay"]["token_requests"],
        0
    );
}

#[tokio::test]
async fn rotation_per_provider_and_defaults() {
    let http = client();
    let sandbox = start(&["--rotate-refresh-tokens=ebay"]);
    for (provider, rotates) in [
        (Provider::Ebay, true),
        (Provider::AliExpress, true),
        (Provider::OrangeConnex, false),
        (Provider::Eshopbox, false),
    ] {
        let set = seed(&http, &sandbox.base, provider, &["p"]).await.remove(0);
        let old = set["refresh_token"].as_str().unwrap();
        // The default lifetimes are the providers' own.
        assert!(set["expires_in"].as_u64().unwrap() >= 3600, "{provider}");
        assert!(refresh(&http, &sandbox.base, provider, old).await.ok());
        let again = refresh(&http, &sandbox.base, provider, old).await;
        if rotates {
            again.assert_invalid_grant(provider);
        } else {
            assert!(again.ok(), "{provider}: {}", again.body);
        }
    }
    drop(sandbox);

    let sandbox = start(&["--no-rotate-refresh-tokens"]);
    let set = seed(&http, &sandbox.base, Provider::AliExpress, &["p"])
        .await
        .remove(0);
    let old = set["refresh_token"].as_str().unwrap();
    assert!(
        refresh(&http, &sandbox.base, Provider::AliExpress, old)
            .await
            .ok()
    );
    assert!(
        refresh(&http, &sandbox.base, Provider::AliExpress, old)
            .await
            .ok()
    );
}

#[test]
fn bad_flags_exit_2_and_help_exits_0() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_oauth-sandbox"))
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["--access-token-ttl", "soon"][..],
        &["--refresh-token-ttl"],
        &["--rotate-refresh-tokens=amazon"],
        &["--port", "http"],
        &["--bind", "0.0.0.0"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage: oauth-sandbox"));
    }
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stderr);
    for flag in [
        "--access-token-ttl",
        "--refresh-token-ttl",
        "--rotate-refresh-tokens",
        "--no-rotate-refresh-tokens",
    ] {
        assert!(text.contains(flag), "{flag}");
    }
}
