//! Favourite and recently picked codes per value set, kept on the device per user (the
//! picker offers them offline before any search).

use serde::{Deserialize, Serialize};

use crate::model::Coding;

/// How many recent picks are kept per value set.
pub const MAX_RECENT: usize = 8;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodePrefs {
    pub favourites: Vec<Coding>,
    pub recent: Vec<Coding>,
}

impl CodePrefs {
    /// The localStorage key of one user's preferences for one value set.
    pub fn storage_key(user_id: &str, valueset: &str) -> String {
        format!("care_offline_codes:{user_id}:{valueset}")
    }

    pub fn parse(text: Option<&str>) -> CodePrefs {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    /// A pick moves to the front of the recent list (no duplicates, bounded).
    pub fn picked(&mut self, coding: &Coding) {
        self.recent
            .retain(|c| c.code != coding.code || c.system != coding.system);
        self.recent.insert(0, coding.clone());
        self.recent.truncate(MAX_RECENT);
    }

    pub fn is_favourite(&self, coding: &Coding) -> bool {
        self.favourites
            .iter()
            .any(|c| c.code == coding.code && c.system == coding.system)
    }

    pub fn toggle_favourite(&mut self, coding: &Coding) {
        if self.is_favourite(coding) {
            self.favourites
                .retain(|c| c.code != coding.code || c.system != coding.system);
        } else {
            self.favourites.push(coding.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Coding {
        Coding {
            system: "s".into(),
            code: code.into(),
            display: code.into(),
        }
    }

    #[test]
    fn recent_is_most_recent_first_unique_and_bounded() {
        let mut p = CodePrefs::default();
        for i in 0..10 {
            p.picked(&c(&i.to_string()));
        }
        p.picked(&c("5"));
        assert_eq!(p.recent.len(), MAX_RECENT);
        assert_eq!(p.recent[0].code, "5");
        assert_eq!(p.recent.iter().filter(|x| x.code == "5").count(), 1);
    }

    #[test]
    fn favourites_toggle_and_round_trip() {
        let mut p = CodePrefs::default();
        p.toggle_favourite(&c("1"));
        assert!(p.is_favourite(&c("1")));
        let text = serde_json::to_string(&p).expect("json");
        let back = CodePrefs::parse(Some(&text));
        assert_eq!(back, p);
        p.toggle_favourite(&c("1"));
        assert!(!p.is_favourite(&c("1")));
        assert_eq!(CodePrefs::parse(Some("not json")), CodePrefs::default());
        assert_ne!(
            CodePrefs::storage_key("u1", "v"),
            CodePrefs::storage_key("u2", "v")
        );
    }
}
