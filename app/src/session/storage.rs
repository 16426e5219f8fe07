//! localStorage for the session (the same keys as care_fe). No-ops on the server.

pub const ACCESS_KEY: &str = "care_access_token";
pub const REFRESH_KEY: &str = "care_refresh_token";
pub const USER_KEY: &str = "care_offline_user";

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

#[cfg(feature = "hydrate")]
pub fn get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

/// Returns false when the browser refused to store (private mode, quota).
#[cfg(feature = "hydrate")]
pub fn set(key: &str, value: &str) -> bool {
    storage()
        .map(|s| s.set_item(key, value).is_ok())
        .unwrap_or(false)
}

#[cfg(feature = "hydrate")]
pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn get(_key: &str) -> Option<String> {
    None
}

#[cfg(not(feature = "hydrate"))]
pub fn set(_key: &str, _value: &str) -> bool {
    false
}

#[cfg(not(feature = "hydrate"))]
pub fn remove(_key: &str) {}
