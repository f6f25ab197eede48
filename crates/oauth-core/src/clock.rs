//! An injectable clock, so that expiries are testable without sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
///
/// Token lifetimes from the wire (`expires_in`) are turned into absolute
/// instants with this clock once, when the response arrives.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;

    /// The current time at a resolution of a few milliseconds, as cheaply as
    /// the clock can give it. Used where only coarse comparisons are made
    /// (is a token within a minute of expiry?), on the token manager's hot
    /// path. Defaults to [`now`](Self::now).
    fn now_coarse(&self) -> SystemTime {
        self.now()
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// On Linux, `CLOCK_REALTIME_COARSE` (updated every tick, a few
    /// milliseconds; read through the vDSO without a system call); elsewhere,
    /// or without the `lifecycle` feature (whose token manager is its one
    /// hot-path user), [`SystemTime::now`].
    fn now_coarse(&self) -> SystemTime {
        coarse_now()
    }
}

#[cfg(all(target_os = "linux", feature = "lifecycle"))]
fn coarse_now() -> SystemTime {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    match (u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
        (Ok(secs), Ok(nanos)) if nanos < 1_000_000_000 => UNIX_EPOCH + Duration::new(secs, nanos),
        _ => SystemTime::now(),
    }
}

#[cfg(not(all(target_os = "linux", feature = "lifecycle")))]
fn coarse_now() -> SystemTime {
    SystemTime::now()
}

/// A shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The default clock: [`SystemClock`] behind an `Arc`.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that only moves when told to: for tests and simulations.
///
/// Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(to_unix_millis(start))),
        }
    }

    /// A clock reading the given Unix time in milliseconds.
    pub fn at_unix_millis(millis: u64) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(millis)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, to: SystemTime) {
        self.millis.store(to_unix_millis(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// Milliseconds since the Unix epoch (0 for instants before it, saturating).
pub fn to_unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `time` as an RFC 3339 UTC timestamp with second precision
/// (`2018-02-05T08:46:32Z`; instants before the epoch read as the epoch),
/// for command lines, status pages and JSON.
pub fn to_rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(secs / 86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year,
/// month, day).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The instant `millis` milliseconds after the Unix epoch.
pub fn from_unix_millis(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_of_known_instants() {
        use super::{UNIX_EPOCH, from_unix_millis, to_rfc3339};
        assert_eq!(to_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        for (millis, text) in [
            (1_517_820_392_000, "2018-02-05T08:46:32Z"),
            (951_782_400_000, "2000-02-29T00:00:00Z"),
            (1_700_000_000_000, "2023-11-14T22:13:20Z"),
            (4_102_444_799_000, "2099-12-31T23:59:59Z"),
        ] {
            assert_eq!(to_rfc3339(from_unix_millis(millis)), text);
        }
    }

    use super::*;

    #[test]
    fn the_coarse_system_clock_is_close_to_the_precise_one() {
        let precise = SystemClock.now();
        let coarse = SystemClock.now_coarse();
        let gap = match coarse.duration_since(precise) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        assert!(gap < Duration::from_millis(100), "{gap:?}");
        let manual = ManualClock::at_unix_millis(5);
        assert_eq!(manual.now_coarse(), manual.now());
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at_unix_millis(1_000);
        let other = clock.clone();
        assert_eq!(to_unix_millis(clock.now()), 1_000);
        other.advance(Duration::from_secs(2));
        assert_eq!(to_unix_millis(clock.now()), 3_000);
        clock.set(from_unix_millis(42));
        assert_eq!(to_unix_millis(other.now()), 42);
    }
}
