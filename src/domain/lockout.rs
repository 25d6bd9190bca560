//! PIN lock-out: after too many wrong PINs in a row a user is locked out for a while. The
//! state is kept per laptop by store/; the rule is here.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_for: Duration::minutes(5),
        }
    }
}

/// Wrong PINs so far and, once too many, until when the user is locked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Attempts {
    /// Whether the user may try a PIN at `now`; Err holds when they may try again.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.locked_until {
            Some(until) if now < until => Err(until),
            _ => Ok(()),
        }
    }

    /// The state after a wrong PIN at `now`.
    pub fn after_failure(self, policy: &LockoutPolicy, now: DateTime<Utc>) -> Attempts {
        // A lock-out that has run out starts a fresh count.
        let failures = if self.locked_until.is_some_and(|u| now >= u) {
            1
        } else {
            self.failures + 1
        };
        let locked_until = (failures >= policy.max_failures).then(|| now + policy.lock_for);
        Attempts {
            failures,
            locked_until,
        }
    }

    /// The state after a right PIN.
    pub fn after_success(self) -> Attempts {
        Attempts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn five_wrong_pins_lock_the_user_out_for_five_minutes() {
        let policy = LockoutPolicy::default();
        let mut a = Attempts::default();
        for i in 0..4 {
            a = a.after_failure(&policy, t0());
            assert!(
                a.check(t0()).is_ok(),
                "still allowed after {} failures",
                i + 1
            );
        }
        a = a.after_failure(&policy, t0());
        assert_eq!(a.check(t0()), Err(t0() + Duration::minutes(5)));
        assert!(a.check(t0() + Duration::minutes(4)).is_err());
    }

    #[test]
    fn the_lock_out_expires_and_the_count_starts_again() {
        let policy = LockoutPolicy::default();
        let mut a = Attempts::default();
        for _ in 0..5 {
            a = a.after_failure(&policy, t0());
        }
        let later = t0() + Duration::minutes(5);
        assert!(a.check(later).is_ok());
        let a = a.after_failure(&policy, later);
        assert_eq!(a.failures, 1);
        assert!(a.check(later).is_ok());
    }

    #[test]
    fn a_right_pin_clears_the_count() {
        let policy = LockoutPolicy {
            max_failures: 3,
            lock_for: Duration::minutes(1),
        };
        let a = Attempts::default()
            .after_failure(&policy, t0())
            .after_failure(&policy, t0())
            .after_success();
        assert_eq!(a, Attempts::default());
    }
}
