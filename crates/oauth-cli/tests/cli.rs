//! The `oauth` binary driven as a process, against a sandbox started in the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oauth_sandbox::{Provider, Sandbox};
use serde_json::Value;

/// One run of the binary.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "{self:#?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }
}

/// Runs `oauth args` with exactly `env` (the parent's environment is not inherited, so
/// no OAUTH_* variable of the machine leaks in), killing it after 30 s.
fn run_blocking(args: &[String], env: &[(String, String)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oauth"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
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

/// [`run_blocking`] off the async runtime, so the in-process sandbox keeps serving.
async fn oauth(args: &[&str], env: &[(&str, String)]) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    tokio::task::spawn_blocking(move || run_blocking(&args, &env))
        .await
        .unwrap()
}

fn ebay_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().ebay;
    vec![
        ("OAUTH_EBAY_CLIENT_ID", creds.client_id.clone()),
        ("OAUTH_EBAY_CLIENT_SECRET", creds.client_secret.clone()),
        ("OAUTH_EBAY_RU_NAME", creds.ru_name.clone()),
        ("OAUTH_EBAY_BASE_URL", sandbox.ebay_base_url()),
    ]
}

fn aliexpress_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().aliexpress;
    vec![
        ("OAUTH_ALIEXPRESS_APP_KEY", creds.app_key.clone()),
        ("OAUTH_ALIEXPRESS_APP_SECRET", creds.app_secret.clone()),
        ("OAUTH_ALIEXPRESS_REDIRECT_URI", creds.redirect_uri.clone()),
        ("OAUTH_ALIEXPRESS_BASE_URL", sandbox.aliexpress_base_url()),
    ]
}

fn eshopbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let creds = &sandbox.credentials().eshopbox;
    vec![
        ("OAUTH_ESHOPBOX_CLIENT_ID", creds.client_id.clone()),
        ("OAUTH_ESHOPBOX_CLIENT_SECRET", creds.client_secret.clone()),
        ("OAUTH_ESHOPBOX_REFRESH_TOKEN", creds.refresh_token.clone()),
        ("OAUTH_ESHOPBOX_TOKEN_URL", sandbox.eshopbox_token_url()),
    ]
}

