//! Dates as the app shows them, one way everywhere: "11 Mar 1987" for a day, "22 Nov
//! 2026, 09:30" for a moment (in the device's zone).

use chrono::NaiveDate;

/// "1987-03-11" → "11 Mar 1987"; anything else is shown as it came.
pub fn format_day(iso_day: &str) -> String {
    let day = iso_day.get(..10).unwrap_or(iso_day);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| d.format("%-d %b %Y").to_string())
        .unwrap_or_else(|_| iso_day.to_string())
}

/// "2026-11-22T04:00:00Z" → "22 Nov 2026, 09:30" in the device's zone ("—" when absent
/// or unreadable).
pub fn format_moment(iso: Option<&str>) -> String {
    iso.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| {
            d.with_timezone(&chrono::Local)
                .format("%-d %b %Y, %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "—".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_the_same_everywhere() {
        assert_eq!(format_day("1987-03-11"), "11 Mar 1987");
        assert_eq!(format_day("2026-12-05T10:00:00Z"), "5 Dec 2026");
        assert_eq!(format_day("not a date"), "not a date");
    }

    #[test]
    fn moments_need_a_zone() {
        assert_eq!(format_moment(None), "—");
        assert_eq!(format_moment(Some("yesterday")), "—");
        assert!(format_moment(Some("2026-11-22T04:00:00Z")).contains("Nov 2026, "));
    }
}
