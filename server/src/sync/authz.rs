//! Who is calling, asked of the backend itself: `GET /users/getcurrentuser/` with the
//! caller's token (the built-in backend and a real CARE answer it alike, and either rejects
//! a bad token). Answers are cached for a short while per token, so a burst of sync calls
//! costs one lookup.
//!
//! Administrators — who may read other users' stats, the review list and sync health, and
//! choose CLIENT_WINS — are superusers and holders of CARE's "Administrator" or "Facility
//! Admin" role (care-admin, care-fac-admin in the demo data). CARE lists a user's roles in
//! `organizations` as entries of `org_type` "role"; the built-in backend also grants
//! administrators the `can_view_sync_health` permission slug, which is accepted too.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{backend::Backend, error::SyncError};

const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX: usize = 4096;
const ADMIN_ROLES: &[&str] = &["Administrator", "Facility Admin"];
pub const ADMIN_PERMISSION: &str = "can_view_sync_health";

/// The signed-in caller of a sync endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub id: String,
    pub username: String,
    pub is_admin: bool,
    /// An administrator of every facility (a superuser or CARE's "Administrator" role); a
    /// "Facility Admin" administers only the facilities they belong to.
    pub global_admin: bool,
    /// Facility ids the user belongs to.
    pub facilities: Vec<String>,
    /// The `Authorization` header, passed on to the backend.
    pub auth: HeaderValue,
}

impl Caller {
    /// Owners act on their items; nobody else does.
    pub fn owns(&self, user_id: &str) -> bool {
        self.id == user_id
    }

    pub fn require_admin(&self, what: &str) -> Result<(), SyncError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(SyncError::Forbidden(format!(
                "Only administrators can {what}."
            )))
        }
    }
}

/// Whether a `getcurrentuser` answer is an administrator of every facility.
pub fn is_global_admin(me: &Value) -> bool {
    let superuser = me["is_superuser"].as_bool().unwrap_or(false);
    superuser
        || me["organizations"].as_array().is_some_and(|orgs| {
            orgs.iter()
                .any(|o| o["org_type"] == "role" && o["name"] == "Administrator")
        })
}

/// Whether a `getcurrentuser` answer is an administrator's.
pub fn is_admin(me: &Value) -> bool {
    let superuser = me["is_superuser"].as_bool().unwrap_or(false);
    let role = me["organizations"].as_array().is_some_and(|orgs| {
        orgs.iter().any(|o| {
            o["org_type"] == "role" && o["name"].as_str().is_some_and(|n| ADMIN_ROLES.contains(&n))
        })
    });
    let permission = me["permissions"]
        .as_array()
        .is_some_and(|p| p.iter().any(|s| s == ADMIN_PERMISSION));
    superuser || role || permission
}

#[derive(Clone, Default)]
pub struct Identities {
    cache: Arc<Mutex<HashMap<String, (Instant, Caller)>>>,
}

fn token_key(auth: &HeaderValue) -> String {
    Sha256::digest(auth.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Identities {
    /// The caller of a request, or CARE's own rejection of its credentials.
    pub async fn caller(
        &self,
        backend: &Backend,
        headers: &HeaderMap,
    ) -> Result<Caller, SyncError> {
        self.caller_with(headers, |auth| async move {
            backend
                .send(Method::GET, "/users/getcurrentuser/", &auth, None, None)
                .await
        })
        .await
    }

    /// `caller`, asking CARE's `getcurrentuser` through `ask` (the proxy asks the upstream
    /// directly).
    pub async fn caller_with<F, Fut>(
        &self,
        headers: &HeaderMap,
        ask: F,
    ) -> Result<Caller, SyncError>
    where
        F: FnOnce(HeaderValue) -> Fut,
        Fut: std::future::Future<Output = super::backend::Reply>,
    {
        let Some(auth) = headers.get(header::AUTHORIZATION).cloned() else {
            return Err(SyncError::Care(
                StatusCode::FORBIDDEN,
                serde_json::json!({"detail": "Authentication credentials were not provided."}),
            ));
        };
        let key = token_key(&auth);
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, caller)) = cache.get(&key) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(caller.clone());
                }
            }
        }
        let reply = ask(auth.clone()).await;
        if reply.unreachable || reply.status.is_server_error() {
            return Err(SyncError::Backend {
                status: StatusCode::BAD_GATEWAY,
                detail: "CARE could not be asked who is signed in.".into(),
            });
        }
        if !reply.ok() {
            return Err(SyncError::Care(reply.status, reply.body));
        }
        let me = reply.body;
        let Some(id) = me["id"].as_str().filter(|s| !s.is_empty()) else {
            return Err(SyncError::Backend {
                status: StatusCode::BAD_GATEWAY,
                detail: "CARE's current-user answer has no id.".into(),
            });
        };
        let caller = Caller {
            id: id.to_string(),
            username: me["username"].as_str().unwrap_or_default().to_string(),
            is_admin: is_admin(&me),
            global_admin: is_global_admin(&me),
            facilities: me["facilities"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(|x| x["id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            auth,
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(key, (Instant::now(), caller.clone()));
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn administrators_by_superuser_role_or_permission() {
        assert!(is_admin(&json!({"is_superuser": true})));
        assert!(is_admin(&json!({"is_superuser": false,
            "organizations": [{"org_type": "govt", "name": "Kerala"},
                              {"org_type": "role", "name": "Facility Admin"}]})));
        assert!(is_admin(
            &json!({"permissions": ["can_list_patients", "can_view_sync_health"]})
        ));
        assert!(!is_admin(&json!({"is_superuser": false,
            "organizations": [{"org_type": "role", "name": "Doctor"},
                              {"org_type": "govt", "name": "Administrator"}],
            "permissions": ["can_write_patient"]})));
        assert!(!is_admin(&json!(null)));
    }

    #[test]
    fn a_facility_admin_administers_only_their_own_facilities() {
        let fac_admin = json!({"is_superuser": false,
            "organizations": [{"org_type": "role", "name": "Facility Admin"}],
            "permissions": ["can_view_sync_health"]});
        assert!(is_admin(&fac_admin));
        assert!(!is_global_admin(&fac_admin));
        assert!(is_global_admin(&json!({"is_superuser": true})));
        assert!(is_global_admin(&json!({"organizations": [
            {"org_type": "role", "name": "Administrator"}]})));
        assert!(!is_global_admin(&json!({"organizations": [
            {"org_type": "govt", "name": "Administrator"}]})));
    }
}
