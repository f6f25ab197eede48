//! Concurrency under rotation: one `TokenManager` (over a `FileStore`) shared by 1000
//! tokio tasks on a 2-worker runtime, against the sandbox's AliExpress, whose refresh
//! tokens are single-use (each refresh returns a new one and kills the old one at once).
//!
//! 50 times, the `ManualClock` (and the sandbox's clock) jumps past the access token's
//! expiry and all 1000 tasks ask for a token at once; one task in ten first reports the
//! old token as rejected (`invalidate`), as a caller would after `IllegalAccessToken`.
//! The refresh request is slowed down (sandbox latency) so that the callers pile up on it.
//!
//! What it proves:
//! - **single flight**: exactly one refresh request reaches the token endpoint per
//!   expiry (`Sandbox::token_requests`), whatever the number of concurrent callers;
//! - **no race on the single-use refresh token**: zero `IllegalRefreshToken` /
//!   re-authorization / other errors, every caller of a round gets the same new token,
//!   and the sandbox accepts it on the protected API;
//! - **no lost refresh token**: after every round the file holds the refresh token the
//!   manager uses; at the end, one more refresh with the file's refresh token succeeds
//!   (it is the one the sandbox considers live) while the first one is refused.
//!
//! The timestamp tolerance of the sandbox is off: the clients sign with the test clock,
//! which runs 50 hours ahead of real time by the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_all::core::TokenStore;
use oauth_sandbox::{Fault, Provider};
use support::{Api, Harness, Sweep};

const TASKS: usize = 1000;
const EXPIRIES: usize = 50;
const LIFETIME: Duration = Duration::from_secs(3600);

/// The outcome of one caller.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    ok: usize,
    illegal_refresh_token: usize,
    reauthorization: usize,
    other_errors: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_tasks_over_fifty_expiries_with_single_use_refresh_tokens() {
    let started = Instant::now();
    let h = Harness::start_with(|builder| {
        builder
            .timestamp_tolerance(None)
            .access_token_lifetime(LIFETIME)
    })
    .await;
    let p = Provider::AliExpress;
    let mut sweep = Sweep::new();
    let client = support::aliexpress_client(&h, &mut sweep);
    let tokens = support::aliexpress_consent(&h, &mut sweep, &client, LIFETIME).await;
    let first_refresh = tokens.refresh_token.clone().expect("a refresh token");
    let manager = h.manager(Arc::new(client.clone()), "ae-seller");
    let key = manager.account().clone();
    let mut current = manager.install(tokens).await.unwrap();

    let mut totals = Counts::default();
    let mut refresh_requests = 0;
    let mut seen_refresh_tokens = vec![first_refresh.clone()];
    for round in 0..EXPIRIES {
        h.advance(LIFETIME + Duration::from_secs(1));
        h.sandbox
            .inject(p, Fault::Latency(Duration::from_millis(20)), 1);
        let before = h.requests(p);
        let old = current.clone();

        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..TASKS {
            let manager = manager.clone();
            let old = old.clone();
            tasks.spawn(async move {
                if task % 10 == 0 {
                    manager.invalidate(&old);
                }
                manager.access_token().await
            });
        }
        let mut round_counts = Counts::default();
        let mut handles = Vec::with_capacity(TASKS);
        while let Some(joined) = tasks.join_next().await {
            match joined.unwrap() {
                Ok(handle) => {
                    round_counts.ok += 1;
                    handles.push(handle);
                }
                Err(error) if error.provider_code() == Some("IllegalRefreshToken") => {
                    round_counts.illegal_refresh_token += 1;
                }
                Err(error) if error.requires_reauthorization() => {
                    round_counts.reauthorization += 1;
                }
                Err(_) => round_counts.other_errors += 1,
            }
        }
        totals.ok += round_counts.ok;
        totals.illegal_refresh_token += round_counts.illegal_refresh_token;
        totals.reauthorization += round_counts.reauthorization;
        totals.other_errors += round_counts.other_errors;
        assert_eq!(round_counts.ok, TASKS, "round {round}: {round_counts:?}");

        let round_requests = h.requests(p) - before;
        refresh_requests += round_requests;
        assert_eq!(round_requests, 1, "round {round}: one refresh request");

        // Every caller got the same new token.
        let new = handles[0].clone();
        assert!(
            handles.iter().all(|handle| handle.same_as(&new)),
            "round {round}: one token set for all callers"
        );
        assert_ne!(new.expose_secret(), old.expose_secret());
        let refresh = new.token_set().refresh_token.clone().expect("rotated");
        assert!(
            !seen_refresh_tokens.contains(&refresh),
            "round {round}: a new refresh token"
        );
        seen_refresh_tokens.push(refresh.clone());

        // Saved before anyone got it: the file holds this very refresh token.
        let stored = h.store().load(&key).await.unwrap().expect("saved");
        assert!(
            stored.tokens.refresh_token.as_ref() == Some(&refresh),
            "round {round}: the file holds the live refresh token"
        );
        assert_eq!(h.requests(p) - before, 1, "round {round}: no request after");
        current = new;
    }
    assert!(
        h.use_token(&Api::of_client(&client), current.access_token(), &mut sweep)
            .await
    );

    // Nothing lost: the file's refresh token is the live one; the first one is dead.
    let stored = h.store().load(&key).await.unwrap().expect("saved");
    let live = stored
        .tokens
        .refresh_token
        .clone()
        .expect("a refresh token");
    assert!(live == *seen_refresh_tokens.last().unwrap());
    let before = h.requests(p);
    let again = client.refresh(&stored.tokens).await.unwrap();
    assert!(again.refresh_token.is_some() && again.refresh_token != Some(live.clone()));
    let mut stale = stored.tokens.clone();
    stale.refresh_token = Some(first_refresh);
    let error = client.refresh(&stale).await.unwrap_err();
    assert_eq!(error.provider_code(), Some("IllegalRefreshToken"));
    assert!(error.requires_reauthorization());
    assert_eq!(h.requests(p) - before, 2);

    assert_eq!(totals.ok, TASKS * EXPIRIES);
    assert_eq!(totals.illegal_refresh_token, 0);
    assert_eq!(totals.reauthorization, 0);
    assert_eq!(totals.other_errors, 0);
    assert_eq!(refresh_requests, EXPIRIES);
    println!(
        "rotation under concurrency: {TASKS} tasks x {EXPIRIES} expiries = {} calls: {} ok, \
         {} IllegalRefreshToken, {} re-authorization, {} other errors; {refresh_requests} \
         refresh requests ({} per expiry); {} distinct refresh tokens, none lost; {:.2} s",
        TASKS * EXPIRIES,
        totals.ok,
        totals.illegal_refresh_token,
        totals.reauthorization,
        totals.other_errors,
        refresh_requests as f64 / EXPIRIES as f64,
        seen_refresh_tokens.len(),
        started.elapsed().as_secs_f64()
    );
    sweep.assert_clean(&[]);
}

