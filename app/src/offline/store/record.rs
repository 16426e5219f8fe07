//! The persisted form of a query and the rules for trusting it again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::offline::query::{options::Millis, QueryKey};

/// Bumped whenever the shape of persisted data changes; older records are dropped.
pub const SCHEMA_VERSION: u32 = 1;

/// What IndexedDB holds for one query: `{ key, schema, updated_at, payload }`, where
/// `payload` is the codec's output for [`QueryPayload`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersistedQuery {
    /// `QueryKey::hash()`, the store's key path.
    pub key: String,
    pub schema: u32,
    /// When the data came from the server (ms since the epoch).
    pub updated_at: Millis,
    /// Encoded [`QueryPayload`].
    pub payload: String,
}

/// The part that goes through the codec (and, later, encryption).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryPayload {
    pub key: QueryKey,
    pub data: Value,
}

/// The one step every record passes through on its way to and from IndexedDB.
pub trait Codec {
    fn encode(&self, payload: &QueryPayload) -> Result<String, StoreError>;
    fn decode(&self, text: &str) -> Result<QueryPayload, StoreError>;
}

/// JSON as it is (no encryption yet).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainJson;

impl Codec for PlainJson {
    fn encode(&self, payload: &QueryPayload) -> Result<String, StoreError> {
        serde_json::to_string(payload).map_err(|e| StoreError::Codec(e.to_string()))
    }

    fn decode(&self, text: &str) -> Result<QueryPayload, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Codec(e.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RestoreDecision {
    Keep(QueryPayload),
    /// Drop the record (and delete it): the reason is for logs.
    Drop(&'static str),
}

impl PersistedQuery {
    pub fn encode(
        codec: &impl Codec,
        key: &QueryKey,
        data: &Value,
        updated_at: Millis,
    ) -> Result<Self, StoreError> {
        let payload = QueryPayload {
            key: key.clone(),
            data: data.clone(),
        };
        Ok(Self {
            key: key.hash(),
            schema: SCHEMA_VERSION,
            updated_at,
            payload: codec.encode(&payload)?,
        })
    }

    /// Never misread: another schema, an expired record, a record from the future (clock
    /// moved back a lot) or one that does not decode to its own key is dropped.
    pub fn decide(&self, codec: &impl Codec, now: Millis, max_age: Millis) -> RestoreDecision {
        if self.schema != SCHEMA_VERSION {
            return RestoreDecision::Drop("schema version differs");
        }
        if now - self.updated_at > max_age {
            return RestoreDecision::Drop("older than max age");
        }
        if self.updated_at - now > max_age {
            return RestoreDecision::Drop("dated in the future");
        }
        match codec.decode(&self.payload) {
            Ok(p) if p.key.hash() == self.key => RestoreDecision::Keep(p),
            Ok(_) => RestoreDecision::Drop("key does not match its payload"),
            Err(_) => RestoreDecision::Drop("payload does not decode"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const DAY: Millis = 86_400_000;

    #[test]
    fn round_trip_keeps_data() {
        let key = QueryKey::new(["patient", "detail", "p1"]);
        let rec = PersistedQuery::encode(&PlainJson, &key, &json!({"name": "Asha"}), 1000)
            .expect("encode");
        assert_eq!(rec.key, key.hash());
        match rec.decide(&PlainJson, 2000, DAY) {
            RestoreDecision::Keep(p) => {
                assert_eq!(p.key, key);
                assert_eq!(p.data["name"], "Asha");
            }
            other => panic!("kept expected, got {other:?}"),
        }
    }

    #[test]
    fn drops_what_it_cannot_trust() {
        let key = QueryKey::new(["a"]);
        let rec = PersistedQuery::encode(&PlainJson, &key, &json!(1), 0).expect("encode");
        assert_eq!(
            rec.decide(&PlainJson, DAY + 1, DAY),
            RestoreDecision::Drop("older than max age")
        );
        let old = PersistedQuery {
            schema: SCHEMA_VERSION + 1,
            ..rec.clone()
        };
        assert_eq!(
            old.decide(&PlainJson, 1, DAY),
            RestoreDecision::Drop("schema version differs")
        );
        let garbled = PersistedQuery {
            payload: "{".into(),
            ..rec.clone()
        };
        assert_eq!(
            garbled.decide(&PlainJson, 1, DAY),
            RestoreDecision::Drop("payload does not decode")
        );
        let moved = PersistedQuery {
            key: QueryKey::new(["b"]).hash(),
            ..rec
        };
        assert_eq!(
            moved.decide(&PlainJson, 1, DAY),
            RestoreDecision::Drop("key does not match its payload")
        );
    }

    proptest! {
        #[test]
        fn kept_exactly_within_max_age(age in 0i64..(3 * DAY), max_age in 1i64..(2 * DAY)) {
            let rec = PersistedQuery::encode(&PlainJson, &QueryKey::new(["k"]), &json!({"v": age}), 10 * DAY).expect("encode");
            let kept = matches!(rec.decide(&PlainJson, 10 * DAY + age, max_age), RestoreDecision::Keep(_));
            prop_assert_eq!(kept, age <= max_age);
        }
    }
}
