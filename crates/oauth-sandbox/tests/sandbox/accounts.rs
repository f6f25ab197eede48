//! Accounts, rotation, lifetimes and the admin API (counters, reset, revoke, seeding).

use std::time::Duration;

use oauth_sandbox::{DEFAULT_ACCOUNT, Fault, Provider, Sandbox};
use serde_json::{Value, json};

use crate::common::{basic, client, form, json, location, query_of, with_query};
use crate::raw::{admin_post, api_accepts, counters, ebay_application_token, refresh, seed};

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:03}")).collect()
}

#[tokio::test]
async fn listener_binds_loopback_by_default() {
    let sandbox = Sandbox::start().await.unwrap();
    assert!(sandbox.local_addr().ip().is_loopback());
    assert_eq!(sandbox.local_addr().ip().to_string(), "127.0.0.1");
    assert_eq!(sandbox.admin_url(), format!("{}/admin", sandbox.base_url()));
}

#[tokio::test]
async fn seeding_100_accounts_per_provider_and_counting_per_account() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for provider in Provider::ALL {
        let accounts = names(provider.path_segment(), 100);
        let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let seeded = seed(&http, base, provider, &refs).await;
        for (set, name) in seeded.iter().zip(&accounts) {
            assert_eq!(set["account"], name.as_str());
            assert!(set["expires_in"].as_u64().unwrap() > 0);
        }
        // Every token is distinct, and they work.
        let mut refresh_tokens: Vec<&str> = seeded
            .iter()
            .map(|s| s["refresh_token"].as_str().unwrap())
            .collect();
        refresh_tokens.sort_unstable();
        refresh_tokens.dedup();
        assert_eq!(refresh_tokens.len(), 100);
        let first = &seeded[0];
        assert!(
            api_accepts(
                &http,
                base,
                provider,
                first["access_token"].as_str().unwrap()
            )
            .await
        );
        // Refresh two accounts: once and twice.
        for (set, times) in [(&seeded[0], 1), (&seeded[1], 2)] {
            let mut token = set["refresh_token"].as_str().unwrap().to_owned();
            for _ in 0..times {
                let refreshed = refresh(&http, base, provider, &token).await;
                assert!(refreshed.ok(), "{provider}: {}", refreshed.body);
                if let Some(new) = refreshed.refresh_token() {
                    token = new;
                }
                let access = refreshed.body["access_token"].as_str().unwrap();
                assert!(api_accepts(&http, base, provider, access).await);
            }
        }
        // An unknown refresh token: rejected, attributed to no account.
        refresh(&http, base, provider, "never-issued")
            .await
            .assert_invalid_grant(provider);
    }
    // Seeding is not a token request.
    let counters = counters(&http, base).await;
    for provider in Provider::ALL {
        let c = &counters[provider.path_segment()];
        assert_eq!(c["token_requests"], 4, "{provider}: {c}");
        assert_eq!(c["faulted"], 0);
        assert_eq!(c["totals"]["refresh_token"], 3, "{c}");
        assert_eq!(c["totals"]["rejected"], 1, "{c}");
        assert_eq!(c["totals"]["refresh_token_reuse"], 0, "{c}");
        let accounts = c["accounts"].as_object().unwrap();
        assert_eq!(accounts.len(), 2, "{c}");
        let segment = provider.path_segment();
        assert_eq!(accounts[&format!("{segment}-000")]["refresh_token"], 1);
        assert_eq!(accounts[&format!("{segment}-001")]["refresh_token"], 2);
        assert_eq!(accounts[&format!("{segment}-001")]["rejected"], 0);
        assert_eq!(sandbox.token_requests(provider), 4);
    }
    // The library's view is the same.
    let typed = sandbox.counters();
    assert_eq!(typed.provider(Provider::Ebay).totals.refresh_token, 3);
    assert_eq!(serde_json::to_value(&typed).unwrap(), counters);
}

