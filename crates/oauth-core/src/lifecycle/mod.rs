//! The token lifecycle: [`TokenManager`] for one account, [`TokenPool`] for
//! many, and the [`TokenStore`]s that persist their tokens.

#[cfg(feature = "encryption")]
mod encrypted_store;
mod events;
mod file_store;
mod handle;
pub mod lease;
mod manager;
mod memory_store;
mod pool;
pub(crate) mod store;

#[cfg(feature = "encryption")]
#[cfg_attr(docsrs, doc(cfg(feature = "encryption")))]
pub use encrypted_store::{
    EncryptedStore, EnvKeys, KEY_LEN, KeyFiles, KeyId, KeyProvider, Keyring, MAX_KEY_ID_LEN,
    RekeyFailure, RekeyOutcome, RekeyReport, StoreKey, StoredForm,
};
pub use events::{TokenEvent, TokenEventKind};
pub use file_store::FileStore;
pub use handle::TokenHandle;
pub use lease::{
    DEFAULT_LEASE_DURATION, DEFAULT_LEASE_MARGIN, Lease, LeaseOutcome, LeaseOwner,
    MAX_LEASE_DURATION, MIN_LEASE_MARGIN,
};
pub use manager::{
    DEFAULT_REFRESH_BACKOFF, ROTATION_RACE_GRACE, TokenManager, TokenManagerBuilder,
};
pub use memory_store::MemoryStore;
pub use pool::{BackgroundRefresh, TokenPool, TokenPoolBuilder};
pub use store::{AccountKey, SaveOutcome, TokenStore, Versioned, list_all_accounts};
