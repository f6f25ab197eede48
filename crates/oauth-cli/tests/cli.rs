//! The `oauth` binary driven as a process, against a sandbox started in the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use oauth_sandbox::{Provider, Sandbox};
use serde_json::Value;

mod support;
use support::{Run, aliexpress_env, consent, ebay_env, eshopbox_env, orangeconnex_env};

/// `oauth args` with exactly `env`, killed after 30 s (see [`support::oauth`]).
fn oauth(args: &[&str], env: &[(&str, String)]) -> impl Future<Output = Run> + Send + use<> {
    support::oauth(args, env, Duration::from_secs(30))
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

    // User tokens come from `exchange`: without the token file there is nothing to
    // serve, and nothing the seller could fix by consenting again (a usage error).
    let run = oauth(&["ebay", "token"], &env).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("`oauth ebay token` needs the token file `exchange` saved the tokens to"),
        "{run:#?}"
    );

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

/// Environment variables of one run.
type Env = Vec<(&'static str, String)>;

/// `env` with `name` set to `value` (replaced if present).
fn with(
    env: &[(&'static str, String)],
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> =
        env.iter().filter(|(k, _)| *k != name).cloned().collect();
    env.push((name, value.to_owned()));
    env
}

/// `authorize-url --json` and the simulated consent: (state, the URL landed on).
async fn consent_for(provider: &str, env: &[(&str, String)]) -> (String, String) {
    let value = oauth(&[provider, "authorize-url", "--json"], env)
        .await
        .ok()
        .json();
    let state = value["state"].as_str().unwrap().to_owned();
    let landed = consent(value["url"].as_str().unwrap()).await;
    (state, landed)
}

/// The JSON error object of a `--json` run, checked for the shape every error has.
fn json_error(run: &Run) -> Value {
    let value = run.json();
    let error = &value["error"];
    for field in ["kind", "message"] {
        assert!(error[field].is_string(), "{field}: {run:#?}");
    }
    for field in ["retryable", "reauthorize"] {
        assert!(error[field].is_boolean(), "{field}: {run:#?}");
    }
    assert_eq!(
        error["exit_code"].as_i64(),
        run.code.map(i64::from),
        "{run:#?}"
    );
    assert_eq!(value.as_object().unwrap().len(), 1, "{run:#?}");
    error.clone()
}

/// A wrong `--store` (no such file, no such directory) is exit code 4 with its own
/// message, not "authorize again"; an account without tokens in an existing file is
/// exit code 3. The commands that create the file still work with an absent file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_token_file_is_not_reauthorization() {
    let sandbox = Sandbox::start().await.unwrap();
    let ebay = ebay_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("nothere.json");
    let absent_arg = absent.to_str().unwrap();
    let no_dir = dir.path().join("no-such-dir").join("tokens.json");
    let no_dir_arg = no_dir.to_str().unwrap();

    for command in ["token", "refresh"] {
        let run = oauth(&["ebay", command, "--store", absent_arg], &ebay).await;
        assert_eq!(run.code, Some(4), "{run:#?}");
        assert!(
            run.stderr
                .starts_with(&format!("oauth: there is no token file {absent_arg}\n")),
            "{run:#?}"
        );
        assert!(run.stderr.contains("hint: check --store (or OAUTH_STORE)"));
        assert!(!run.stderr.contains("re-authorization"), "{run:#?}");
        let run = oauth(
            &["aliexpress", command, "--store", no_dir_arg],
            &aliexpress_env(&sandbox),
        )
        .await;
        assert_eq!(run.code, Some(4), "{run:#?}");
        assert!(
            run.stderr.starts_with(&format!(
                "oauth: the directory of the token file {no_dir_arg} does not exist\n"
            )),
            "{run:#?}"
        );
    }
    // The variable counts as --store; JSON says which kind of error it is.
    let mut env = ebay.clone();
    env.push(("OAUTH_STORE", absent_arg.to_owned()));
    let run = oauth(&["ebay", "token", "--json"], &env).await;
    assert_eq!(run.code, Some(4), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["kind"], "no_token_file");
    assert_eq!(error["reauthorize"], false);
    assert_eq!(error["provider"], "ebay");
    // `exchange` into a directory that does not exist fails before the code is spent.
    let (state, landed) = consent_for("ebay", &ebay).await;
    let run = oauth(
        &[
            "ebay",
            "exchange",
            "--store",
            no_dir_arg,
            "--state",
            &state,
            "--redirect-url",
            &landed,
        ],
        &ebay,
    )
    .await;
    assert_eq!(run.code, Some(4), "{run:#?}");
    assert_eq!(sandbox.token_requests(Provider::Ebay), 0);
    assert!(!absent.exists());

    // Commands that create the file work with an absent file in an existing directory.
    let esb_store = dir.path().join("esb.json");
    oauth(
        &["eshopbox", "token", "--store", esb_store.to_str().unwrap()],
        &eshopbox_env(&sandbox),
    )
    .await
    .ok();
    assert!(esb_store.exists());
    let esb_store = dir.path().join("esb-refresh.json");
    oauth(
        &[
            "eshopbox",
            "refresh",
            "--store",
            esb_store.to_str().unwrap(),
        ],
        &eshopbox_env(&sandbox),
    )
    .await
    .ok();
    assert!(esb_store.exists());
    let app_store = dir.path().join("app.json");
    oauth(
        &["ebay", "app-token", "--store", app_store.to_str().unwrap()],
        &ebay,
    )
    .await
    .ok();
    assert!(app_store.exists());
    let store = dir.path().join("tokens.json");
    authorize_and_exchange("ebay", &ebay, &store).await;
    assert!(store.exists());

    // The file exists but holds nothing for this account: authorize (exit code 3).
    let store_arg = store.to_str().unwrap();
    for command in ["token", "refresh"] {
        let run = oauth(
            &["ebay", command, "--store", store_arg, "--account", "typo"],
            &ebay,
        )
        .await;
        assert_eq!(run.code, Some(3), "{run:#?}");
        assert!(
            run.stderr.starts_with(&format!(
                "oauth: no tokens are stored for account \"typo\" in {store_arg}\n"
            )),
            "{run:#?}"
        );
        assert!(run.stderr.contains("check --account"), "{run:#?}");
    }
    let run = oauth(
        &["aliexpress", "token", "--store", store_arg, "--json"],
        &aliexpress_env(&sandbox),
    )
    .await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["kind"], "no_tokens");
    assert_eq!(error["reauthorize"], true);
}

/// Client credentials the provider rejects (eBay `invalid_client`, AliExpress
/// `IncompleteSignature`, OrangeConnex `invalid_client`, Eshopbox `access_denied`) are a
/// configuration error (exit code 2) whose hint names the settings to check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_client_credentials_exit_2_naming_the_settings() {
    const WRONG: &str = "SENTINEL-wrong-secret-0005";
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let mut runs = Vec::new();

    let ebay = with(&ebay_env(&sandbox), "OAUTH_EBAY_CLIENT_SECRET", WRONG);
    runs.push((
        "ebay",
        "invalid_client",
        "OAUTH_EBAY_CLIENT_ID / OAUTH_EBAY_CLIENT_SECRET",
        oauth(&["ebay", "app-token", "--json"], &ebay).await,
    ));

    let ae = aliexpress_env(&sandbox);
    let (state, landed) = consent_for("aliexpress", &ae).await;
    let ae = with(&ae, "OAUTH_ALIEXPRESS_APP_SECRET", WRONG);
    runs.push((
        "aliexpress",
        "IncompleteSignature",
        "OAUTH_ALIEXPRESS_APP_KEY / OAUTH_ALIEXPRESS_APP_SECRET",
        oauth(
            &[
                "aliexpress",
                "exchange",
                "--json",
                "--store",
                store_arg,
                "--state",
                &state,
                "--redirect-url",
                &landed,
            ],
            &ae,
        )
        .await,
    ));

    let oc = orangeconnex_env(&sandbox);
    let (state, landed) = consent_for("orangeconnex", &oc).await;
    let oc = with(&oc, "OAUTH_ORANGECONNEX_CLIENT_KEY", WRONG);
    runs.push((
        "orangeconnex",
        "invalid_client",
        "OAUTH_ORANGECONNEX_CLIENT_ID / OAUTH_ORANGECONNEX_CLIENT_KEY",
        oauth(
            &[
                "orangeconnex",
                "exchange",
                "--json",
                "--store",
                store_arg,
                "--state",
                &state,
                "--redirect-url",
                &landed,
            ],
            &oc,
        )
        .await,
    ));

    let esb = with(
        &eshopbox_env(&sandbox),
        "OAUTH_ESHOPBOX_CLIENT_SECRET",
        WRONG,
    );
    runs.push((
        "eshopbox",
        "access_denied",
        "OAUTH_ESHOPBOX_CLIENT_ID / OAUTH_ESHOPBOX_CLIENT_SECRET",
        oauth(&["eshopbox", "token", "--json", "--store", store_arg], &esb).await,
    ));

    for (provider, code, settings, run) in &runs {
        assert_eq!(run.code, Some(2), "{provider}: {run:#?}");
        assert!(
            run.stderr.contains(&format!(
                "\nhint: the provider rejected the client credentials: check {settings}"
            )),
            "{provider}: {run:#?}"
        );
        let error = json_error(run);
        assert_eq!(error["kind"], "invalid_client", "{provider}");
        assert_eq!(error["provider"], *provider);
        assert_eq!(error["provider_code"], *code, "{provider}");
        assert_eq!(error["reauthorize"], false);
        assert_eq!(error["retryable"], false);
        assert!(error["hint"].as_str().unwrap().contains(settings));
        assert!(!run.all().contains("SENTINEL"), "{provider}: {run:#?}");
    }
    assert!(!store.exists() || stored_tokens(&store, "aliexpress/default").is_null());
}

