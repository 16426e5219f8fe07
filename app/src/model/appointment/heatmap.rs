//! The month heat-map of a practitioner's availability: one level per day from
//! `availability_stats`, and the calendar grid it is drawn on.

use chrono::{Datelike, Duration, NaiveDate};

use super::{AvailabilityStats, DayStats};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatLevel {
    /// Before today: nothing can be booked.
    Past,
    /// No schedule that day.
    Closed,
    /// Every token is taken.
    Full,
    /// Less than a third free.
    Low,
    /// A third to two thirds free.
    Medium,
    /// More than two thirds free.
    High,
    /// Not known (not cached and offline).
    Unknown,
}

impl HeatLevel {
    pub fn class(self) -> &'static str {
        match self {
            HeatLevel::Past => "heat--past",
            HeatLevel::Closed => "heat--closed",
            HeatLevel::Full => "heat--full",
            HeatLevel::Low => "heat--low",
            HeatLevel::Medium => "heat--medium",
            HeatLevel::High => "heat--high",
            HeatLevel::Unknown => "heat--unknown",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            HeatLevel::Past => "past",
            HeatLevel::Closed => "no slots",
            HeatLevel::Full => "fully booked",
            HeatLevel::Low => "few free",
            HeatLevel::Medium => "some free",
            HeatLevel::High => "mostly free",
            HeatLevel::Unknown => "not known offline",
        }
    }

    /// A day worth opening: it has (or may have) free slots.
    pub fn selectable(self) -> bool {
        matches!(
            self,
            HeatLevel::Low | HeatLevel::Medium | HeatLevel::High | HeatLevel::Unknown
        )
    }
}

pub fn level(day: NaiveDate, today: NaiveDate, stats: Option<DayStats>) -> HeatLevel {
    if day < today {
        return HeatLevel::Past;
    }
    let Some(s) = stats else {
        return HeatLevel::Unknown;
    };
    if s.total_slots <= 0 {
        return HeatLevel::Closed;
    }
    let free = (s.total_slots - s.booked_slots).max(0);
    if free == 0 {
        HeatLevel::Full
    } else if free * 3 < s.total_slots {
        HeatLevel::Low
    } else if free * 3 <= s.total_slots * 2 {
        HeatLevel::Medium
    } else {
        HeatLevel::High
    }
}

/// The first and last day of the month of `day` (≤ 31 days: one stats request).
pub fn month_range(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    let last = next.map(|n| n - Duration::days(1)).unwrap_or(first);
    (first, last)
}

/// The first day of the month before / after `day`'s.
pub fn shift_month(day: NaiveDate, months: i32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 + months;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1).unwrap_or(day)
}

/// Weeks (Monday first) of the month of `day`; days outside the month are None.
pub fn month_grid(day: NaiveDate) -> Vec<[Option<NaiveDate>; 7]> {
    let (first, last) = month_range(day);
    let lead = first.weekday().num_days_from_monday() as i64;
    let mut weeks = Vec::new();
    let mut start = first - Duration::days(lead);
    while start <= last {
        let mut week = [None; 7];
        for (i, slot) in week.iter_mut().enumerate() {
            let d = start + Duration::days(i as i64);
            if d >= first && d <= last {
                *slot = Some(d);
            }
        }
        weeks.push(week);
        start += Duration::days(7);
    }
    weeks
}

/// The level of every day of `day`'s month.
pub fn month_levels(
    day: NaiveDate,
    today: NaiveDate,
    stats: Option<&AvailabilityStats>,
) -> Vec<(NaiveDate, HeatLevel)> {
    let (first, last) = month_range(day);
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| {
            let s = stats.map(|s| s.get(&d.to_string()).copied().unwrap_or_default());
            (d, level(d, today, s))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn stats(total: i64, booked: i64) -> Option<DayStats> {
        Some(DayStats {
            total_slots: total,
            booked_slots: booked,
        })
    }

    #[test]
    fn levels_follow_the_free_share() {
        let today = d("2026-11-10");
        let day = d("2026-11-12");
        assert_eq!(level(d("2026-11-09"), today, stats(10, 0)), HeatLevel::Past);
        assert_eq!(level(day, today, stats(0, 0)), HeatLevel::Closed);
        assert_eq!(level(day, today, stats(9, 9)), HeatLevel::Full);
        assert_eq!(
            level(day, today, stats(9, 12)),
            HeatLevel::Full,
            "overbooked"
        );
        assert_eq!(level(day, today, stats(9, 7)), HeatLevel::Low);
        assert_eq!(level(day, today, stats(9, 3)), HeatLevel::Medium);
        assert_eq!(level(day, today, stats(9, 2)), HeatLevel::High);
        assert_eq!(level(day, today, None), HeatLevel::Unknown);
        assert_eq!(level(today, today, stats(1, 0)), HeatLevel::High);
        assert!(!HeatLevel::Full.selectable() && HeatLevel::Low.selectable());
    }

    #[test]
    fn month_grid_starts_on_monday_and_covers_the_month() {
        // November 2026 starts on a Sunday.
        let grid = month_grid(d("2026-11-17"));
        assert_eq!(grid[0][6], Some(d("2026-11-01")));
        assert!(grid[0][..6].iter().all(Option::is_none));
        let days: Vec<NaiveDate> = grid.iter().flatten().flatten().copied().collect();
        assert_eq!(days.len(), 30);
        assert_eq!(days.last().copied(), Some(d("2026-11-30")));
        assert_eq!(
            month_range(d("2026-12-05")),
            (d("2026-12-01"), d("2026-12-31"))
        );
        assert_eq!(month_range(d("2028-02-10")).1, d("2028-02-29"));
        assert_eq!(shift_month(d("2026-12-05"), 1), d("2027-01-01"));
        assert_eq!(shift_month(d("2026-01-31"), -1), d("2025-12-01"));
    }

    #[test]
    fn month_levels_read_the_stats_by_day() {
        let mut s = AvailabilityStats::new();
        s.insert(
            "2026-11-12".into(),
            DayStats {
                total_slots: 4,
                booked_slots: 4,
            },
        );
        let levels = month_levels(d("2026-11-01"), d("2026-11-10"), Some(&s));
        assert_eq!(levels.len(), 30);
        assert_eq!(levels[11], (d("2026-11-12"), HeatLevel::Full));
        assert_eq!(levels[12].1, HeatLevel::Closed, "missing day: no slots");
        assert_eq!(levels[0].1, HeatLevel::Past);
        let offline = month_levels(d("2026-11-01"), d("2026-11-10"), None);
        assert_eq!(offline[20].1, HeatLevel::Unknown);
    }
}
