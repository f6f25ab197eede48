//! The connects in progress: one entry per browser that was sent to a
//! provider's consent page and has not come back yet.

use async_trait::async_trait;
use oauth_core::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

/// How long a connect may take, from the redirect to the consent page to
/// the callback: 10 minutes.
pub const PENDING_LIFETIME: std::time::Duration = std::time::Duration::from_secs(600);

/// A connect in progress, kept server-side between the redirect to the
/// consent page and the callback.
///
/// Its key in a [`PendingStore`] is the random value of the browser's
/// cookie; `state` is the `state` parameter sent to the provider, compared
/// in constant time with the one that comes back. Its `Debug` shows
/// neither.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The provider ([`RefreshGrant::provider`](oauth_core::RefreshGrant::provider)).
    pub provider: String,
    /// The account the tokens are for.
    pub account: String,
    /// The `state` sent with the authorize URL (256 random bits,
    /// base64url).
    pub state: String,
    /// Where to send the operator after the connect (already checked
    /// against the allow-list), if anywhere.
    pub return_to: Option<String>,
    /// When this connect stops being accepted.
    pub expires_at: SystemTime,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("provider", &self.provider)
            .field("account", &self.account)
            .field("state", &"[REDACTED]")
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where the connects in progress are kept. [`MemoryPendingStore`] (the
/// default) serves one process; a service running several instances behind
/// a load balancer plugs in a shared one (e.g. on its Redis or database).
///
/// An implementation must make [`take`](Self::take) atomic: of two
/// concurrent calls with the same id, at most one gets the entry (one use).
/// Expiry is checked by the router, not by the store; a store may drop
/// entries older than [`PENDING_LIFETIME`].
#[async_trait]
pub trait PendingStore: Send + Sync + fmt::Debug {
    /// Keeps `pending` under `id` (a random 256-bit value, base64url).
    ///
    /// # Errors
    /// [`Error::Store`] if it cannot be kept.
    async fn put(&self, id: &str, pending: Pending) -> Result<(), Error>;

    /// Removes and returns the entry under `id`, if any.
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be read.
    async fn take(&self, id: &str) -> Result<Option<Pending>, Error>;
}

/// The in-memory [`PendingStore`]: for one process. Holds at most
/// 10 000 entries; expired ones are dropped when a new one is added.
#[derive(Debug, Default)]
pub struct MemoryPendingStore {
    entries: Mutex<HashMap<String, Pending>>,
}

/// The most connects in progress a [`MemoryPendingStore`] holds.
const MEMORY_CAPACITY: usize = 10_000;

impl MemoryPendingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries it holds (expired ones included until the next
    /// [`put`](PendingStore::put)).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        // Single inserts and removals: a poisoned map is consistent.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl PendingStore for MemoryPendingStore {
    async fn put(&self, id: &str, pending: Pending) -> Result<(), Error> {
        let mut entries = self.lock();
        if entries.len() >= MEMORY_CAPACITY {
            let now = SystemTime::now();
            entries.retain(|_, p| p.expires_at > now);
        }
        if entries.len() >= MEMORY_CAPACITY {
            return Err(Error::Store {
                message: "too many connects in progress".to_owned(),
            });
        }
        entries.insert(id.to_owned(), pending);
        Ok(())
    }

    async fn take(&self, id: &str) -> Result<Option<Pending>, Error> {
        Ok(self.lock().remove(id))
    }
}
