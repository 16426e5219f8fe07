//! Questionnaire drafts: the answers being typed, kept sealed in the user's vault
//! (`offline::store::local`) per encounter and form until the form is submitted (or the
//! user signs out).

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
pub async fn of_user(user_id: &str) -> Vec<String> {
    if user_id.is_empty() {
        return Vec::new();
    }
    crate::offline::store::local::keys_with_prefix(&format!("{PREFIX}:{user_id}:")).await
}

/// What earlier versions kept in localStorage for this user (drafts and code favourites),
/// moved into the vault at the first unlock.
pub fn legacy_prefixes(user_id: &str) -> Vec<String> {
    vec![
        format!("{PREFIX}:{user_id}:"),
        format!("care_offline_codes:{user_id}:"),
    ]
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
