//! The closure limit: how many closures a plan may still make today without naming them. Pure
//! arithmetic over what the store recorded; the engine reads the store and passes the time in.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::domain::SorId;

/// The default limit on closures per plan: at most `max_closures` or `max_share` of the
/// municipality's SOR units (rounded down), whichever is SMALLER. The smaller of the two because
/// a closure is the one change that takes a unit out of use for everyone who refers to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosureLimit {
    pub max_closures: usize,
    pub max_share: f64,
}

impl Default for ClosureLimit {
    fn default() -> Self {
        ClosureLimit { max_closures: 10, max_share: 0.05 }
    }
}

/// Shares are counted in millionths, so that a share written with a few decimals gives its exact
/// count: `0.29 * 100` is 28.999... in floating point, but 29 units here.
const SHARE_SCALE: u128 = 1_000_000;

impl ClosureLimit {
    /// How many closures a plan may make without naming them, for a municipality with `sor_units`.
    pub fn limit(&self, sor_units: usize) -> usize {
        // A negative or not-a-number share allows none; a share over 1 allows every unit.
        let share = (self.max_share * SHARE_SCALE as f64).round() as u128;
        let by_share = (sor_units as u128).saturating_mul(share) / SHARE_SCALE;
        usize::try_from(by_share).unwrap_or(usize::MAX).min(self.max_closures)
    }
}

/// A closure sent for the municipality before (applied, or sent without a recorded answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentClosure {
    /// The unit it closed (None when the record does not say).
    pub sor_id: Option<SorId>,
    /// When it was first sent.
    pub sent_at: DateTime<Utc>,
    /// Whether it is a step of the plan being applied.
    pub in_this_plan: bool,
}

