//! Retrying temporary failures with exponential backoff and jitter, within a time budget and, where
//! asked, a number of retries. Permanent failures are returned at once. The one retry helper: the
//! apply engine, the SORUS client (`crate::sorus` re-exports it) and the FK-ORG client use it.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

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
    /// At most this many attempts after the first; `None`: as many as the budget allows.
    pub max_retries: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(120),
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retries: None,
        }
    }
}

impl RetryPolicy {
    /// At most `max_retries` attempts after the first, with no time budget (each attempt has a
    /// timeout of its own).
    pub fn retries(max_retries: u32, first_delay: Duration, max_delay: Duration) -> Self {
        RetryPolicy { budget: Duration::MAX, first_delay, max_delay, max_retries: Some(max_retries) }
    }

    /// The pause after failed attempt `n` (0-based): half of `first_delay * 2^n` (capped) plus up to
    /// the other half at random, so that many writers do not retry in step.
    pub fn delay(&self, n: u32, rng: &mut impl Rng) -> Duration {
        let cap = self.first_delay.saturating_mul(2u32.saturating_pow(n.min(20))).min(self.max_delay);
        let half = cap / 2;
        let jitter_ms = half.as_millis() as u64;
        half + Duration::from_millis(if jitter_ms == 0 { 0 } else { rng.gen_range(0..=jitter_ms) })
    }
}

/// What the helper needs to know of a failure: whether another attempt may succeed.
pub trait Retryable: fmt::Display {
    fn is_temporary(&self) -> bool;
}

impl Retryable for WriteError {
    fn is_temporary(&self) -> bool {
        WriteError::is_temporary(self)
    }
}

/// Calls `attempt(n)` for n = 0, 1, 2, ... until it succeeds, fails permanently, or the budget or
/// the retries are spent (then the last temporary error is returned). `n` lets the caller act
/// differently on a retry, e.g. look a change up by its idempotency key before sending it again.
/// Time is tokio's, so a test on paused time runs the pauses at once and still spends the budget.
pub async fn retry_with_backoff<T, E, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Result<T, E>
where
    E: Retryable,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(uuid::Uuid::new_v4().as_u64_pair().0);
    let mut n = 0u32;
    loop {
        let e = match attempt(n).await {
            Ok(v) => return Ok(v),
            Err(e) if !e.is_temporary() => return Err(e),
            Err(e) => e,
        };
        if policy.max_retries.is_some_and(|max| n >= max) {
            return Err(e);
        }
        let delay = policy.delay(n, &mut rng);
        if started.elapsed().saturating_add(delay) > policy.budget {
            return Err(e);
        }
        tracing::debug!(attempt = n + 1, delay_ms = delay.as_millis() as u64, problem = %e, "Attempt failed; retrying.");
        tokio::time::sleep(delay).await;
        n = n.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(budget: Duration) -> RetryPolicy {
        RetryPolicy {
            budget,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retries: None,
        }
    }

    #[test]
    fn pauses_grow_stay_under_the_cap_and_vary() {
        let p = quick(Duration::from_secs(60));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let d0 = p.delay(0, &mut rng);
        assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&d0), "{d0:?}");
        let d3 = p.delay(3, &mut rng);
        assert!((Duration::from_millis(400)..=Duration::from_millis(800)).contains(&d3), "{d3:?}");
        let late: Vec<Duration> = (0..20).map(|_| p.delay(30, &mut rng)).collect();
        assert!(late.iter().all(|d| *d <= Duration::from_secs(1)));
        assert!(late.windows(2).any(|w| w[0] != w[1]), "jitter varies the pauses");
    }

    #[tokio::test(start_paused = true)]
    async fn temporary_failures_are_retried_and_permanent_ones_are_not() {
        let p = quick(Duration::from_secs(10));
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

    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_returns_the_last_temporary_error() {
        let r: Result<(), _> =
            retry_with_backoff(&quick(Duration::ZERO), |_| async { Err(WriteError::Temporary("down".into())) }).await;
        assert_eq!(r, Err(WriteError::Temporary("down".into())));
    }

    #[tokio::test(start_paused = true)]
    async fn the_pauses_count_against_the_budget() {
        // Pauses of 50-100, 100-200, 200-400, 400-800 ms, then 0.5-1 s: 3 s allow 6 to 9 attempts.
        let started = Instant::now();
        let mut calls = 0;
        let r: Result<(), _> = retry_with_backoff(&quick(Duration::from_secs(3)), |n| {
            calls += 1;
            async move { Err(WriteError::Temporary(format!("down {n}"))) }
        })
        .await;
        assert_eq!(r, Err(WriteError::Temporary(format!("down {}", calls - 1))), "the last error");
        assert!((6..=9).contains(&calls), "{calls} attempts");
        assert!(started.elapsed() <= Duration::from_millis(3_010), "within the budget: {:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_limit_on_retries_gives_up_after_that_many_whatever_the_budget() {
        let p = RetryPolicy::retries(2, Duration::from_millis(100), Duration::from_secs(1));
        let mut calls = 0;
        let r: Result<(), _> = retry_with_backoff(&p, |_| {
            calls += 1;
            async { Err(WriteError::Temporary("down".into())) }
        })
        .await;
        assert_eq!(r, Err(WriteError::Temporary("down".into())));
        assert_eq!(calls, 3, "the first attempt and two retries");
        let none = RetryPolicy::retries(0, Duration::from_millis(100), Duration::from_secs(1));
        let mut calls = 0;
        let _: Result<(), _> = retry_with_backoff(&none, |_| {
            calls += 1;
            async { Err(WriteError::Temporary("down".into())) }
        })
        .await;
        assert_eq!(calls, 1, "max_retries = 0: one attempt");
    }
}
