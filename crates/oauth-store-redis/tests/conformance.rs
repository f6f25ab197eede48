//! oauth-core's store conformance suite, on two clients of one server.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use oauth_core::test_util::store_conformance::check_store_with_leases;
use oauth_store_redis::RedisStore;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_two_clients_one_server() {
    let prefix = common::unique_prefix("conformance");
    // Two stores, two connections: what two service instances would have.
    let a = RedisStore::builder(common::redis_url())
        .prefix(prefix.clone())
        .build()
        .await
        .unwrap();
    let b = RedisStore::builder(common::redis_url())
        .prefix(prefix)
        .build()
        .await
        .unwrap();
    check_store_with_leases(Arc::new(a), Arc::new(b)).await;
}