/// With --json a failure is one JSON object on stdout, with the same exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_errors_are_one_object_on_stdout() {
    // A usage error of ours: missing settings.
    let run = oauth(&["ebay", "token", "--json"], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["kind"], "configuration");
    assert_eq!(error["provider"], "ebay");
    assert_eq!(error["provider_code"], Value::Null);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("missing eBay settings: client id (--client-id or OAUTH_EBAY_CLIENT_ID)")
    );
    assert!(
        run.stderr.starts_with("oauth: missing eBay settings"),
        "{run:#?}"
    );
    // clap's own usage errors too.
    let run = oauth(&["--json", "ebay", "token", "--no-such-flag"], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["kind"], "usage");
    assert_eq!(
        error["message"],
        "unexpected argument '--no-such-flag' found"
    );

    // A re-authorization.
    let sandbox = Sandbox::start().await.unwrap();
    let env = eshopbox_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    oauth(&["eshopbox", "token", "--store", store_arg], &env)
        .await
        .ok();
    sandbox.revoke(Provider::Eshopbox);
    let run = oauth(
        &["eshopbox", "refresh", "--store", store_arg, "--json"],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(3), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["kind"], "reauthorization_required");
    assert_eq!(error["reauthorize"], true);
    assert_eq!(error["retryable"], false);
    assert_eq!(error["provider"], "eshopbox");
    assert_eq!(error["provider_code"], "invalid_grant");
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("create a new refresh token")
    );

    // An invalid client.
    let env = with(&ebay_env(&sandbox), "OAUTH_EBAY_CLIENT_SECRET", "wrong");
    let run = oauth(&["ebay", "app-token", "--json"], &env).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["kind"], "invalid_client");
    assert_eq!(error["provider_code"], "invalid_client");

    // A retryable failure says so.
    let env = eshopbox_env(&sandbox);
    sandbox.inject(
        Provider::Eshopbox,
        oauth_sandbox::Fault::ServerError(503),
        10,
    );
    let other = dir.path().join("other.json");
    let run = oauth(
        &[
            "eshopbox",
            "token",
            "--store",
            other.to_str().unwrap(),
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    let error = json_error(&run);
    assert_eq!(error["retryable"], true, "{run:#?}");
}

/// `ebay authorize-url --prompt-login --locale` (or their variables) reach the URL; the
/// default environment is eBay's sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebay_authorize_url_prompt_login_and_locale() {
    let env = vec![
        ("OAUTH_EBAY_CLIENT_ID", "App-ID".to_owned()),
        ("OAUTH_EBAY_RU_NAME", "Example-RuName".to_owned()),
    ];
    let url = |run: &Run| run.stdout.trim_end().to_owned();
    let plain = oauth(&["ebay", "authorize-url"], &env).await.ok();
    assert!(
        url(&plain).starts_with("https://auth.sandbox.ebay.com/oauth2/authorize?client_id=App-ID&"),
        "{plain:#?}"
    );
    assert!(!url(&plain).contains("prompt="));
    assert!(!url(&plain).contains("locale="));
    let flags = oauth(
        &[
            "ebay",
            "authorize-url",
            "--prompt-login",
            "--locale",
            "de-DE",
        ],
        &env,
    )
    .await
    .ok();
    assert!(
        url(&flags).ends_with("&prompt=login&locale=de-DE"),
        "{flags:#?}"
    );
    let vars = oauth(
        &["ebay", "authorize-url", "--json"],
        &with(
            &with(&env, "OAUTH_EBAY_PROMPT_LOGIN", "true"),
            "OAUTH_EBAY_LOCALE",
            "fr-FR",
        ),
    )
    .await
    .ok()
    .json();
    assert!(
        vars["url"]
            .as_str()
            .unwrap()
            .ends_with("&prompt=login&locale=fr-FR"),
        "{vars}"
    );
    let off = oauth(
        &["ebay", "authorize-url"],
        &with(&env, "OAUTH_EBAY_PROMPT_LOGIN", "false"),
    )
    .await
    .ok();
    assert!(!url(&off).contains("prompt="), "{off:#?}");
    let bad = oauth(&["ebay", "authorize-url", "--locale", "de DE&x=1"], &env).await;
    assert_eq!(bad.code, Some(2), "{bad:#?}");
    assert!(
        bad.stderr
            .contains("invalid locale (--locale or OAUTH_EBAY_LOCALE)")
    );
    // Production on request.
    let production = oauth(
        &["ebay", "authorize-url", "--environment", "production"],
        &env,
    )
    .await
    .ok();
    assert!(
        url(&production).starts_with("https://auth.ebay.com/oauth2/authorize?"),
        "{production:#?}"
    );
    let production = oauth(
        &["ebay", "authorize-url"],
        &with(&env, "OAUTH_EBAY_ENVIRONMENT", "production"),
    )
    .await
    .ok();
    assert!(url(&production).starts_with("https://auth.ebay.com/"));

    // A separate consent host: the authorize URL moves to it, the rest unchanged.
    let sandbox = Sandbox::start().await.unwrap();
    let custom = with(&env, "OAUTH_EBAY_BASE_URL", &sandbox.ebay_base_url());
    let moved = oauth(
        &[
            "ebay",
            "authorize-url",
            "--auth-base-url",
            "https://signin.example/ebay",
            "--locale",
            "de-DE",
        ],
        &custom,
    )
    .await
    .ok();
    assert!(
        url(&moved).starts_with("https://signin.example/ebay/oauth2/authorize?client_id=App-ID&"),
        "{moved:#?}"
    );
    assert!(url(&moved).ends_with("&locale=de-DE"), "{moved:#?}");
    let alone = oauth(
        &["ebay", "authorize-url"],
        &with(&env, "OAUTH_EBAY_AUTH_BASE_URL", "https://signin.example"),
    )
    .await;
    assert_eq!(alone.code, Some(2), "{alone:#?}");
    assert!(
        alone.stderr.contains(
            "--auth-base-url (OAUTH_EBAY_AUTH_BASE_URL) needs --base-url (OAUTH_EBAY_BASE_URL)"
        ),
        "{alone:#?}"
    );
}