#[tokio::test]
async fn rotation_everywhere_makes_refresh_tokens_single_use() {
    let sandbox = Sandbox::builder()
        .rotate_refresh_tokens(true)
        .start()
        .await
        .unwrap();
    let http = client();
    let base = sandbox.base_url();
    for provider in Provider::ALL {
        let set = sandbox.seed_account(provider, "rotating");
        let first = refresh(&http, base, provider, &set.refresh_token).await;
        assert!(first.ok(), "{provider}: {}", first.body);
        let rotated = first.refresh_token().expect("a rotated refresh token");
        assert_ne!(rotated, set.refresh_token);
        // The spent one is refused in the provider's shape, and counted as reuse.
        let reuse = refresh(&http, base, provider, &set.refresh_token).await;
        reuse.assert_invalid_grant(provider);
        // The new one works (and rotates again).
        let second = refresh(&http, base, provider, &rotated).await;
        assert!(second.ok(), "{provider}: {}", second.body);
        assert_ne!(second.refresh_token().as_deref(), Some(rotated.as_str()));
        let all = sandbox.counters();
        let counts = &all.provider(provider).accounts["rotating"];
        assert_eq!(counts.refresh_token, 2, "{provider}");
        assert_eq!(counts.rejected, 1, "{provider}");
        assert_eq!(counts.refresh_token_reuse, 1, "{provider}");
        assert_eq!(counts.revoked_grant, 0, "{provider}");
    }
}

#[tokio::test]
async fn default_rotation_is_aliexpress_only_and_can_be_turned_off() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for provider in Provider::ALL {
        let set = sandbox.seed_account(provider, "a");
        let first = refresh(&http, base, provider, &set.refresh_token).await;
        assert!(first.ok());
        let again = refresh(&http, base, provider, &set.refresh_token).await;
        if provider == Provider::AliExpress {
            again.assert_invalid_grant(provider);
            assert_eq!(
                sandbox.counters().aliexpress.accounts["a"].refresh_token_reuse,
                1
            );
        } else {
            assert!(again.ok(), "{provider}: {}", again.body);
            // OrangeConnex answers with the same refresh token; eBay and Eshopbox
            // with none.
            let same = again.refresh_token();
            assert!(same.is_none() || same.as_deref() == Some(set.refresh_token.as_str()));
        }
    }

    let sandbox = Sandbox::builder()
        .rotate_refresh_tokens(false)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let set = sandbox.seed_account(Provider::AliExpress, "a");
    for _ in 0..2 {
        let refreshed = refresh(&http, base, Provider::AliExpress, &set.refresh_token).await;
        assert!(refreshed.ok(), "{}", refreshed.body);
        assert_eq!(refreshed.refresh_token(), Some(set.refresh_token.clone()));
    }

    let sandbox = Sandbox::builder()
        .provider_rotates_refresh_tokens(Provider::Ebay, true)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    let set = sandbox.seed_account(Provider::Ebay, "a");
    let refreshed = refresh(&http, base, Provider::Ebay, &set.refresh_token).await;
    assert!(
        refreshed.body["refresh_token"].is_string(),
        "{}",
        refreshed.body
    );
    assert!(refreshed.body["refresh_token_expires_in"].is_u64());
    let set = sandbox.seed_account(Provider::OrangeConnex, "a");
    let refreshed = refresh(&http, base, Provider::OrangeConnex, &set.refresh_token).await;
    assert_eq!(refreshed.refresh_token(), Some(set.refresh_token.clone()));
}

