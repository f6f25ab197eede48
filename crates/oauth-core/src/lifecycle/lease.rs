//! Refresh leases: one refresh per account across processes and machines.
//!
//! Before spending a refresh token, a [`TokenManager`](super::TokenManager)
//! whose store supports leases takes the account's **refresh lease**
//! ([`TokenStore::acquire_lease`](super::TokenStore::acquire_lease)): an
//! owner, an expiry, and a **fencing number** that grows with every grant of
//! the lease (Kleppmann, "How to do distributed locking"). Other managers, in
//! this process or any other sharing the store, do not refresh while the
//! lease is held: they wait (bounded) for the holder's new set, or for the
//! lease to expire, and read the store again. The holder saves the new set
//! with [`save_fenced`](super::TokenStore::save_fenced), which the store
//! accepts only if the entry is still at the expected version **and** no
//! newer lease was granted since: a holder that stalled past its lease and
//! was overtaken cannot overwrite the newer holder's work blindly.
//!
//! The store contract, which the conformance suite
//! (`oauth_core::test_util::store_conformance`, feature `test-util`) checks:
//! - a lease is granted when the account has no lease, or its lease has
//!   expired (by the store's clock), or it was released; then the fencing
//!   number is one more than the highest ever granted for that account
//!   (it never goes down, not even across [`delete`](super::TokenStore::delete));
//! - while another owner holds an unexpired lease, acquiring answers
//!   [`LeaseOutcome::Held`] with its expiry; an owner that already holds
//!   the lease is granted a new one (with a new fencing number), as anyone
//!   else would be after a release;
//! - releasing is checked: only the lease with that owner **and** fencing
//!   number is released, anything else is a no-op;
//! - a fenced save succeeds when the version matches and `fence` is the
//!   highest number granted for the account, whether or not the lease has
//!   expired meanwhile (time alone never refuses a write; a newer grant
//!   does); a version mismatch is [`SaveOutcome::Conflict`](super::SaveOutcome::Conflict),
//!   a newer grant [`SaveOutcome::Fenced`](super::SaveOutcome::Fenced);
//!   when both apply, the answer is `Fenced`. A fence higher than any
//!   granted is `Fenced` too; fence 0 on an account never leased is a plain
//!   save;
//! - a lease is held while its expiry is strictly later than the store's
//!   now; [`delete`](super::TokenStore::delete) need not release it, but
//!   the fencing numbers go on rising after it.
//!
//! (Versions are not fences: an entry deleted and created again starts at
//! version 1, so a writer that still expects the old version 1 can overwrite
//! it. The managers re-read before writing; the fence protects the refresh.)
//!
//! Stores that cannot lease answer [`LeaseOutcome::NotSupported`] (the
//! trait's default): managers then refresh as before, coordinated within
//! one process only.

use crate::error::Error;
use crate::grant::RefreshGrant;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The longest [`LeaseOwner`] text, in bytes.
pub const MAX_LEASE_OWNER_LEN: usize = 128;

/// Who holds a lease: an identity unique to one manager group (a pool, or
/// the managers built by one builder), e.g. `host:pid:random`.
///
/// It is stored next to the lease and shown in logs, so it must not contain
/// anything secret; [`generate`](Self::generate) makes a fresh one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LeaseOwner(Arc<str>);

impl LeaseOwner {
    /// `owner`, checked: 1 to [`MAX_LEASE_OWNER_LEN`] bytes of visible
    /// ASCII (0x21–0x7E).
    ///
    /// # Errors
    /// [`Error::Configuration`] otherwise.
    pub fn new(owner: impl AsRef<str>) -> Result<Self, Error> {
        let owner = owner.as_ref();
        let valid = !owner.is_empty()
            && owner.len() <= MAX_LEASE_OWNER_LEN
            && owner.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if !valid {
            return Err(Error::Configuration {
                message: format!(
                    "a lease owner must be 1 to {MAX_LEASE_OWNER_LEN} visible ASCII characters"
                ),
            });
        }
        Ok(Self(Arc::from(owner)))
    }

