//! A bounded retry policy with exponential backoff and full jitter.

use std::time::Duration;

/// How often and how long to retry a token request.
///
/// Only what is safe is retried (see [`TokenRequest::retry_safe`](crate::TokenRequest::retry_safe)):
/// a connection failure (nothing was sent) always; a timeout, 5xx or 429
/// only for grants that do not rotate a refresh token. 4xx answers are never
/// retried. A `Retry-After` longer than `max_delay` is not waited for: the
/// error is returned with it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (1 disables retries).
    pub max_attempts: u32,
    /// The delay before the first retry (before jitter).
    pub base_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, 200 ms base, 2 s cap.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1-based): a random duration
    /// between half and all of `min(max_delay, base_delay * 2^(retry-1))`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        let cap = exp.min(self.max_delay);
        jitter(cap)
    }
}

/// A random duration in `[d/2, d]` ("equal jitter").
pub fn jitter(d: Duration) -> Duration {
    let half = d / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(fastrand::u64(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let second = policy.backoff(2);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
            let tenth = policy.backoff(10);
            assert!(tenth >= Duration::from_millis(150) && tenth <= Duration::from_millis(300));
            assert!(policy.backoff(u32::MAX) <= Duration::from_millis(300));
        }
    }
}
