use serde::{Deserialize, Serialize};

/// `GET /role/` item (the fields the app uses).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_archived: bool,
}
