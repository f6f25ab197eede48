//! What the server's configuration means for the tokens written to it.

use std::fmt;

/// How durable a write acknowledged by the server is, as read from its
/// configuration (`CONFIG GET appendonly`, `CONFIG GET appendfsync`) when
/// the store was built.
///
/// A rotated refresh token may exist nowhere but in the store: losing the
/// last write loses the account (the provider has already invalidated the
/// previous token). Leases and fencing counters are writes too: a lost
/// lease lets a second process take it and spend the same refresh token,
/// and a lost fencing counter hands out a fencing number twice, so that
/// fencing no longer tells the holders apart. A token store therefore
/// wants the append-only file with `appendfsync always`
/// ([`Always`](Self::Always)) and no failover to a replica that may lag
/// (replication is asynchronous: a promoted replica can miss acknowledged
/// writes, whatever the primary's `appendfsync`); `everysec` is a
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
                "Redis token store: appendfsync is everysec, so a crash can lose up to about 1 s of writes: token writes (a rotated refresh token may be the only copy), leases and fencing counters (a refresh token spent twice); set appendfsync always to close the window"
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
/// Only [`NoEviction`](Self::NoEviction) is safe for a token store:
/// - token entries and fencing counters have no expiry, so the `allkeys-*`
///   policies can evict them: an evicted entry is a lost refresh token, an
///   evicted fencing counter hands out a fencing number twice;
/// - lease keys carry an expiry (`PX`), so the `volatile-*` policies can
///   evict a **live** lease: another process then takes the lease while the
///   holder is still waiting for the provider, and spends the same refresh
///   token. Fencing only refuses the late holder's *save*; it cannot undo
///   the second spend at the provider, which may have revoked the token
///   (the seller must then authorize again).
///
/// Lease exclusion and fencing also need the server to lose no
/// acknowledged write: see [`Durability`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Eviction {
    /// `noeviction`: writes fail (`OOM`) when memory is full; nothing is
    /// evicted. The only safe policy.
    NoEviction,
    /// A `volatile-*` policy: keys with an expiry can be evicted, and the
    /// store's leases have one, so a live lease can vanish and the same
    /// refresh token be spent twice. Unsafe for a token store.
    VolatileOnly,
    /// An `allkeys-*` policy: token entries, fencing counters and leases
    /// can be evicted. Unsafe for a token store.
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

    /// Whether the policy never evicts the store's keys
    /// ([`NoEviction`](Self::NoEviction) only).
    pub fn is_safe(self) -> bool {
        self == Self::NoEviction
    }

    /// The warning to log for this finding (none for
    /// [`NoEviction`](Self::NoEviction)).
    fn warning(self) -> Option<&'static str> {
        match self {
            Self::NoEviction => None,
            Self::VolatileOnly => Some(
                "Redis token store: maxmemory-policy is volatile-*, so Redis may evict live refresh leases (they carry an expiry) under memory pressure: another process then takes the lease and spends the same refresh token while the holder is still refreshing (fencing only refuses the late save); use maxmemory-policy noeviction",
            ),
            Self::AnyKey => Some(
                "Redis token store: maxmemory-policy is allkeys-*, so Redis may evict token entries (lost refresh tokens), fencing counters (a fencing number handed out twice) and live leases (a refresh token spent twice) under memory pressure; use maxmemory-policy noeviction",
            ),
            Self::Unknown => Some(
                "Redis token store: maxmemory-policy cannot be checked (CONFIG GET is not available, as on managed services); make sure it is noeviction, since any other policy can evict refresh leases, fencing counters or token entries",
            ),
        }
    }

    /// Logs a warning unless [`NoEviction`](Self::NoEviction).
    pub(crate) fn log(self) {
        if let Some(warning) = self.warning() {
            tracing::warn!("{warning}");
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
        use Eviction::*;
        let cases = [
            (Some("noeviction"), NoEviction),
            (Some(" NoEviction "), NoEviction),
            (Some("volatile-lru"), VolatileOnly),
            (Some("volatile-lfu"), VolatileOnly),
            (Some("volatile-random"), VolatileOnly),
            (Some("volatile-ttl"), VolatileOnly),
            (Some("allkeys-lru"), AnyKey),
            (Some("allkeys-lfu"), AnyKey),
            (Some("allkeys-random"), AnyKey),
            (Some("other"), Unknown),
            (Some(""), Unknown),
            (None, Unknown),
        ];
        for (policy, expected) in cases {
            let finding = Eviction::from_config(policy);
            assert_eq!(finding, expected, "{policy:?}");
            // Only noeviction is safe and goes without a warning.
            assert_eq!(finding.is_safe(), expected == NoEviction, "{policy:?}");
            assert_eq!(
                finding.warning().is_none(),
                expected == NoEviction,
                "{policy:?}"
            );
        }
    }

    #[test]
    fn eviction_warnings_name_the_risk_and_recommend_noeviction_only() {
        let volatile = Eviction::VolatileOnly.warning().unwrap();
        assert!(volatile.contains("lease"), "{volatile}");
        assert!(
            volatile.contains("spends the same refresh token"),
            "{volatile}"
        );
        let allkeys = Eviction::AnyKey.warning().unwrap();
        assert!(allkeys.contains("fencing"), "{allkeys}");
        for finding in [Eviction::VolatileOnly, Eviction::AnyKey, Eviction::Unknown] {
            let warning = finding.warning().unwrap();
            assert!(warning.contains("noeviction"), "{warning}");
            // No other policy is ever recommended.
            assert!(!warning.contains("(or a volatile"), "{warning}");
            assert!(!warning.contains("use a volatile"), "{warning}");
        }
    }
}