/// How many closures may still be made without naming them on `now`'s day (UTC): the limit for
/// `sor_units`, less the closures that count against it. Those are the closures sent today by any
/// plan, so that making a new plan does not reset the limit, and the ones this plan sent on an
/// earlier day; closures of units in `named` (named with `--allow-closures` today or in this run)
/// never count.
pub fn closures_left(
    limit: &ClosureLimit,
    sor_units: usize,
    sent: &[SentClosure],
    named: &HashSet<SorId>,
    now: DateTime<Utc>,
) -> usize {
    let today = now.date_naive();
    let counted = sent
        .iter()
        .filter(|c| c.in_this_plan || c.sent_at.date_naive() == today)
        .filter(|c| !c.sor_id.is_some_and(|s| named.contains(&s)))
        .count();
    limit.limit(sor_units).saturating_sub(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(stamp: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(stamp).expect("a time").with_timezone(&Utc)
    }

    fn unit(n: u64) -> SorId {
        SorId::from_running_number(n)
    }

    /// Sent at `stamp` by another plan.
    fn other(n: u64, stamp: &str) -> SentClosure {
        SentClosure { sor_id: Some(unit(n)), sent_at: at(stamp), in_this_plan: false }
    }

    /// Sent at `stamp` by the plan being applied.
    fn ours(n: u64, stamp: &str) -> SentClosure {
        SentClosure { in_this_plan: true, ..other(n, stamp) }
    }

    #[test]
    fn the_limit_is_the_smaller_of_the_count_and_the_share_rounded_down() {
        let d = ClosureLimit::default();
        let share = |max_share| ClosureLimit { max_closures: 1000, max_share };
        for (limit, units, expected, why) in [
            (d, 1000, 10, "5 % of 1000 is 50: the count of 10 is smaller"),
            (d, 100, 5, "5 % of 100"),
            (d, 59, 2, "5 % of 59 is 2.95, rounded down"),
            (d, 19, 0, "a small municipality names every closure"),
            (d, 0, 0, "no units"),
            (share(0.29), 100, 29, "0.29 * 100 is 28.999... in floating point: still 29"),
            (share(0.07), 100, 7, "0.07 * 100 is 7.000...1 in floating point: 7"),
            (share(1.0), 40, 40, "every unit"),
            (share(2.0), 40, 80, "a share over 1: then the count limits"),
            (ClosureLimit { max_closures: 3, max_share: 2.0 }, 40, 3, "the count"),
            (share(0.0), 1000, 0, "a share of 0: every closure named"),
            (share(-0.5), 1000, 0, "a negative share allows none"),
            (share(f64::NAN), 1000, 0, "not a number allows none"),
            (share(f64::INFINITY), 40, 1000, "an infinite share leaves the count"),
            (ClosureLimit { max_closures: 0, max_share: 1.0 }, 1000, 0, "a count of 0: every closure named"),
        ] {
            assert_eq!(limit.limit(units), expected, "{why}: {limit:?} of {units} units");
        }
    }

    #[test]
    fn closures_left_today_count_what_was_sent_today_and_by_this_plan_except_named_ones() {
        let now = at("2026-12-03T10:00:00Z");
        let two = ClosureLimit { max_closures: 2, max_share: 1.0 };
        let none = HashSet::new();
        let named_7: HashSet<SorId> = [unit(7)].into();
        type Case<'a> = (ClosureLimit, usize, Vec<SentClosure>, &'a HashSet<SorId>, DateTime<Utc>, usize, &'a str);
        let cases: Vec<Case> = vec![
            (two, 100, vec![], &none, now, 2, "nothing sent yet: the whole limit"),
            (two, 0, vec![], &none, now, 0, "zero units: none"),
            (two, 100, vec![other(5, "2026-12-03T08:00:00Z")], &none, now, 1, "one sent today by another plan"),
            (
                two,
                100,
                vec![other(5, "2026-12-03T08:00:00Z"), other(6, "2026-12-03T09:59:59Z")],
                &none,
                now,
                0,
                "limit reached exactly",
            ),
            (
                two,
                100,
                vec![
                    other(5, "2026-12-03T01:00:00Z"),
                    other(6, "2026-12-03T02:00:00Z"),
                    other(8, "2026-12-03T03:00:00Z"),
                ],
                &none,
                now,
                0,
                "more sent than the limit (named then, say): none, not a negative count",
            ),
            (
                two,
                100,
                vec![other(5, "2026-12-03T08:00:00Z"), other(7, "2026-12-03T08:30:00Z")],
                &named_7,
                now,
                1,
                "a named closure does not count",
            ),
            (two, 100, vec![ours(7, "2026-12-02T08:30:00Z")], &named_7, now, 2, "nor does a named one of this plan's"),
            (
                two,
                100,
                vec![other(5, "2026-12-02T23:59:59Z"), other(6, "2026-12-02T12:00:00Z")],
                &none,
                now,
                2,
                "sent yesterday (UTC) by another plan: a new day, the whole limit",
            ),
            (
                two,
                100,
                vec![other(5, "2026-12-03T23:59:59Z")],
                &none,
                at("2026-12-04T00:00:00Z"),
                2,
                "midnight UTC starts the new day",
            ),
            (
                two,
                100,
                vec![other(5, "2026-12-03T23:30:00Z")],
                &none,
                at("2026-12-04T00:30:00+01:00"),
                1,
                "00:30 in Copenhagen is still the 3rd in UTC",
            ),
            (
                two,
                100,
                vec![ours(5, "2026-12-02T08:00:00Z")],
                &none,
                now,
                1,
                "this plan's closure sent yesterday still counts: re-running a plan does not reset its limit",
            ),
            (
                two,
                100,
                vec![SentClosure { sor_id: None, sent_at: at("2026-12-03T08:00:00Z"), in_this_plan: false }],
                &named_7,
                now,
                1,
                "a closure without a recorded unit counts",
            ),
        ];
        for (limit, units, sent, named, now, expected, why) in cases {
            assert_eq!(closures_left(&limit, units, &sent, named, now), expected, "{why}");
        }
    }
}