#[tokio::test]
async fn revoking_one_account_over_the_admin_api() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for provider in Provider::ALL {
        let seeded = seed(&http, base, provider, &["victim", "bystander"]).await;
        let (status, answer) = admin_post(
            &http,
            base,
            "revoke",
            &json!({ "provider": provider.path_segment(), "account": "victim" }),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["account"], "victim");
        assert_eq!(answer["revoked_refresh_tokens"], 1);
        assert_eq!(answer["revoked_access_tokens"], 1);
        let token = |i: usize, kind: &str| seeded[i][kind].as_str().unwrap().to_owned();
        // The victim's tokens fail in the provider's shape.
        refresh(&http, base, provider, &token(0, "refresh_token"))
            .await
            .assert_invalid_grant(provider);
        assert!(!api_accepts(&http, base, provider, &token(0, "access_token")).await);
        // The other account is untouched.
        assert!(api_accepts(&http, base, provider, &token(1, "access_token")).await);
        assert!(
            refresh(&http, base, provider, &token(1, "refresh_token"))
                .await
                .ok()
        );
        let all = sandbox.counters();
        let counts = &all.provider(provider).accounts;
        assert_eq!(counts["victim"].rejected, 1);
        assert_eq!(counts["victim"].revoked_grant, 1);
        assert_eq!(counts["bystander"].refresh_token, 1);
    }
    // Without `account`: the whole provider, as Sandbox::revoke.
    let set = sandbox.seed_account(Provider::Ebay, "x");
    let (status, _) = admin_post(&http, base, "revoke", &json!({ "provider": "ebay" })).await;
    assert_eq!(status, 200);
    refresh(&http, base, Provider::Ebay, &set.refresh_token)
        .await
        .assert_invalid_grant(Provider::Ebay);
    // The library call does the same as the endpoint.
    let set = sandbox.seed_account(Provider::Eshopbox, "y");
    assert_eq!(sandbox.revoke_account(Provider::Eshopbox, "y"), (1, 1));
    refresh(&http, base, Provider::Eshopbox, &set.refresh_token)
        .await
        .assert_invalid_grant(Provider::Eshopbox);
}

#[tokio::test]
async fn reset_counters_and_faulted_requests() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    let set = sandbox.seed_account(Provider::OrangeConnex, "a");
    sandbox.inject(Provider::OrangeConnex, Fault::ServerError(503), 1);
    sandbox.inject(
        Provider::OrangeConnex,
        Fault::Latency(Duration::from_millis(10)),
        1,
    );
    let faulted = refresh(&http, base, Provider::OrangeConnex, &set.refresh_token).await;
    assert_eq!(faulted.status, 503);
    assert!(
        refresh(&http, base, Provider::OrangeConnex, &set.refresh_token)
            .await
            .ok()
    );
    let c = sandbox.counters();
    assert_eq!(c.orangeconnex.token_requests, 2);
    assert_eq!(c.orangeconnex.faulted, 1);
    assert_eq!(c.orangeconnex.totals.refresh_token, 1);
    assert_eq!(c.orangeconnex.accounts["a"].refresh_token, 1);

    let (status, body) = admin_post(&http, base, "reset-counters", &Value::Null).await;
    assert_eq!((status, body), (204, Value::Null));
    let after = counters(&http, base).await;
    for provider in Provider::ALL {
        let c = &after[provider.path_segment()];
        assert_eq!(c["token_requests"], 0);
        assert_eq!(c["accounts"], json!({}));
    }
    assert_eq!(sandbox.token_requests(Provider::OrangeConnex), 0);
    // Counting goes on after a reset; so does the library's reset.
    assert!(
        refresh(&http, base, Provider::OrangeConnex, &set.refresh_token)
            .await
            .ok()
    );
    assert_eq!(sandbox.token_requests(Provider::OrangeConnex), 1);
    sandbox.reset_counters();
    assert_eq!(sandbox.counters(), oauth_sandbox::Counters::default());
}

