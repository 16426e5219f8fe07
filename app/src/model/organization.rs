use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A govt (geo) or facility organization. `parent` is `{}` for a root, else the parent object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub org_type: String,
    pub active: bool,
    pub description: Option<String>,
    pub level_cache: i64,
    pub has_children: bool,
    pub parent: Value,
}

impl Organization {
    /// The parent, unless this is a root (CARE sends `{}` for "no parent").
    pub fn parent(&self) -> Option<Organization> {
        match &self.parent {
            Value::Object(map) if !map.is_empty() => {
                serde_json::from_value(self.parent.clone()).ok()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_parent_object_is_a_root() {
        let root: Organization =
            serde_json::from_str(r#"{"id":"a","name":"Kerala","parent":{}}"#).expect("json");
        assert!(root.parent().is_none());
        let child: Organization = serde_json::from_str(
            r#"{"id":"b","name":"Ernakulam","parent":{"id":"a","name":"Kerala","parent":{}}}"#,
        )
        .expect("json");
        assert_eq!(child.parent().map(|p| p.name), Some("Kerala".to_string()));
    }
}