/// An empty base-URL or environment variable is a configuration error naming it, for
/// every provider, never a silent fall back to the production host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_base_url_and_environment_settings_are_errors() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let cases: Vec<(&str, &str, Env, Vec<&str>)> = vec![
        (
            "OAUTH_ALIEXPRESS_BASE_URL",
            "--base-url",
            aliexpress_env(&sandbox),
            vec!["aliexpress", "authorize-url"],
        ),
        (
            "OAUTH_ALIEXPRESS_BASE_URL",
            "--base-url",
            aliexpress_env(&sandbox),
            vec!["aliexpress", "token", "--store", store_arg],
        ),
        (
            "OAUTH_EBAY_BASE_URL",
            "--base-url",
            ebay_env(&sandbox),
            vec!["ebay", "app-token"],
        ),
        (
            "OAUTH_EBAY_AUTH_BASE_URL",
            "--auth-base-url",
            ebay_env(&sandbox),
            vec!["ebay", "authorize-url"],
        ),
        (
            "OAUTH_EBAY_ENVIRONMENT",
            "--environment",
            ebay_env(&sandbox),
            vec!["ebay", "authorize-url"],
        ),
        (
            "OAUTH_ORANGECONNEX_BASE_URL",
            "--base-url",
            orangeconnex_env(&sandbox),
            vec!["orangeconnex", "authorize-url"],
        ),
        (
            "OAUTH_ORANGECONNEX_ENVIRONMENT",
            "--environment",
            orangeconnex_env(&sandbox),
            vec!["orangeconnex", "authorize-url"],
        ),
        (
            "OAUTH_ESHOPBOX_BASE_URL",
            "--base-url",
            eshopbox_env(&sandbox),
            vec!["eshopbox", "token"],
        ),
        (
            "OAUTH_ESHOPBOX_AUTHORIZE_URL",
            "--authorize-url",
            vec![
                ("OAUTH_ESHOPBOX_CLIENT_ID", "id".to_owned()),
                (
                    "OAUTH_ESHOPBOX_REDIRECT_URI",
                    "https://app.example/cb".to_owned(),
                ),
            ],
            vec!["eshopbox", "authorize-url"],
        ),
    ];
    for (var, flag, env, args) in cases {
        for value in ["", "  "] {
            let run = oauth(&args, &with(&env, var, value)).await;
            assert_eq!(run.code, Some(2), "{var}={value:?}: {run:#?}");
            assert!(
                run.stderr
                    .starts_with(&format!("oauth: {var} ({flag}) is set but empty")),
                "{var}: {run:#?}"
            );
            assert_eq!(run.stdout, "", "{var}: {run:#?}");
        }
    }
    // The retired full token URL of Eshopbox is refused, even empty, naming its
    // replacement (it would otherwise be ignored, and the production host used).
    for value in [sandbox.eshopbox_token_url(), String::new()] {
        let run = oauth(
            &["eshopbox", "token"],
            &with(&eshopbox_env(&sandbox), "OAUTH_ESHOPBOX_TOKEN_URL", &value),
        )
        .await;
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(
            run.stderr.starts_with(
                "oauth: OAUTH_ESHOPBOX_TOKEN_URL (--token-url) is no longer read: give the \
                 base URL in OAUTH_ESHOPBOX_BASE_URL (--base-url)"
            ),
            "{run:#?}"
        );
    }
    // The token file variable too.
    let run = oauth(
        &["eshopbox", "token"],
        &with(&eshopbox_env(&sandbox), "OAUTH_STORE", ""),
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("OAUTH_STORE (--store) is set but empty"),
        "{run:#?}"
    );
    for provider in [
        Provider::Ebay,
        Provider::AliExpress,
        Provider::OrangeConnex,
        Provider::Eshopbox,
    ] {
        assert_eq!(sandbox.token_requests(provider), 0);
    }
}

