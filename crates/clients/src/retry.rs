//! Retrying temporary write failures with exponential backoff and jitter, within a time budget.
//! Permanent failures are returned at once. The one retry helper: the apply engine and the SORUS
//! client both use it (`crate::sorus` re-exports it).

use std::future::Future;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::port::WriteError;

/// How long to keep trying and how to space the attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// No new attempt starts once this much time has passed since the first one (nor when the
    /// next pause would end after it).
    pub budget: Duration,
    /// The pause before the second attempt; it doubles each time, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(120),
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt `n` (0-based): half of `first_delay * 2^n` (capped) plus up to
    /// the other half at random, so that many writers do not retry in step.
    pub fn delay(&self, n: u32, rng: &mut impl Rng) -> Duration {
        let cap = self.first_delay.saturating_mul(2u32.saturating_pow(n.min(20))).min(self.max_delay);
        let half = cap / 2;
        let jitter_ms = half.as_millis() as u64;
        half + Duration::from_millis(if jitter_ms == 0 { 0 } else { rng.gen_range(0..=jitter_ms) })
    }
}

/// Calls `attempt(n)` for n = 0, 1, 2, ... until it succeeds, fails permanently, or the budget is
/// spent (then the last temporary error is returned). `n` lets the caller act differently on a
/// retry, e.g. look a change up by its idempotency key before sending it again.
pub async fn retry_with_backoff<T, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Result<T, WriteError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, WriteError>>,
{
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(uuid::Uuid::new_v4().as_u64_pair().0);
    let mut n = 0u32;
    loop {
        match attempt(n).await {
            Ok(v) => return Ok(v),
            Err(e @ WriteError::Permanent(_)) => return Err(e),
            Err(e @ WriteError::Temporary(_)) => {
                let delay = policy.delay(n, &mut rng);
                if started.elapsed() + delay > policy.budget {
                    return Err(e);
                }
                tracing::debug!(attempt = n + 1, delay_ms = delay.as_millis() as u64, problem = %e, "Write failed; retrying.");
                tokio::time::sleep(delay).await;
                n = n.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_stay_under_the_cap_and_vary() {
        let p = RetryPolicy {
            budget: Duration::from_secs(60),
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let d0 = p.delay(0, &mut rng);
        assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&d0), "{d0:?}");
        let d3 = p.delay(3, &mut rng);
        assert!((Duration::from_millis(400)..=Duration::from_millis(800)).contains(&d3), "{d3:?}");
        let late: Vec<Duration> = (0..20).map(|_| p.delay(30, &mut rng)).collect();
        assert!(late.iter().all(|d| *d <= Duration::from_secs(1)));
        assert!(late.windows(2).any(|w| w[0] != w[1]), "jitter varies the pauses");
    }

    #[tokio::test]
    async fn temporary_failures_are_retried_and_permanent_ones_are_not() {
        let p = RetryPolicy {
            budget: Duration::from_secs(10),
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        let mut calls = 0;
        let r = retry_with_backoff(&p, |n| {
            calls += 1;
            async move {
                if n < 3 {
                    Err(WriteError::Temporary("busy".into()))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(r, Ok(3));
        assert_eq!(calls, 4);
        let mut calls = 0;
        let r: Result<(), _> = retry_with_backoff(&p, |_| {
            calls += 1;
            async { Err(WriteError::Permanent("no such unit".into())) }
        })
        .await;
        assert_eq!(r, Err(WriteError::Permanent("no such unit".into())));
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_spent_budget_returns_the_last_temporary_error() {
        let p = RetryPolicy {
            budget: Duration::ZERO,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        let r: Result<(), _> = retry_with_backoff(&p, |_| async { Err(WriteError::Temporary("down".into())) }).await;
        assert_eq!(r, Err(WriteError::Temporary("down".into())));
    }
}
