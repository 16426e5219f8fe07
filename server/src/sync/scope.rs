//! Whose sync records an administrator may see. CARE's "Administrator" (or a superuser)
//! administers every facility; a "Facility Admin" only the facilities they belong to, so
//! only the users who are members there: asked of the backend as CARE lists them
//! (`GET /facility/{id}/users/`, paged).

use std::collections::HashSet;

use axum::http::Method;
use serde_json::Value;

use super::{authz::Caller, error::SyncError, SyncApi};

/// Members read per page, and pages read at most per facility.
const PAGE: usize = 100;
const MAX_PAGES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every user's records.
    All,
    /// These users' records (the caller's own included).
    Users(HashSet<String>),
}

impl Scope {
    pub fn includes(&self, user_id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Users(users) => users.contains(user_id),
        }
    }
}

impl SyncApi {
    /// The users whose records `caller` administers; Forbidden for a non-administrator.
    pub async fn administered(&self, caller: &Caller, what: &str) -> Result<Scope, SyncError> {
        caller.require_admin(what)?;
        if caller.global_admin {
            return Ok(Scope::All);
        }
        let mut users: HashSet<String> = HashSet::from([caller.id.clone()]);
        for facility in &caller.facilities {
            for page in 0..MAX_PAGES {
                let path = format!(
                    "/facility/{facility}/users/?limit={PAGE}&offset={}",
                    page * PAGE
                );
                let reply = self
                    .backend
                    .send(Method::GET, &path, &caller.auth, None, None)
                    .await;
                if !reply.ok() {
                    return Err(SyncError::Backend {
                        status: axum::http::StatusCode::BAD_GATEWAY,
                        detail: format!(
                            "CARE could not list the members of facility {facility} ({}).",
                            reply.status
                        ),
                    });
                }
                let results = reply.body["results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                users.extend(
                    results
                        .iter()
                        .filter_map(|u| u["id"].as_str().map(str::to_string)),
                );
                let total = reply.body["count"].as_u64().unwrap_or(0) as usize;
                if results.len() < PAGE || (page + 1) * PAGE >= total {
                    break;
                }
            }
        }
        Ok(Scope::Users(users))
    }
}

/// Keeps the entries (JSON with `key`) whose user is in scope.
pub fn filter_by_user(entries: Vec<Value>, key: &str, scope: &Scope) -> Vec<Value> {
    entries
        .into_iter()
        .filter(|e| e[key].as_str().is_some_and(|u| scope.includes(u)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_facility_scope_keeps_only_its_members() {
        let scope = Scope::Users(HashSet::from(["u1".to_string()]));
        let kept = filter_by_user(
            vec![json!({"userId": "u1"}), json!({"userId": "u2"}), json!({})],
            "userId",
            &scope,
        );
        assert_eq!(kept, vec![json!({"userId": "u1"})]);
        assert!(Scope::All.includes("anyone"));
    }
}