/// Holds the token file's lock as another writer would: reads still work, while every
/// save and write check gives up after the store's lock wait (10 s). Holds for root,
/// on every file system.
fn hold_lock(store: &Path) -> std::fs::File {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(store))
        .unwrap();
    file.lock().unwrap();
    file
}

fn lock_path(store: &Path) -> std::path::PathBuf {
    let mut lock = store.as_os_str().to_owned();
    lock.push(".lock");
    lock.into()
}

/// The token file's lock file made immutable (`chattr +i`), so that nobody, root
/// included, can open it for writing: the store reads but cannot be written. `None`
/// where the file system or the privileges do not allow it. Undone on drop.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn lock_file_of(store: &Path) -> Option<Self> {
        let lock = lock_path(store);
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .unwrap();
        let set = Command::new("chattr")
            .arg("+i")
            .arg(&lock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let writable = std::fs::OpenOptions::new().write(true).open(&lock).is_ok();
        let guard = Self(lock);
        (set && !writable).then_some(guard)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `refresh` and `token --min-valid` with a token file that cannot be written: exit
/// code 1 and a message saying nothing was refreshed, never "saved"; no refresh token
/// is spent and no request made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_with_an_unwritable_store_fails_and_says_so() {
    let sandbox = Sandbox::start().await.unwrap();
    let ae = aliexpress_env(&sandbox);
    let ebay = ebay_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let ae_store = dir.path().join("ae.json");
    let ae_arg = ae_store.to_str().unwrap();
    let ebay_store = dir.path().join("ebay.json");
    let ebay_arg = ebay_store.to_str().unwrap();
    authorize_and_exchange("aliexpress", &ae, &ae_store).await;
    authorize_and_exchange("ebay", &ebay, &ebay_store).await;
    let ae_before = std::fs::read_to_string(&ae_store).unwrap();
    let ebay_before = std::fs::read_to_string(&ebay_store).unwrap();
    let requests = |s: &Sandbox| {
        (
            s.token_requests(Provider::AliExpress),
            s.token_requests(Provider::Ebay),
        )
    };
    let before = requests(&sandbox);

    // Another writer holds the lock: all four at once (each waits the store's 10 s).
    let ae_lock = hold_lock(&ae_store);
    let ebay_lock = hold_lock(&ebay_store);
    let (ae_refresh, ae_token, ebay_refresh, ebay_token) = tokio::join!(
        oauth(&["aliexpress", "refresh", "--store", ae_arg, "--json"], &ae),
        oauth(
            &[
                "aliexpress",
                "token",
                "--store",
                ae_arg,
                "--min-valid",
                "999999999"
            ],
            &ae
        ),
        oauth(&["ebay", "refresh", "--store", ebay_arg], &ebay),
        oauth(
            &[
                "ebay",
                "token",
                "--store",
                ebay_arg,
                "--min-valid",
                "999999999"
            ],
            &ebay
        ),
    );
    drop((ae_lock, ebay_lock));
    for (run, path, refresh) in [
        (&ae_refresh, ae_arg, true),
        (&ae_token, ae_arg, false),
        (&ebay_refresh, ebay_arg, true),
        (&ebay_token, ebay_arg, false),
    ] {
        assert_eq!(run.code, Some(1), "{run:#?}");
        let expected = if refresh {
            format!(
                "oauth: nothing was refreshed and nothing saved: the token file {path} cannot be written: token store busy: "
            )
        } else {
            format!(
                "oauth: nothing was refreshed and no token printed: the token file {path} cannot be written: token store busy: "
            )
        };
        assert!(run.stderr.starts_with(&expected), "{run:#?}");
        assert!(
            run.stderr
                .contains("hint: another program holds the token file's lock")
        );
        if run.stdout.starts_with('{') {
            let error = json_error(run);
            assert_eq!(error["kind"], "store_busy");
            assert_eq!(error["retryable"], true);
        } else {
            assert_eq!(run.stdout, "", "{run:#?}");
        }
    }
    assert_eq!(requests(&sandbox), before);
    assert_eq!(std::fs::read_to_string(&ae_store).unwrap(), ae_before);
    assert_eq!(std::fs::read_to_string(&ebay_store).unwrap(), ebay_before);

    // A lock file nobody can write (where `chattr +i` works): "cannot be written".
    if let Some(_immutable) = Immutable::lock_file_of(&ae_store) {
        for args in [
            vec!["aliexpress", "refresh", "--store", ae_arg, "--json"],
            vec![
                "aliexpress",
                "token",
                "--store",
                ae_arg,
                "--min-valid",
                "999999999",
                "--json",
            ],
        ] {
            let run = oauth(&args, &ae).await;
            assert_eq!(run.code, Some(1), "{run:#?}");
            assert!(
                run.stderr
                    .contains("cannot be written: token store failed: "),
                "{run:#?}"
            );
            assert!(run.stderr.contains("hint: make the token file"), "{run:#?}");
            let error = json_error(&run);
            assert_eq!(error["kind"], "store_not_writable");
            assert_eq!(error["retryable"], false);
        }
        assert_eq!(requests(&sandbox), before);
    }
    // Writable again: the refresh works.
    oauth(&["aliexpress", "refresh", "--store", ae_arg], &ae)
        .await
        .ok();
}