    /// A fresh owner identity: the host name (when known), the process id
    /// and 64 random bits, e.g. `worker-3:4121:9f86d081884c7d65`.
    pub fn generate() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| {
                h.trim()
                    .chars()
                    .filter(|c| c.is_ascii_graphic() && *c != ':')
                    .take(64)
                    .collect::<String>()
            })
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        let owner = format!("{host}:{}:{:016x}", std::process::id(), fastrand::u64(..));
        Self(Arc::from(owner))
    }

    /// The owner's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owner of one member of this group: `<group>/<id>` (16 hex
    /// digits). Every manager takes leases under an owner of its own, so
    /// that two managers of one account in one group (a pool's account
    /// removed and added again while a refresh is in flight) exclude each
    /// other like any two processes.
    pub(crate) fn member(&self, id: u64) -> LeaseOwner {
        // Within MAX_LEASE_OWNER_LEN: the group's text (ASCII) shortened.
        let group = self.0.get(..MAX_LEASE_OWNER_LEN - 17).unwrap_or(&self.0);
        // Written on the stack and copied once into the shared text (a
        // manager makes one for every refresh): no formatting machinery.
        let len = group.len() + 17;
        let mut text = [0u8; MAX_LEASE_OWNER_LEN];
        if let Some((head, tail)) = text.get_mut(..len).map(|t| t.split_at_mut(group.len()))
            && let Some((slash, digits)) = tail.split_first_mut()
        {
            head.copy_from_slice(group.as_bytes());
            *slash = b'/';
            for (k, digit) in digits.iter_mut().enumerate() {
                let nibble = u8::try_from((id >> (60 - 4 * k)) & 0xf).unwrap_or(0);
                *digit = if nibble < 10 {
                    b'0' + nibble
                } else {
                    b'a' + nibble - 10
                };
            }
        }
        match text.get(..len).map(std::str::from_utf8) {
            Some(Ok(text)) => Self(Arc::from(text)),
            _ => Self(Arc::from(format!("{group}/{id:016x}"))),
        }
    }
}

impl fmt::Debug for LeaseOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LeaseOwner({})", self.0)
    }
}

impl fmt::Display for LeaseOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A granted refresh lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it.
    pub owner: LeaseOwner,
    /// Its fencing number: greater than that of every earlier grant for the
    /// same account.
    pub fence: u64,
    /// When it lapses (by the store's clock, as far as the store knows it).
    pub expires_at: SystemTime,
}

/// The answer to [`TokenStore::acquire_lease`](super::TokenStore::acquire_lease).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseOutcome {
    /// The lease is ours.
    Acquired(Lease),
    /// Another owner holds an unexpired lease.
    Held {
        /// When that lease lapses unless released earlier.
        expires_at: SystemTime,
    },
    /// The store has no leases: no cross-process coordination.
    NotSupported,
}

/// The expiry of a lease of `ttl` granted at `now`, saturating far in the
/// future.
pub(crate) fn lease_expiry(now: SystemTime, ttl: Duration) -> SystemTime {
    crate::token_set::expiry_after(now, ttl)
}

/// How much longer than the grant's longest refresh
/// ([`RefreshGrant::max_refresh_duration`]) a refresh lease lasts by
/// default: time to save the new set (and to take the lease) with room to
/// spare.
pub const DEFAULT_LEASE_MARGIN: Duration = Duration::from_secs(10);

/// The least margin a lease set explicitly must leave after the grant's
/// longest refresh, for the save.
pub const MIN_LEASE_MARGIN: Duration = Duration::from_secs(2);

/// The refresh lease's duration when the grant does not say how long a
/// refresh can take.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(120);

/// What the managers sharing settings use to take leases.
#[derive(Debug, Clone)]
pub(crate) struct LeaseSettings {
    /// The group's owner; each manager takes leases as a member of it.
    pub(crate) owner: LeaseOwner,
    pub(crate) ttl: Duration,
    /// Mixed into the member ids, which come from the managers' addresses
    /// (not shown as they are).
    pub(crate) salt: u64,
}

