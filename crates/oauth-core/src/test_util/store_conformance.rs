//! The token-store conformance suite: what every [`TokenStore`] must do,
//! checked against a real instance. The Memory, File, PostgreSQL and Redis
//! stores all run it; run it on your own store too:
//!
//! ```
//! use oauth_core::MemoryStore;
//! use oauth_core::test_util::store_conformance::check_store;
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = Arc::new(MemoryStore::new());
//! // Two handles on the same storage (here the same instance; for a
//! // database, two connections or clients).
//! check_store(store.clone(), store).await;
//! # }
//! ```
//!
//! Every check uses a provider name of its own, made unique per run, so a
//! database shared with other runs can be used as it is.

use crate::lifecycle::{AccountKey, SaveOutcome, TokenStore};
use crate::secret::AccessToken;
use crate::token_set::TokenSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A provider name unique to this run and `check`.
fn provider(check: &str) -> String {
    format!("conformance-{check}-{:016x}", fastrand::u64(..))
}

/// A token set whose access token is `access`.
fn tokens(access: &str) -> TokenSet {
    TokenSet::new(
        AccessToken::new(access),
        SystemTime::now() + Duration::from_secs(3600),
    )
}

/// Runs every check against `a` and `b`, two handles on the same storage
/// (the same instance, or two connections to one database).
///
/// # Panics
/// On the first rule the store breaks, with a message that says which.
pub async fn check_store(a: Arc<dyn TokenStore>, b: Arc<dyn TokenStore>) {
    compare_and_swap(&*a, &*b).await;
}

/// Creation, versions, conflicts, seen through both handles.
async fn compare_and_swap(a: &dyn TokenStore, b: &dyn TokenStore) {
    let key = AccountKey::new(provider("cas"), "seller-1");
    assert_eq!(a.load(&key).await.ok(), Some(None), "a new key has no entry");
    assert_eq!(
        a.save(&key, &tokens("access-1"), None).await.ok(),
        Some(SaveOutcome::Saved { version: 1 }),
        "creating an entry gives version 1"
    );
    let seen = b.load(&key).await.ok().flatten();
    assert_eq!(
        seen.as_ref().map(|v| v.version),
        Some(1),
        "the other handle sees the entry"
    );
    match b.save(&key, &tokens("access-x"), None).await {
        Ok(SaveOutcome::Conflict { current: Some(current) }) => {
            assert_eq!(current.version, 1, "a conflict reports the stored version");
        }
        other => panic!("creating an existing entry must conflict, got {other:?}"),
    }
}