/// `exchange` (and the first token of Eshopbox and `ebay app-token`) prove the token
/// file writable before spending the single-use code: no token request is made, and
/// the code still works once the file can be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_with_an_unwritable_store_spends_no_code() {
    let sandbox = Sandbox::start().await.unwrap();
    let ebay = ebay_env(&sandbox);
    let esb = eshopbox_env(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let (state, landed) = consent_for("ebay", &ebay).await;
    let exchange_args = [
        "ebay",
        "exchange",
        "--store",
        store_arg,
        "--state",
        state.as_str(),
        "--redirect-url",
        landed.as_str(),
    ];

    let lock = hold_lock(&store);
    let (exchange, app_token, eshopbox) = tokio::join!(
        oauth(&exchange_args, &ebay),
        oauth(&["ebay", "app-token", "--store", store_arg], &ebay),
        oauth(&["eshopbox", "token", "--store", store_arg, "--json"], &esb),
    );
    drop(lock);
    assert_eq!(exchange.code, Some(1), "{exchange:#?}");
    assert!(
        exchange.stderr.starts_with(&format!(
            "oauth: the code was not exchanged (it stays usable until it expires): the token \
             file {store_arg} cannot be written: token store busy: "
        )),
        "{exchange:#?}"
    );
    assert_eq!(exchange.stdout, "");
    assert_eq!(app_token.code, Some(1), "{app_token:#?}");
    assert!(
        app_token.stderr.contains("cannot be written"),
        "{app_token:#?}"
    );
    assert_eq!(app_token.stdout, "");
    assert_eq!(eshopbox.code, Some(1), "{eshopbox:#?}");
    assert_eq!(json_error(&eshopbox)["kind"], "store_busy");
    assert_eq!(sandbox.token_requests(Provider::Ebay), 0);
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 0);
    assert!(!store.exists());

    if let Some(immutable) = Immutable::lock_file_of(&store) {
        let run = oauth(&exchange_args, &ebay).await;
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(
            run.stderr
                .contains("cannot be written: token store failed: "),
            "{run:#?}"
        );
        assert_eq!(sandbox.token_requests(Provider::Ebay), 0);
        drop(immutable);
    }

    // The code was not spent: it is exchanged once the file can be written.
    let run = oauth(&exchange_args, &ebay).await.ok();
    assert!(run.stdout.contains("saved to"), "{run:#?}");
    assert_eq!(sandbox.token_requests(Provider::Ebay), 1);
}