/// Two managers of the same account sharing the token file, as two instances of a
/// service would: when both see the expiry at once, both may refresh; the loser's
/// single-use refresh token is already dead. It should adopt the winner's set from the
/// store instead of reporting re-authorization (it watches the store for the winner's
/// save for `ROTATION_RACE_GRACE` before believing the provider).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_sharing_the_file_lose_no_refresh_token() {
    let h = Harness::start_with(|builder| {
        builder
            .timestamp_tolerance(None)
            .access_token_lifetime(LIFETIME)
    })
    .await;
    let p = Provider::AliExpress;
    let mut sweep = Sweep::new();
    let client = support::aliexpress_client(&h, &mut sweep);
    let tokens = support::aliexpress_consent(&h, &mut sweep, &client, LIFETIME).await;
    let managers = [
        h.manager(Arc::new(client.clone()), "ae-seller"),
        h.manager(Arc::new(client.clone()), "ae-seller"),
    ];
    managers[0].install(tokens).await.unwrap();
    for round in 0..10 {
        h.advance(LIFETIME + Duration::from_secs(1));
        h.sandbox
            .inject(p, Fault::Latency(Duration::from_millis(20)), 2);
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..100 {
            let manager = managers[task % 2].clone();
            tasks.spawn(async move { manager.access_token().await });
        }
        while let Some(joined) = tasks.join_next().await {
            let result = joined.unwrap();
            assert!(result.is_ok(), "round {round}: {:?}", result.err());
        }
        h.sandbox.clear_faults(p);
    }
    let stored = h
        .store()
        .load(managers[0].account())
        .await
        .unwrap()
        .expect("saved");
    client.refresh(&stored.tokens).await.unwrap();
}
