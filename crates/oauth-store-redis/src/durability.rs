//! What the server's configuration means for the tokens written to it.

use std::fmt;

/// How durable a write acknowledged by the server is, as read from its
/// configuration (`CONFIG GET appendonly`, `CONFIG GET appendfsync`) when
/// the store was built.
///
/// A rotated refresh token may exist nowhere but in the store: losing the
/// last write loses the account (the provider has already invalidated the
/// previous token). A token store therefore wants the append-only file with
/// `appendfsync always` ([`Always`](Self::Always)); `everysec` is a
/// deliberate trade of up to about one second of writes for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Durability {
    /// AOF on, `appendfsync always`: a write is on disk before the server
    /// acknowledges it.
    Always,
    /// AOF on, `appendfsync everysec`: a crash of the server or its machine
    /// can lose up to about one second of acknowledged writes.
    EverySecond,
    /// AOF on, `appendfsync no`: the operating system decides when the
    /// file reaches the disk (typically within 30 s); a crash of the machine
    /// can lose that much.
    OsFlush,
    /// AOF off: at best periodic RDB snapshots, so a restart can lose every
    /// write since the last snapshot (minutes), or everything.
    NotPersisted,
    /// The configuration could not be read (`CONFIG` disabled or not
    /// permitted, as on most managed services): check the service's
    /// persistence settings yourself.
    Unknown,
}

impl Durability {
    /// The finding for the answers to `CONFIG GET appendonly` and
    /// `CONFIG GET appendfsync` (`None`: no answer).
    pub(crate) fn from_config(appendonly: Option<&str>, appendfsync: Option<&str>) -> Self {
        let appendonly = appendonly.map(|s| s.trim().to_ascii_lowercase());
        let appendfsync = appendfsync.map(|s| s.trim().to_ascii_lowercase());
        match appendonly.as_deref() {
            Some("no") => Self::NotPersisted,
            Some("yes") => match appendfsync.as_deref() {
                Some("always") => Self::Always,
                Some("everysec") => Self::EverySecond,
                Some("no") => Self::OsFlush,
                _ => Self::Unknown,
            },
            _ => Self::Unknown,
        }
    }

    /// Whether an acknowledged write survives a crash of the server and
    /// its machine ([`Always`](Self::Always) only).
    pub fn is_crash_safe(self) -> bool {
        self == Self::Always
    }

    /// Logs the finding: a warning unless [`Always`](Self::Always) or
    /// [`EverySecond`](Self::EverySecond) (an info for the latter).
    pub(crate) fn log(self) {
        match self {
            Self::Always => {}
            Self::EverySecond => tracing::info!(
                "Redis token store: appendfsync is everysec, so a crash can lose up to about 1 s of token writes (a rotated refresh token may be the only copy); set appendfsync always to close the window"
            ),
            Self::OsFlush => tracing::warn!(
                "Redis token store: appendfsync is no, so a crash of the machine can lose the token writes of the last ~30 s (a rotated refresh token may be the only copy); set appendfsync always"
            ),
            Self::NotPersisted => tracing::warn!(
                "Redis token store: the append-only file is off (appendonly no), so a restart can lose token writes (a rotated refresh token may be the only copy); set appendonly yes and appendfsync always"
            ),
            Self::Unknown => tracing::warn!(
                "Redis token store: durability cannot be checked (CONFIG GET is not available, as on managed services); make sure the server persists every write (AOF with appendfsync always), since a rotated refresh token may be the only copy"
            ),
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Always => "AOF, fsync on every write",
            Self::EverySecond => "AOF, fsync every second (up to ~1 s of writes can be lost)",
            Self::OsFlush => "AOF, fsync left to the OS (up to ~30 s of writes can be lost)",
            Self::NotPersisted => "no AOF (writes since the last snapshot can be lost)",
            Self::Unknown => "unknown (CONFIG GET not available)",
        })
    }
}

/// Whether the server may evict the store's keys under memory pressure, as
/// read from `CONFIG GET maxmemory-policy` when the store was built.
///
/// Token entries and fencing counters have no expiry, so only the
/// `allkeys-*` policies can evict them: an evicted entry is a lost refresh
/// token, an evicted fencing counter could grant a fencing number twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Eviction {
    /// `noeviction`: writes fail (`OOM`) when memory is full; nothing is
    /// evicted. Recommended.
    NoEviction,
    /// A `volatile-*` policy: only keys with an expiry are evicted (here
    /// only leases, which at worst end early; the holder's save is then
    /// fenced if someone else took the lease).
    VolatileOnly,
    /// An `allkeys-*` policy: token entries and fencing counters can be
    /// evicted. Unsafe for a token store.
    AnyKey,
    /// The configuration could not be read.
    Unknown,
}

impl Eviction {
    /// The finding for the answer to `CONFIG GET maxmemory-policy`.
    pub(crate) fn from_config(policy: Option<&str>) -> Self {
        match policy.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("noeviction") => Self::NoEviction,
            Some(p) if p.starts_with("volatile-") => Self::VolatileOnly,
            Some(p) if p.starts_with("allkeys-") => Self::AnyKey,
            _ => Self::Unknown,
        }
    }

    /// Logs a warning for [`AnyKey`](Self::AnyKey) (the other findings are
    /// covered by the durability message or harmless).
    pub(crate) fn log(self) {
        if self == Self::AnyKey {
            tracing::warn!(
                "Redis token store: maxmemory-policy is allkeys-*, so Redis may evict token entries (lost refresh tokens) and fencing counters under memory pressure; use noeviction (or a volatile-* policy)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_answers_map_to_findings() {
        use Durability::*;
        let cases = [
            (Some("yes"), Some("always"), Always),
            (Some("yes"), Some("everysec"), EverySecond),
            (Some("yes"), Some("no"), OsFlush),
            (Some("no"), Some("always"), NotPersisted),
            (Some("no"), None, NotPersisted),
            (Some("YES"), Some("Always"), Always),
            (None, None, Unknown),
            (Some("yes"), None, Unknown),
            (Some("yes"), Some("sometimes"), Unknown),
            (Some("maybe"), Some("always"), Unknown),
        ];
        for (appendonly, appendfsync, expected) in cases {
            assert_eq!(
                Durability::from_config(appendonly, appendfsync),
                expected,
                "{appendonly:?} {appendfsync:?}"
            );
        }
        assert!(Always.is_crash_safe());
        assert!(!EverySecond.is_crash_safe());
        assert!(!Unknown.is_crash_safe());
    }

    #[test]
    fn eviction_policies_map_to_findings() {
        assert_eq!(
            Eviction::from_config(Some("noeviction")),
            Eviction::NoEviction
        );
        assert_eq!(
            Eviction::from_config(Some("volatile-lru")),
            Eviction::VolatileOnly
        );
        assert_eq!(
            Eviction::from_config(Some("volatile-ttl")),
            Eviction::VolatileOnly
        );
        assert_eq!(Eviction::from_config(Some("allkeys-lru")), Eviction::AnyKey);
        assert_eq!(
            Eviction::from_config(Some("allkeys-random")),
            Eviction::AnyKey
        );
        assert_eq!(Eviction::from_config(None), Eviction::Unknown);
        assert_eq!(Eviction::from_config(Some("other")), Eviction::Unknown);
    }
}