/// The key text inside a key file (the line after the comment), to look for in outputs.
fn key_material(key_file: &Path) -> String {
    let text = std::fs::read_to_string(key_file).unwrap();
    let line = text.lines().find(|l| !l.starts_with('#')).unwrap();
    line.split_once(':').unwrap().1.to_owned()
}

/// `--store-key-file`: `keygen` writes a private key file (never over another file), the
/// token file then holds envelopes only, every command reads through the key, and a
/// token file with encrypted tokens is refused without its key, or with a wrong or
/// too-open one (exit code 2), and never written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_token_file_needs_its_key() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let key_file = dir.path().join("store.key");
    let key_arg = key_file.to_str().unwrap();

    let keygen = oauth(&["store", "keygen", key_arg, "--key-id", "2026-05"], &[])
        .await
        .ok();
    assert!(
        keygen.stdout.contains("key 2026-05 written to"),
        "{keygen:#?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let material = key_material(&key_file);
    assert_eq!(material.len(), 44);
    let before = std::fs::read_to_string(&key_file).unwrap();
    let again = oauth(&["store", "keygen", key_arg, "--json"], &[]).await;
    assert_eq!(again.code, Some(2), "{again:#?}");
    assert!(
        json_error(&again)["message"]
            .as_str()
            .unwrap()
            .contains("refusing to overwrite")
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), before);

    let env = with(&ebay_env(&sandbox), "OAUTH_STORE_KEY_FILE", key_arg);
    let (_, exchange) = authorize_and_exchange("ebay", &env, &store).await;
    assert!(exchange.stdout.contains("saved to"), "{exchange:#?}");
    let stored = stored_tokens(&store, "ebay/default");
    assert!(
        stored["access_token"]
            .as_str()
            .unwrap()
            .starts_with("enc:v1:2026-05:"),
        "{stored}"
    );
    assert!(stored.get("refresh_token").is_none(), "{stored}");
    let token = oauth(&["ebay", "token", "--store", store_arg], &env)
        .await
        .ok();
    let access = token.stdout.trim().to_owned();
    assert!(
        !access.is_empty() && !access.starts_with("enc:"),
        "{token:#?}"
    );
    let file = std::fs::read_to_string(&store).unwrap();
    assert!(
        !file.contains(&access),
        "the access token is in clear in the file"
    );

    // Without the key: exit 2, nothing read or written.
    let plain_env = ebay_env(&sandbox);
    for command in ["token", "refresh"] {
        let run = oauth(
            &["ebay", command, "--store", store_arg, "--json"],
            &plain_env,
        )
        .await;
        assert_eq!(run.code, Some(2), "{run:#?}");
        let error = json_error(&run);
        assert_eq!(error["kind"], "store_key_required", "{run:#?}");
        assert!(run.stderr.contains("--store-key-file"), "{run:#?}");
        assert_eq!(std::fs::read_to_string(&store).unwrap(), file);
    }
    // The same for exchange, which would otherwise add an entry in clear.
    let (state, landed) = consent_for("ebay", &plain_env).await;
    let run = oauth(
        &[
            "ebay",
            "exchange",
            "--store",
            store_arg,
            "--state",
            &state,
            "--redirect-url",
            &landed,
        ],
        &plain_env,
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(std::fs::read_to_string(&store).unwrap(), file);

    // A wrong key (another key file): exit 2, a decryption error naming the key id.
    let other_key = dir.path().join("other.key");
    oauth(&["store", "keygen", other_key.to_str().unwrap()], &[])
        .await
        .ok();
    let wrong_env = with(
        &plain_env,
        "OAUTH_STORE_KEY_FILE",
        other_key.to_str().unwrap(),
    );
    let run = oauth(
        &["ebay", "token", "--store", store_arg, "--json"],
        &wrong_env,
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert_eq!(json_error(&run)["kind"], "decryption", "{run:#?}");
    assert!(run.stderr.contains("2026-05"), "{run:#?}");
    assert_eq!(std::fs::read_to_string(&store).unwrap(), file);

    // A key file others may read: refused, without showing the key.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = oauth(&["ebay", "token", "--store", store_arg], &env).await;
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stderr.contains("chmod 600"), "{run:#?}");
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    for run in [&keygen, &exchange, &token] {
        assert!(
            !run.all().contains(&material),
            "the key was printed: {run:#?}"
        );
    }
}

