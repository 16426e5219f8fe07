//! `GET /api/v1/sync/health` (the CARE Offline server's sync API, administrators only):
//! per user and device counts, rates, the oldest pending item and the MANUAL review list.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SyncCounts {
    pub total: u64,
    pub pending: u64,
    pub synced: u64,
    pub failed: u64,
    pub conflicts: u64,
    pub blocked: u64,
    /// Percent of total.
    pub failure_rate: f64,
    pub conflict_rate: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct OldestPending {
    pub since: String,
    pub age_seconds: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct DeviceHealth {
    pub user_id: String,
    pub username: String,
    pub device_id: String,
    #[serde(flatten)]
    pub counts: SyncCounts,
    pub oldest_pending: Option<OldestPending>,
    pub last_activity_at: Option<String>,
}

/// A write flagged for review (MANUAL): the offline data beside CARE's record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ReviewItem {
    pub id: String,
    pub username: String,
    pub device_id: String,
    pub operation: String,
    pub resource_type: String,
    pub path: String,
    pub data: Value,
    pub server_record: Value,
    pub base_version: Option<String>,
    pub flagged_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SyncHealth {
    pub generated_at: String,
    pub retention_days: i64,
    pub totals: SyncCounts,
    pub devices: Vec<DeviceHealth>,
    pub review: Vec<ReviewItem>,
}

/// "3 h 20 min" / "12 min" / "40 s".
pub fn age_label(seconds: i64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, (s % 86_400) / 3_600),
        s if s >= 3_600 => format!("{} h {} min", s / 3_600, (s % 3_600) / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{} s", s.max(0)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_servers_health_shape() {
        let h: SyncHealth = serde_json::from_value(json!({
            "generatedAt": "2026-11-30T10:00:00.000Z", "retentionDays": 90,
            "totals": {"total": 12, "pending": 1, "synced": 8, "failed": 1, "conflicts": 2, "blocked": 0,
                       "failureRate": 8.33, "conflictRate": 16.67},
            "devices": [{"userId": "u", "username": "care-doctor", "deviceId": "tab-7", "total": 12,
                         "pending": 1, "synced": 8, "failed": 1, "conflicts": 2, "blocked": 0,
                         "failureRate": 8.33, "conflictRate": 16.67,
                         "oldestPending": {"since": "2026-11-30T09:00:00.000Z", "ageSeconds": 3600},
                         "lastActivityAt": "2026-11-30T09:59:00.000Z"}],
            "review": [{"id": "i", "username": "care-nurse", "deviceId": "d", "operation": "UPDATE",
                        "resourceType": "patient", "path": "/api/v1/patient/p/", "data": {"name": "A"},
                        "serverRecord": {"name": "B"}, "status": "MANUAL"}]
        }))
        .expect("json");
        assert_eq!(h.devices[0].counts.conflicts, 2);
        assert_eq!(
            h.devices[0].oldest_pending.as_ref().map(|o| o.age_seconds),
            Some(3600)
        );
        assert_eq!(h.review[0].server_record["name"], "B");
        assert_eq!(h.totals.failure_rate, 8.33);
    }

    #[test]
    fn ages_read_plainly() {
        assert_eq!(age_label(40), "40 s");
        assert_eq!(age_label(720), "12 min");
        assert_eq!(age_label(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(age_label(90_000), "1 d 1 h");
    }
}