#[tokio::test]
async fn admin_requests_are_checked() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for body in [
        json!({ "provider": "amazon", "account": "a" }),
        json!({ "account": "a" }),
        json!({ "provider": "ebay" }),
        json!({ "provider": "ebay", "account": "" }),
        json!({ "provider": "ebay", "accounts": [] }),
        json!({ "provider": "ebay", "accounts": ["a", 7] }),
        json!({ "provider": "ebay", "account": "a", "accounts": ["b"] }),
        json!(["ebay"]),
    ] {
        let (status, answer) = admin_post(&http, base, "accounts", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"], "invalid_request");
    }
    let (status, _) = admin_post(&http, base, "revoke", &json!({ "provider": "x" })).await;
    assert_eq!(status, 400);
    let not_json = http
        .post(format!("{base}/admin/revoke"))
        .body("provider=ebay")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    // A DNS-rebound page sends its own host name.
    let rebound = http
        .get(format!("{base}/admin/counters"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    let (_, body) = json(rebound).await;
    assert_eq!(body["error"], "forbidden");
    let localhost = http
        .get(format!("{base}/admin/counters"))
        .header("host", format!("localhost:{}", sandbox.local_addr().port()))
        .send()
        .await
        .unwrap();
    assert_eq!(localhost.status(), 200);
    let wrong_method = http
        .get(format!("{base}/admin/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    // A single account is accepted too, with the same answer shape.
    let (status, answer) = admin_post(
        &http,
        base,
        "accounts",
        &json!({ "provider": "eshopbox", "account": "solo" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["accounts"][0]["account"], "solo");
    // Eshopbox's refresh tokens never expire by default.
    assert_eq!(
        answer["accounts"][0]["refresh_token_expires_in"],
        Value::Null
    );
}

#[tokio::test]
async fn lifetimes_apply_to_seeded_tokens_and_expire() {
    let sandbox = Sandbox::builder()
        .access_token_lifetime(Duration::from_secs(5))
        .refresh_token_lifetime(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let http = client();
    let base = sandbox.base_url();
    let mut sets = Vec::new();
    for provider in Provider::ALL {
        let set = sandbox.seed_account(provider, "ttl");
        assert_eq!(set.expires_in, 5, "{provider}");
        assert_eq!(set.refresh_token_expires_in, Some(3600), "{provider}");
        let refreshed = refresh(&http, base, provider, &set.refresh_token).await;
        assert_eq!(
            refreshed.body["expires_in"], 5,
            "{provider}: {}",
            refreshed.body
        );
        sets.push((provider, set));
    }
    // Fresh grants, not refreshed (an AliExpress refresh spent the first ones).
    let fresh: Vec<_> = Provider::ALL
        .into_iter()
        .map(|provider| (provider, sandbox.seed_account(provider, "ttl")))
        .collect();
    sandbox.advance_time(Duration::from_secs(6));
    for (provider, set) in &sets {
        assert!(
            !api_accepts(&http, base, *provider, &set.access_token).await,
            "{provider}"
        );
    }
    sandbox.advance_time(Duration::from_secs(3600));
    for (provider, set) in &fresh {
        refresh(&http, base, *provider, &set.refresh_token)
            .await
            .assert_invalid_grant(*provider);
    }
    // An expired refresh token is a rejection of its account.
    assert_eq!(sandbox.counters().eshopbox.accounts["ttl"].rejected, 1);
}

#[tokio::test]
async fn consent_names_the_account() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = sandbox.credentials().ebay.clone();
    let mut codes = Vec::new();
    for account in [None, Some("shop-7")] {
        let mut params = vec![
            ("client_id", creds.client_id.as_str()),
            ("redirect_uri", creds.ru_name.as_str()),
            ("response_type", "code"),
            ("scope", "https://api.ebay.com/oauth/api_scope"),
            ("state", "s"),
        ];
        if let Some(account) = account {
            params.push(("sandbox_account", account));
        }
        let url = with_query(
            &format!("{}/oauth2/authorize", sandbox.ebay_base_url()),
            &params,
        );
        let response = http.get(url).send().await.unwrap();
        codes.push(query_of(&location(&response))["code"].clone());
    }
    for code in &codes {
        let response = http
            .post(format!(
                "{}/identity/v1/oauth2/token",
                sandbox.ebay_base_url()
            ))
            .header(
                "authorization",
                basic(&creds.client_id, &creds.client_secret),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &creds.ru_name),
            ]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let counts = sandbox.counters().ebay;
    assert_eq!(counts.accounts[DEFAULT_ACCOUNT].authorization_code, 1);
    assert_eq!(counts.accounts["shop-7"].authorization_code, 1);
    assert_eq!(counts.totals.authorization_code, 2);
    // A client credentials grant counts in the totals only.
    ebay_application_token(&http, &sandbox.ebay_base_url()).await;
    let counts = sandbox.counters().ebay;
    assert_eq!(counts.totals.client_credentials, 1);
    assert_eq!(counts.accounts.len(), 2);

    // AliExpress names the account in its token response.
    let set = sandbox.seed_account(Provider::AliExpress, "shop-9");
    let refreshed = refresh(
        &http,
        sandbox.base_url(),
        Provider::AliExpress,
        &set.refresh_token,
    )
    .await;
    assert_eq!(refreshed.body["user_nick"], "shop-9");
    assert_ne!(refreshed.body["seller_id"], "2637908814");
}
