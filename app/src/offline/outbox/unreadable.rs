//! A queued write this version of the app cannot read (written by another version, or
//! damaged). It is never skipped in silence nor deleted: the sync page lists it, and the
//! person can download its raw content to hand to support.

use serde_json::Value;

/// One record of the outbox store that did not decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// Its key in the store, when it has one.
    pub id: Option<String>,
    /// The user it belongs to, when that can be read.
    pub user_id: Option<String>,
    /// Its raw content as JSON.
    pub raw: String,
    /// Why it could not be read.
    pub error: String,
}

impl Unreadable {
    pub fn from_raw(raw: String, error: String) -> Self {
        let value: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        Self {
            id: text("id"),
            user_id: text("userId"),
            raw,
            error,
        }
    }

    /// Shown to `user_id` only when it is theirs (another user's stays in the store,
    /// unread).
    pub fn belongs_to(&self, user_id: &str) -> bool {
        self.user_id.as_deref() == Some(user_id)
    }

    /// The file name its download gets.
    pub fn file_name(&self) -> String {
        format!(
            "care-offline-write-{}.json",
            self.id.as_deref().unwrap_or("unknown")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_record_keeps_its_raw_content_and_owner() {
        let raw =
            r#"{"id":"w1","userId":"u1","syncStatus":"from_the_future","payload":{"name":"Asha"}}"#;
        let u = Unreadable::from_raw(raw.into(), "unknown variant".into());
        assert_eq!(u.id.as_deref(), Some("w1"));
        assert!(u.belongs_to("u1"));
        assert!(!u.belongs_to("u2"));
        assert_eq!(u.raw, raw, "nothing of it is lost");
        assert_eq!(u.file_name(), "care-offline-write-w1.json");
        let garbage = Unreadable::from_raw("not json".into(), "e".into());
        assert_eq!((garbage.id, garbage.user_id), (None, None));
    }
}
