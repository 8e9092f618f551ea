//! Retry delays after failures: exponential from 30 s, capped at 1 h, with upward jitter (never above the cap);
//! `Retry-After` when the provider sends one (never sooner than the 30 s base: `Retry-After: 0` or a date in
//! the past must not become a retry loop, and never later than a day); bans at least an hour.

use std::time::Duration;

use crate::provider::ErrorClass;

pub const BASE: Duration = Duration::from_secs(30);
pub const CAP: Duration = Duration::from_hours(1);
pub const BAN: Duration = Duration::from_hours(1);
/// Retry-After values beyond this are treated as this (a broken header must not park a record for weeks).
pub const MAX_RETRY_AFTER: Duration = Duration::from_hours(24);

/// The delay before attempt `failures + 1`, where `failures >= 1`. `jitter` is in `[0, 1)`.
#[must_use]
pub fn exponential(failures: u32, jitter: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let base = BASE.saturating_mul(1 << exp).min(CAP);
    base.mul_f64(1.0 + 0.2 * jitter.clamp(0.0, 1.0)).min(CAP)
}

/// The wait after a failure of `class`, or `None` when the record stops until its config changes.
#[must_use]
pub fn delay(class: ErrorClass, failures: u32, jitter: f64) -> Option<Duration> {
    match class {
        ErrorClass::Auth | ErrorClass::Rejected => None,
        ErrorClass::Banned { .. } => Some(
            class
                .retry_after()
                .unwrap_or(BAN)
                .clamp(BAN, MAX_RETRY_AFTER),
        ),
        ErrorClass::RateLimited { .. } => Some(class.retry_after().map_or_else(
            || exponential(failures, jitter),
            |d| d.clamp(BASE, MAX_RETRY_AFTER),
        )),
        ErrorClass::Transient | ErrorClass::Unconfirmed => Some(exponential(failures, jitter)),
    }
}

/// The longest wait a failure of `class` can ask for: a saved retry date further ahead came from a wrong
/// clock.
#[must_use]
pub fn longest(class: Option<ErrorClass>) -> Duration {
    match class {
        Some(ErrorClass::RateLimited { .. } | ErrorClass::Banned { .. }) => MAX_RETRY_AFTER,
        _ => CAP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_from_30s_capped_at_1h() {
        let table = [
            (1, 30),
            (2, 60),
            (3, 120),
            (4, 240),
            (5, 480),
            (6, 960),
            (7, 1920),
            (8, 3600),
            (20, 3600),
            (u32::MAX, 3600),
        ];
        for (failures, secs) in table {
            assert_eq!(
                exponential(failures, 0.0),
                Duration::from_secs(secs),
                "failures={failures}"
            );
        }
    }

    #[test]
    fn jitter_adds_up_to_20_percent_but_never_passes_the_cap() {
        let top = exponential(1, 0.999_999);
        assert!(
            top <= Duration::from_secs(36) && top > Duration::from_millis(35_990),
            "{top:?}"
        );
        assert!(
            exponential(1, 0.5) > Duration::from_secs(30)
                && exponential(1, 0.5) < Duration::from_secs(36)
        );
        assert_eq!(exponential(8, 0.99), CAP);
        assert!(exponential(7, 0.99) < CAP);
    }

    #[test]
    fn classes() {
        assert_eq!(delay(ErrorClass::Auth, 1, 0.0), None);
        assert_eq!(delay(ErrorClass::Rejected, 1, 0.0), None);
        assert_eq!(
            delay(ErrorClass::Transient, 2, 0.0),
            Some(Duration::from_mins(1))
        );
        assert_eq!(
            delay(ErrorClass::Unconfirmed, 1, 0.0),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            delay(
                ErrorClass::RateLimited {
                    retry_after: Some(90)
                },
                1,
                0.0
            ),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            delay(ErrorClass::RateLimited { retry_after: None }, 3, 0.0),
            Some(Duration::from_mins(2))
        );
        assert_eq!(
            delay(
                ErrorClass::RateLimited {
                    retry_after: Some(10_000_000)
                },
                1,
                0.0
            ),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            delay(ErrorClass::Banned { retry_after: None }, 1, 0.0),
            Some(BAN)
        );
        // Regression: `Retry-After: 0` (or a past date, read as 0) was an immediate retry loop.
        assert_eq!(
            delay(
                ErrorClass::RateLimited {
                    retry_after: Some(0)
                },
                1,
                0.0
            ),
            Some(BASE)
        );
        assert_eq!(
            delay(
                ErrorClass::Banned {
                    retry_after: Some(60)
                },
                1,
                0.0
            ),
            Some(BAN),
            "bans last at least an hour"
        );
        assert_eq!(
            delay(
                ErrorClass::Banned {
                    retry_after: Some(7200)
                },
                1,
                0.0
            ),
            Some(Duration::from_hours(2))
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn class() -> impl Strategy<Value = ErrorClass> {
        prop_oneof![
            Just(ErrorClass::Auth),
            Just(ErrorClass::Rejected),
            Just(ErrorClass::Transient),
            Just(ErrorClass::Unconfirmed),
            proptest::option::of(0u64..10_000_000)
                .prop_map(|retry_after| ErrorClass::RateLimited { retry_after }),
            proptest::option::of(0u64..10_000_000)
                .prop_map(|retry_after| ErrorClass::Banned { retry_after }),
        ]
    }

    proptest! {
        /// No delay below the base, none above its class's cap; bans at least an hour; the clamp on load
        /// (`longest`) never cuts a delay the class may ask for.
        #[test]
        fn delays_stay_between_the_base_and_the_cap(
            class in class(),
            failures in 1u32..=u32::MAX,
            jitter in 0.0f64..1.0,
        ) {
            match delay(class, failures, jitter) {
                None => prop_assert!(class.stops_until_config_change()),
                Some(d) => {
                    prop_assert!(d >= BASE, "{d:?} < base");
                    prop_assert!(d <= longest(Some(class)), "{d:?} above the cap of {class:?}");
                    if matches!(class, ErrorClass::Banned { .. }) {
                        prop_assert!(d >= BAN);
                    }
                }
            }
        }
    }
}
