//! The idle lock's rules: how long a device may sit untouched before the vault locks, and
//! the device setting behind it. Pure.

/// The sync page's setting (minutes), kept per device.
pub const SETTING_KEY: &str = "care_offline_idle_lock_minutes";
/// When someone last used the app in any tab (ms since the epoch), kept per device.
pub const ACTIVE_KEY: &str = "care_offline_active_at";
/// Written when a tab locks or unlocks, so every other tab follows at once.
pub const EVENT_KEY: &str = "care_offline_vault_event";

pub const DEFAULT_MINUTES: u32 = 15;
/// What the sync page offers.
pub const CHOICES: [u32; 6] = [1, 5, 15, 30, 60, 240];

/// The stored setting; anything missing or not offered is the default.
pub fn minutes_from_stored(text: Option<&str>) -> u32 {
    text.and_then(|t| t.trim().parse::<u32>().ok())
        .filter(|m| CHOICES.contains(m))
        .unwrap_or(DEFAULT_MINUTES)
}

/// Whether the vault should lock: untouched for the whole period. A clock set back (last
/// use "in the future") counts as idle too, so moving the clock never keeps it open.
pub fn is_idle(last_active: i64, now: i64, minutes: u32) -> bool {
    let period = i64::from(minutes) * 60_000;
    now - last_active >= period || last_active - now > 60_000
}

/// Activity is written at most this often (a storage write per key press would be wasteful).
pub const ACTIVE_WRITE_EVERY_MS: i64 = 15_000;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_setting_falls_back_to_fifteen_minutes() {
        assert_eq!(minutes_from_stored(None), 15);
        assert_eq!(minutes_from_stored(Some("30")), 30);
        assert_eq!(minutes_from_stored(Some(" 5 ")), 5);
        assert_eq!(minutes_from_stored(Some("0")), 15);
        assert_eq!(minutes_from_stored(Some("7")), 15, "not offered");
        assert_eq!(minutes_from_stored(Some("abc")), 15);
    }

    #[test]
    fn idle_after_the_whole_period_or_a_clock_set_back() {
        let m = 60_000;
        assert!(!is_idle(0, 14 * m, 15));
        assert!(is_idle(0, 15 * m, 15));
        assert!(is_idle(10 * m, 0, 15), "last use far in the future");
        assert!(!is_idle(1_000, 0, 15), "a second of clock skew is not");
    }

    proptest! {
        #[test]
        fn idle_exactly_after_the_period(gap in 0i64..10_000_000, minutes in proptest::sample::select(CHOICES.to_vec())) {
            let start = 1_000_000_000;
            prop_assert_eq!(is_idle(start, start + gap, minutes), gap >= i64::from(minutes) * 60_000);
        }
    }
}
