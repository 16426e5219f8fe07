//! Questionnaire drafts: the answers being typed, kept in the browser's storage per user,
//! encounter and form until the form is submitted (or the user signs out).

const PREFIX: &str = "care_offline_draft";

/// Where one form's draft is kept.
pub fn key(user_id: &str, encounter_id: &str, slug: &str) -> String {
    format!("{PREFIX}:{user_id}:{encounter_id}:{slug}")
}

/// Whether a storage key is a draft of this user.
pub fn is_users(stored_key: &str, user_id: &str) -> bool {
    !user_id.is_empty() && stored_key.starts_with(&format!("{PREFIX}:{user_id}:"))
}

/// Every draft key of this user on this device.
pub fn of_user(user_id: &str) -> Vec<String> {
    #[cfg(feature = "hydrate")]
    {
        let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
            return Vec::new();
        };
        let count = storage.length().unwrap_or(0);
        (0..count)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|k| is_users(k, user_id))
            .collect()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = user_id;
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_key_names_its_user_encounter_and_form() {
        let k = key("u1", "e1", "vitals");
        assert_eq!(k, "care_offline_draft:u1:e1:vitals");
        assert!(is_users(&k, "u1"));
        assert!(!is_users(&k, "u"), "another user whose id is a prefix");
        assert!(!is_users(&k, ""));
        assert!(!is_users("care_offline_keep_synced_days", "u1"));
    }
}