/// A token file written in clear is read with a key given, each entry is encrypted
/// when next saved, and `store rekey` encrypts the rest at once; after a key rotation
/// (new key current, old one with --old-key-file) `rekey` moves every entry to the new
/// key, after which the old key is no longer needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_file_is_migrated_and_rekeyed() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let store_arg = store.to_str().unwrap();
    let (old_key, new_key) = (dir.path().join("old.key"), dir.path().join("new.key"));
    let (old_arg, new_arg) = (old_key.to_str().unwrap(), new_key.to_str().unwrap());
    oauth(&["store", "keygen", old_arg, "--key-id", "old"], &[])
        .await
        .ok();
    oauth(&["store", "keygen", new_arg, "--key-id", "new"], &[])
        .await
        .ok();

    // In clear: an AliExpress and an eBay account.
    let ali = aliexpress_env(&sandbox);
    let ebay = ebay_env(&sandbox);
    authorize_and_exchange("aliexpress", &ali, &store).await;
    authorize_and_exchange("ebay", &ebay, &store).await;
    let plain = stored_tokens(&store, "ebay/default");
    assert!(plain.get("refresh_token").is_some());

    // A refresh with the key encrypts that entry, and only it.
    oauth(
        &[
            "aliexpress",
            "refresh",
            "--store",
            store_arg,
            "--store-key-file",
            old_arg,
        ],
        &ali,
    )
    .await
    .ok();
    let ali_entry = stored_tokens(&store, "aliexpress/default");
    assert!(
        ali_entry["access_token"]
            .as_str()
            .unwrap()
            .starts_with("enc:v1:old:")
    );
    assert_eq!(stored_tokens(&store, "ebay/default"), plain);

    // rekey encrypts the rest.
    let rekey = oauth(
        &[
            "store",
            "rekey",
            "--store",
            store_arg,
            "--store-key-file",
            old_arg,
            "--json",
        ],
        &[],
    )
    .await
    .ok()
    .json();
    assert_eq!(rekey["accounts"], 2, "{rekey}");
    assert_eq!(rekey["rekeyed"], 1, "{rekey}");
    assert_eq!(rekey["from_plaintext"], 1, "{rekey}");
    assert_eq!(rekey["already_current"], 1, "{rekey}");
    assert!(
        stored_tokens(&store, "ebay/default")["access_token"]
            .as_str()
            .unwrap()
            .starts_with("enc:v1:old:")
    );

    // Rotation: the new key alone cannot read the old entries...
    let run = oauth(
        &[
            "store",
            "rekey",
            "--store",
            store_arg,
            "--store-key-file",
            new_arg,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("--old-key-file"), "{run:#?}");
    // ... with the old one given, every entry moves to the new key.
    let text = oauth(
        &[
            "store",
            "rekey",
            "--store",
            store_arg,
            "--store-key-file",
            new_arg,
            "--old-key-file",
            old_arg,
        ],
        &[],
    )
    .await
    .ok();
    assert!(
        text.stdout
            .contains("2 of 2 entries re-encrypted under key new"),
        "{text:#?}"
    );
    let file = std::fs::read_to_string(&store).unwrap();
    assert_eq!(file.matches("enc:v1:new:").count(), 2, "{file}");
    // The new key alone now serves both accounts.
    for (provider, env) in [("ebay", &ebay), ("aliexpress", &ali)] {
        let run = oauth(
            &[
                provider,
                "token",
                "--store",
                store_arg,
                "--store-key-file",
                new_arg,
            ],
            env,
        )
        .await
        .ok();
        assert!(!run.stdout.trim().is_empty());
    }
    // rekey without a key or a store: usage errors.
    let run = oauth(&["store", "rekey", "--store", store_arg], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    let run = oauth(&["store", "rekey", "--store-key-file", new_arg], &[]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
}

/// The proxy variables of the environment are not consulted: a token request (which
/// carries the client secret and the refresh token) goes straight to the provider, never
/// through a proxy the environment names. The "proxy" here is a loopback listener that
/// records every connection and byte it receives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_are_ignored() {
    use std::sync::{Arc, Mutex};
    use tokio::io::AsyncReadExt;

    let sandbox = Sandbox::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let received: Arc<Mutex<(usize, Vec<u8>)>> = Arc::default();
    let recorder = Arc::clone(&received);
    let accepting = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            recorder.lock().unwrap().0 += 1;
            let recorder = Arc::clone(&recorder);
            tokio::spawn(async move {
                let mut buffer = [0_u8; 4096];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    recorder.lock().unwrap().1.extend_from_slice(&buffer[..n]);
                }
            });
        }
    });
    let mut env = eshopbox_env(&sandbox);
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        env.push((var, proxy.clone()));
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.json");
    let run = oauth(
        &["eshopbox", "token", "--store", store.to_str().unwrap()],
        &env,
    )
    .await
    .ok();
    assert!(!run.stdout.trim().is_empty(), "{run:#?}");
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 1);
    // A forced refresh too (the refresh grant's own request).
    oauth(
        &["eshopbox", "refresh", "--store", store.to_str().unwrap()],
        &env,
    )
    .await
    .ok();
    assert_eq!(sandbox.token_requests(Provider::Eshopbox), 2);
    // Give a connection that might have been made a moment to be recorded.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (connections, bytes) = received.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("client_secret"),
        "the proxy received: {text}"
    );
    assert_eq!(connections, 0, "the proxy received: {text}");
    assert!(bytes.is_empty(), "the proxy received: {text}");

    // The control: a client told to use the proxy does reach the recorder.
    let through_proxy = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(&proxy).unwrap())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let _ = through_proxy
        .get(format!("{}/api/v1/me", sandbox.eshopbox_base_url()))
        .send()
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    accepting.abort();
    let (connections, bytes) = received.lock().unwrap().clone();
    assert_eq!(connections, 1);
    assert!(String::from_utf8_lossy(&bytes).contains("/eshopbox/api/v1/me"));
}