impl LeaseSettings {
    /// The owner under which the manager at `address` takes leases.
    pub(crate) fn owner_of(&self, address: usize) -> LeaseOwner {
        let id = (address as u64 ^ self.salt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.owner.member(id.rotate_left(29) ^ self.salt)
    }
}

impl LeaseSettings {
    /// The settings for `grant`: `ttl` (checked when it was set) or the
    /// default, `owner` or a fresh one.
    pub(crate) fn new(
        grant: &dyn RefreshGrant,
        ttl: Option<Duration>,
        owner: Option<LeaseOwner>,
    ) -> Self {
        let ttl = ttl.unwrap_or_else(|| {
            grant
                .max_refresh_duration()
                .map_or(DEFAULT_LEASE_DURATION, |d| {
                    d.saturating_add(DEFAULT_LEASE_MARGIN)
                })
                .min(MAX_LEASE_DURATION)
        });
        Self {
            owner: owner.unwrap_or_else(LeaseOwner::generate),
            ttl,
            salt: fastrand::u64(..),
        }
    }
}

/// The longest lease a manager takes (the PostgreSQL store caps leases at
/// one day too).
pub const MAX_LEASE_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Checks a lease duration chosen for `grant`: it must outlast the grant's
/// longest refresh by [`MIN_LEASE_MARGIN`], and last at most
/// [`MAX_LEASE_DURATION`].
pub(crate) fn check_lease_duration(grant: &dyn RefreshGrant, ttl: Duration) -> Result<(), Error> {
    if ttl > MAX_LEASE_DURATION {
        return Err(Error::Configuration {
            message: "a refresh lease must last at most a day".to_owned(),
        });
    }
    if ttl < MIN_LEASE_MARGIN {
        return Err(Error::Configuration {
            message: format!(
                "a refresh lease must last at least {} s",
                MIN_LEASE_MARGIN.as_secs()
            ),
        });
    }
    if let Some(longest) = grant.max_refresh_duration()
        && ttl < longest.saturating_add(MIN_LEASE_MARGIN)
    {
        return Err(Error::Configuration {
            message: format!(
                "the refresh lease ({} ms) must outlast the {} client's longest refresh, all retries included ({} ms), by at least {} s: shorten the HTTP client's timeout or retries, or lengthen the lease",
                ttl.as_millis(),
                grant.provider(),
                longest.as_millis(),
                MIN_LEASE_MARGIN.as_secs()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_checked() {
        assert!(LeaseOwner::new("a").is_ok());
        assert!(LeaseOwner::new("").is_err());
        assert!(LeaseOwner::new("has space").is_err());
        assert!(LeaseOwner::new("tab\t").is_err());
        assert!(LeaseOwner::new("x".repeat(MAX_LEASE_OWNER_LEN)).is_ok());
        assert!(LeaseOwner::new("x".repeat(MAX_LEASE_OWNER_LEN + 1)).is_err());
    }

    #[test]
    fn members_are_valid_owners_of_their_own() {
        let group = LeaseOwner::new("x".repeat(MAX_LEASE_OWNER_LEN)).unwrap();
        let a = group.member(1);
        let b = group.member(2);
        assert_ne!(a, b);
        assert!(LeaseOwner::new(a.as_str()).is_ok(), "{a}");
        assert_eq!(a.as_str().len(), MAX_LEASE_OWNER_LEN);
        let short = LeaseOwner::new("replica-1").unwrap().member(0xab);
        assert_eq!(short.as_str(), "replica-1/00000000000000ab");
        for id in [0, 9, 10, 0x0123_4567_89ab_cdef, u64::MAX] {
            assert_eq!(
                group.member(id).as_str(),
                format!("{}/{id:016x}", &group.as_str()[..111])
            );
        }
    }

    #[test]
    fn generated_owners_are_valid_and_distinct() {
        let a = LeaseOwner::generate();
        let b = LeaseOwner::generate();
        assert_ne!(a, b);
        assert!(LeaseOwner::new(a.as_str()).is_ok(), "{a}");
        assert!(a.as_str().contains(&format!(":{}:", std::process::id())));
    }
}