/// Follows the simulated consent: GET the authorize URL, return the 302's Location.
async fn consent(url: &str) -> String {
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

/// `authorize-url --json`, consent, `exchange`: returns the redirect URL used.
async fn authorize_and_exchange(
    provider: &str,
    env: &[(&str, String)],
    store: &Path,
) -> (String, Run) {
    let authorize = oauth(&[provider, "authorize-url", "--json"], env)
        .await
        .ok();
    let value = authorize.json();
    let url = value["url"].as_str().unwrap().to_owned();
    let state = value["state"].as_str().unwrap().to_owned();
    assert_eq!(value["provider"], provider);
    assert_eq!(state.len(), 43);
    assert!(url.contains(&format!("state={state}")), "{url}");
    let landed = consent(&url).await;
    let store = store.to_str().unwrap();
    let exchange = oauth(
        &[
            provider,
            "exchange",
            "--store",
            store,
            "--state",
            &state,
            "--redirect-url",
            &landed,
        ],
        env,
    )
    .await
    .ok();
    (landed, exchange)
}

fn stored_tokens(store: &Path, key: &str) -> Value {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(store).unwrap()).unwrap();
    file["accounts"][key]["tokens"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_an_ok_row_per_provider() {
    let run = oauth(&["demo"], &[]).await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    for provider in ["eBay", "AliExpress", "OrangeConnex", "Eshopbox"] {
        let row = lines
            .iter()
            .find(|line| line.starts_with(&format!("{provider} ")))
            .unwrap_or_else(|| panic!("no row for {provider}: {run:#?}"));
        assert!(row.ends_with("  OK"), "{row}");
        assert!(row.contains("(2 requests)"), "{row}");
    }
    let row = |name: &str| *lines.iter().find(|l| l.starts_with(name)).unwrap();
    assert!(row("AliExpress").contains("(rotated)"));
    assert!(row("eBay").contains("(kept)"));
    assert!(row("Eshopbox").contains("none: custom app"));
    assert!(row("Eshopbox").contains("(from refresh token)"));
    assert!(run.stdout.contains("all 4 providers OK"), "{run:#?}");
    assert_eq!(run.stderr, "");

    let json = oauth(&["demo", "--json"], &[]).await.ok().json();
    assert_eq!(json["ok"], true);
    let providers = json["providers"].as_array().unwrap();
    let names: Vec<&str> = providers
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["eBay", "AliExpress", "OrangeConnex", "Eshopbox"]);
    for p in providers {
        assert_eq!(p["ok"], true, "{p}");
        assert_eq!(p["fault_token_requests"], 2, "{p}");
        assert_eq!(
            p["refresh_token_rotated"],
            p["provider"] == "AliExpress",
            "{p}"
        );
        assert!(p["total_ms"].as_f64().unwrap() > 0.0, "{p}");
    }
    assert_eq!(providers[3]["consent_ms"], Value::Null);

    // The demo never prints the sandbox's secrets.
    let sandbox = Sandbox::start().await.unwrap();
    let creds = sandbox.credentials();
    for secret in [
        &creds.ebay.client_secret,
        &creds.aliexpress.app_secret,
        &creds.eshopbox.client_secret,
        &creds.eshopbox.refresh_token,
    ] {
        assert!(!run.all().contains(secret.as_str()));
        assert!(!json.to_string().contains(secret.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_token_twice_the_second_from_the_store() {
    let sandbox = Sandbox::start().await.unwrap();
    let env = ebay_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();

    let (_, exchange) = authorize_and_exchange("ebay", &env, &store).await;
    assert!(
        exchange.stdout.starts_with(&format!(
            "ebay: tokens of account \"default\" saved to {store_arg}\n"
        )),
        "{exchange:#?}"
    );
    assert!(
        exchange
            .stdout
            .contains("access token:  User Access Token, expires ")
    );
    assert!(
        exchange
            .stdout
            .contains("scopes:        https://api.ebay.com/oauth/api_scope\n")
    );
    assert_eq!(sandbox.token_requests(Provider::Ebay), 1);
    let issued = stored_tokens(&store, "ebay/default");
    let first_access = issued["access_token"].as_str().unwrap().to_owned();

    // Valid for less than a day: refreshed and saved.
    let first = oauth(
        &[
            "ebay",
            "token",
            "--store",
            store_arg,
            "--min-valid",
            "86400",
        ],
        &env,
    )
    .await
    .ok();
    assert_eq!(sandbox.token_requests(Provider::Ebay), 2);
    let token = first.stdout.trim_end().to_owned();
    assert_eq!(first.stdout, format!("{token}\n"));
    assert_ne!(token, first_access);
    assert!(token.starts_with("v^1.1#"), "{token}");
    assert_eq!(stored_tokens(&store, "ebay/default")["access_token"], token);

    // Fresh: served from the store, no token request.
    let second = oauth(&["ebay", "token", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(sandbox.token_requests(Provider::Ebay), 2);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(second.stderr, "");

    // The token works as a bearer token on the API.
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!(
            "{}/sell/account/v1/privilege",
            sandbox.ebay_base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // --json carries the expiry with it.
    let json = oauth(&["ebay", "token", "--store", store_arg, "--json"], &env)
        .await
        .ok()
        .json();
    assert_eq!(json["access_token"], token.as_str());
    assert_eq!(json["token_type"], "User Access Token");
    let left = json["expires_in_secs"].as_i64().unwrap();
    assert!((7000..=7200).contains(&left), "{json}");
    assert_eq!(sandbox.token_requests(Provider::Ebay), 2);

    // An application token is cached under its own account.
    let app = oauth(&["ebay", "app-token", "--store", store_arg], &env)
        .await
        .ok();
    let app_again = oauth(&["ebay", "app-token", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(app.stdout, app_again.stdout);
    assert_ne!(app.stdout, first.stdout);
    assert_eq!(sandbox.token_requests(Provider::Ebay), 3);
    assert_eq!(
        stored_tokens(&store, "ebay/application:default")["token_type"],
        "Application Access Token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eshopbox_token_starts_from_the_configured_refresh_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let env = eshopbox_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let first = oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);
    let second = oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);
    assert_eq!(first.stdout, second.stdout);
    let refreshed = oauth(&["eshopbox", "refresh", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 2);
    assert!(
        refreshed
            .stdout
            .contains("rotation:      the refresh token was kept")
    );
    let third = oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    assert_ne!(third.stdout, first.stdout);

    // After a revocation the refresh fails with "authorize again" (exit 3).
    sandbox.revoke(Provider::Eshopbox);
    let revoked = oauth(&["eshopbox", "refresh", "--store", store_arg], &env).await;
    assert_eq!(revoked.code, Some(3), "{revoked:#?}");
    assert!(
        revoked.stderr.contains("re-authorization required"),
        "{revoked:#?}"
    );
    assert!(revoked.stderr.contains("hint: create a new refresh token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliexpress_refresh_rotates_and_saves() {
    let sandbox = Sandbox::start().await.unwrap();
    let env = aliexpress_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    authorize_and_exchange("aliexpress", &env, &store).await;
    let before = stored_tokens(&store, "aliexpress/default");
    let refreshed = oauth(
        &["aliexpress", "refresh", "--store", store_arg, "--json"],
        &env,
    )
    .await
    .ok()
    .json();
    assert_eq!(refreshed["refresh_token_rotated"], true);
    assert_eq!(refreshed["action"], "refresh");
    assert_eq!(refreshed["tokens"]["has_refresh_token"], true);
    let after = stored_tokens(&store, "aliexpress/default");
    assert_ne!(after["refresh_token"], before["refresh_token"]);
    assert_eq!(
        after["refresh_token_expires_at"],
        before["refresh_token_expires_at"]
    );
    assert_eq!(sandbox.token_requests(Provider::AliExpress), 2);

    sandbox.revoke(Provider::AliExpress);
    let revoked = oauth(&["aliexpress", "refresh", "--store", store_arg], &env).await;
    assert_eq!(revoked.code, Some(3), "{revoked:#?}");
    assert!(
        revoked
            .stderr
            .contains("hint: run `oauth aliexpress authorize-url`"),
        "{revoked:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_checks_the_state() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut env = Vec::new();
    let creds = &sandbox.credentials().orangeconnex;
    env.push(("OAUTH_ORANGECONNEX_CLIENT_ID", creds.client_id.clone()));
    env.push((
        "OAUTH_ORANGECONNEX_REDIRECT_URI",
        creds.redirect_uri.clone(),
    ));
    env.push((
        "OAUTH_ORANGECONNEX_CLIENT_KEY",
        creds.client_key.clone().unwrap(),
    ));
    env.push((
        "OAUTH_ORANGECONNEX_BASE_URL",
        sandbox.orangeconnex_base_url(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();

    let authorize = oauth(&["orangeconnex", "authorize-url"], &env).await.ok();
    let url = authorize.stdout.trim_end();
    let state = authorize
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("state: "))
        .unwrap()
        .to_owned();
    let landed = consent(url).await;
    let forged = oauth(
        &[
            "orangeconnex",
            "exchange",
            "--store",
            store_arg,
            "--state",
            "some-other-state",
            "--redirect-url",
            &landed,
        ],
        &env,
    )
    .await;
    assert_eq!(forged.code, Some(1), "{forged:#?}");
    assert!(
        forged
            .stderr
            .contains("the callback `state` does not match the one sent (possible CSRF)"),
        "{forged:#?}"
    );
    assert_eq!(sandbox.token_requests(Provider::OrangeConnex), 0);
    assert!(!store.exists());

    let exchanged = oauth(
        &[
            "orangeconnex",
            "exchange",
            "--store",
            store_arg,
            "--state",
            &state,
            "--redirect-url",
            &landed,
        ],
        &env,
    )
    .await
    .ok();
    assert!(exchanged.stdout.contains("saved to"));
    // A code is single-use: a second exchange fails and says what to do.
    let again = oauth(
        &[
            "orangeconnex",
            "exchange",
            "--store",
            store_arg,
            "--state",
            &state,
            "--redirect-url",
            &landed,
        ],
        &env,
    )
    .await;
    assert_eq!(again.code, Some(3), "{again:#?}");
    assert!(again.stderr.contains("codes are single-use"), "{again:#?}");
    let token = oauth(&["orangeconnex", "token", "--store", store_arg], &env)
        .await
        .ok();
    assert_eq!(
        token.stdout.trim_end(),
        stored_tokens(&store, "orangeconnex/default")["access_token"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_settings_are_named_with_a_non_zero_exit() {
    let run = oauth(&["ebay", "token"], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(
        run.stderr,
        "oauth: missing eBay settings: client id (--client-id or OAUTH_EBAY_CLIENT_ID), \
         client secret (--client-secret or OAUTH_EBAY_CLIENT_SECRET), \
         RuName (--ru-name or OAUTH_EBAY_RU_NAME)\n"
    );
    assert_eq!(run.stdout, "");

    let run = oauth(&["aliexpress", "sign", "--api", "/order/get"], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(
        run.stderr,
        "oauth: missing AliExpress settings: app secret (--app-secret or OAUTH_ALIEXPRESS_APP_SECRET)\n"
    );

    let env = [
        ("OAUTH_ESHOPBOX_CLIENT_ID", "id".to_owned()),
        ("OAUTH_ESHOPBOX_CLIENT_SECRET", " ".to_owned()),
    ];
    let run = oauth(&["eshopbox", "token"], &env).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("client secret (--client-secret or OAUTH_ESHOPBOX_CLIENT_SECRET), refresh token (--refresh-token or OAUTH_ESHOPBOX_REFRESH_TOKEN)"), "{run:#?}");

    let env = [
        ("OAUTH_EBAY_CLIENT_ID", "id".to_owned()),
        ("OAUTH_EBAY_CLIENT_SECRET", "secret".to_owned()),
        ("OAUTH_EBAY_RU_NAME", "ru".to_owned()),
    ];
    let run = oauth(
        &[
            "ebay",
            "exchange",
            "--state",
            "s",
            "--redirect-url",
            "https://a.example/?code=c&state=s",
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(
        run.stderr,
        "oauth: `oauth ebay exchange` needs a token file: pass --store FILE (or set OAUTH_STORE)\n"
    );

    // No tokens stored and no way to get one without consent.
    let run = oauth(&["ebay", "token"], &env).await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert!(run.stderr.contains("no --store was given"), "{run:#?}");

    // clap's own usage errors exit 2 too.
    let run = oauth(&["ebay", "exchange", "--store", "x.json"], &env).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("--redirect-url <URL>"), "{run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliexpress_sign_reproduces_the_published_vector() {
    let env = [("OAUTH_ALIEXPRESS_APP_SECRET", "helloworld".to_owned())];
    let args = [
        "aliexpress",
        "sign",
        "--api",
        "/auth/token/create",
        "--param",
        "app_key=12345678",
        "--param",
        "code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26",
        "--param",
        "sign_method=sha256",
        "--timestamp",
        "1517820392000",
    ];
    let run = oauth(&args, &env).await.ok();
    assert_eq!(
        run.stdout.lines().last(),
        Some("sign:           35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81")
    );
    assert!(run.stdout.contains(
        "string to sign: /auth/token/createapp_key12345678code3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26sign_methodsha256timestamp1517820392000\n"
    ));
    assert_eq!(run.stderr, "");

    // The same with the app key from the environment, sign_method added, as JSON.
    let env = [
        ("OAUTH_ALIEXPRESS_APP_SECRET", "helloworld".to_owned()),
        ("OAUTH_ALIEXPRESS_APP_KEY", "12345678".to_owned()),
    ];
    let json = oauth(
        &[
            "aliexpress",
            "sign",
            "--json",
            "--api",
            "/auth/token/create",
            "--param",
            "code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26",
            "--timestamp",
            "1517820392000",
        ],
        &env,
    )
    .await
    .ok()
    .json();
    assert_eq!(
        json["sign"],
        "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"
    );
    assert_eq!(json["kind"], "system");
    assert_eq!(json["params"][0][0], "app_key");

    // A business API: `method` is added and signed.
    let env = [("OAUTH_ALIEXPRESS_APP_SECRET", "helloworld".to_owned())];
    let run = oauth(
        &[
            "aliexpress",
            "sign",
            "--api",
            "aliexpress.logistics.redefining.getonlinelogisticsinfo",
            "--param",
            "access_token=test",
            "--param",
            "aliexpress_category_id=200135143",
            "--param",
            "app_key=123456",
            "--param",
            "timestamp=1517820392000",
        ],
        &env,
    )
    .await
    .ok();
    assert!(run.stdout.ends_with(
        "sign:           F7F7926B67316C9D1E8E15F7E66940ED3059B1638C497D77973F30046EFB5BBB\n"
    ));
    assert!(!run.all().contains("helloworld"));
}

/// Every command, with sentinel secrets: none appears in any output, except the access
/// token that `token` is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_output() {
    const EBAY_SECRET: &str = "SENTINEL-ebay-client-secret-0001";
    const AE_SECRET: &str = "SENTINEL-aliexpress-app-secret-0002";
    const ESB_SECRET: &str = "SENTINEL-eshopbox-client-secret-0003";
    const ESB_REFRESH: &str = "SENTINEL-eshopbox-refresh-token-0004";
    let sandbox = Sandbox::builder()
        .ebay_client("sentinel-ebay-id", EBAY_SECRET)
        .aliexpress_app("777001", AE_SECRET)
        .eshopbox_client("sentinel-esb-id", ESB_SECRET, ESB_REFRESH)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let ebay = ebay_env(&sandbox);
    let ae = aliexpress_env(&sandbox);
    let esb = eshopbox_env(&sandbox);
    let mut runs = Vec::new();
    let mut secrets: Vec<String> = [EBAY_SECRET, AE_SECRET, ESB_SECRET, ESB_REFRESH]
        .map(str::to_owned)
        .to_vec();

    let (landed, exchange) = authorize_and_exchange("ebay", &ebay, &store).await;
    runs.push(exchange);
    let code = url_code(&landed);
    secrets.push(code);
    let (landed, exchange) = authorize_and_exchange("aliexpress", &ae, &store).await;
    runs.push(exchange);
    secrets.push(url_code(&landed));
    for key in ["ebay/default", "aliexpress/default"] {
        secrets.push(
            stored_tokens(&store, key)["refresh_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut allowed_tokens = Vec::new();
    for (provider, env) in [("ebay", &ebay), ("aliexpress", &ae), ("eshopbox", &esb)] {
        for json in [false, true] {
            let mut args = vec![provider, "refresh", "--store", store_arg];
            if json {
                args.push("--json");
            }
            runs.push(oauth(&args, env).await.ok());
            args[1] = "token";
            let token = oauth(&args, env).await.ok();
            allowed_tokens.push(token);
        }
        for help in [
            vec![provider, "--help"],
            vec![provider, "token", "--help"],
            vec!["--help"],
        ] {
            runs.push(oauth(&help, env).await.ok());
        }
    }
    runs.push(oauth(&["ebay", "app-token", "--json"], &ebay).await.ok());
    runs.push(
        oauth(&["ebay", "authorize-url", "--json"], &ebay)
            .await
            .ok(),
    );
    // Failures too: a bad base URL, a refused refresh, a forged state.
    let mut bad = ebay.clone();
    bad.push(("OAUTH_EBAY_BASE_URL", "http://example.com/ebay".to_owned()));
    runs.push(oauth(&["ebay", "token", "--store", store_arg], &bad).await);
    sandbox.revoke(Provider::Ebay);
    runs.push(oauth(&["ebay", "refresh", "--store", store_arg], &ebay).await);
    runs.push(
        oauth(
            &[
                "ebay",
                "exchange",
                "--store",
                store_arg,
                "--state",
                "x",
                "--redirect-url",
                &landed,
            ],
            &ebay,
        )
        .await,
    );
    runs.push(
        oauth(
            &[
                "aliexpress",
                "sign",
                "--api",
                "/order/get",
                "--param",
                "a=1",
            ],
            &ae,
        )
        .await,
    );

    for run in &runs {
        let text = run.all();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} leaked: {run:#?}");
        }
        assert!(!text.contains("SENTINEL"), "{run:#?}");
    }
    // `token` prints the access token and nothing else secret.
    for run in &allowed_tokens {
        for secret in &secrets {
            assert!(
                !run.all().contains(secret.as_str()),
                "{secret} leaked: {run:#?}"
            );
        }
    }
    assert_eq!(
        runs.iter().filter(|r| r.code == Some(0)).count(),
        runs.len() - 3
    );
}

/// The (decoded) `code` of a callback URL.
fn url_code(landed: &str) -> String {
    let url = reqwest::Url::parse(landed).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}
