//! The user's IndexedDB database through rexie. Browser only.
//!
//! Every record passes the vault on its way in and out: a cached query is stored as
//! `{key: HMAC of its key, schema, updated_at, payload: sealed}`, a queued write as
//! `{id, sealed}`, a device-local value (draft, code favourites) as `{key: HMAC, sealed}`.
//! Each is sealed with its place as additional data. Records written before the vault
//! existed are read once and rewritten sealed.

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde_json::Value;
use wasm_bindgen::JsValue;

use super::{database_name, PersistedQuery, StoreError, LOCAL_STORE, OUTBOX_STORE, QUERIES_STORE};
use crate::offline::vault::{
    crypto::DataKeys,
    envelope::{is_sealed, record_aad},
    VaultError,
};

/// Version 1 created `queries` and `outbox`; version 2 adds `local` (drafts, favourites).
const DB_VERSION: u32 = 2;

pub struct IdbStore {
    db: Rexie,
    /// The owner of the database.
    user_id: String,
    keys: DataKeys,
    /// Closed with the store (on drop).
    _watch: Option<super::version_watch::VersionWatch>,
}

fn vault_err(e: VaultError) -> StoreError {
    StoreError::Codec(e.to_string())
}

fn read_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Read(e.to_string())
}

fn write_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Write(e.to_string())
}

impl IdbStore {
    /// Opens `user_id`'s database with the keys of their open vault.
    pub async fn open(user_id: &str, keys: DataKeys) -> Result<Self, StoreError> {
        let db = Rexie::builder(&database_name(user_id))
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(QUERIES_STORE).key_path("key"))
            .add_object_store(ObjectStore::new(OUTBOX_STORE).key_path("id"))
            .add_object_store(ObjectStore::new(LOCAL_STORE).key_path("key"))
            .build()
            .await;
        let db = match db {
            Ok(db) => db,
            Err(e) => {
                // A newer version of the app upgraded it (in another tab): this one must
                // reload, not guess at a layout it does not know.
                let stored = super::version_watch::stored_version(&database_name(user_id)).await;
                if stored.is_some_and(|v| v > DB_VERSION) {
                    super::version_watch::announce_outdated();
                    return Err(StoreError::Outdated);
                }
                return Err(StoreError::Unavailable(e.to_string()));
            }
        };
        let watch = super::version_watch::VersionWatch::start(&database_name(user_id));
        Ok(Self {
            db,
            user_id: user_id.to_string(),
            keys,
            _watch: watch,
        })
    }

    /// A cached query as stored: its id an HMAC of the key, its payload sealed together
    /// with the key (so the id never needs reversing).
    async fn seal_query(&self, record: &PersistedQuery) -> Result<JsValue, StoreError> {
        let id = self.keys.lookup_id(&record.key).await.map_err(vault_err)?;
        let payload = self
            .keys
            .seal_text(
                &record_aad(QUERIES_STORE, &id),
                &format!("{}\n{}", record.key, record.payload),
            )
            .await
            .map_err(vault_err)?;
        to_js(&PersistedQuery {
            key: id,
            payload,
            ..record.clone()
        })
    }

    /// The stored query back as the cache wrote it; `None` when it does not open (another
    /// key, moved, damaged), so it is dropped.
    async fn open_query(&self, stored: &PersistedQuery) -> Option<PersistedQuery> {
        let plain = self
            .keys
            .open_text(&record_aad(QUERIES_STORE, &stored.key), &stored.payload)
            .await
            .ok()?;
        let (key, payload) = plain.split_once('\n')?;
        Some(PersistedQuery {
            key: key.to_string(),
            payload: payload.to_string(),
            ..stored.clone()
        })
    }

    /// A queued write as stored: `{id, sealed}`.
    async fn seal_write<R: serde::Serialize>(&self, record: &R) -> Result<JsValue, StoreError> {
        let json = serde_json::to_value(record).map_err(|e| StoreError::Codec(e.to_string()))?;
        let id = json
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| StoreError::Codec("a write without an id".into()))?
            .to_string();
        let sealed = self
            .keys
            .seal_text(&record_aad(OUTBOX_STORE, &id), &json.to_string())
            .await
            .map_err(vault_err)?;
        to_js(&serde_json::json!({ "id": id, "sealed": sealed }))
    }

    async fn seal_writes<R: serde::Serialize>(
        &self,
        records: &[R],
    ) -> Result<Vec<JsValue>, StoreError> {
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            out.push(self.seal_write(r).await?);
        }
        Ok(out)
    }

    pub async fn load_all(&self) -> Result<Vec<PersistedQuery>, StoreError> {
        let tx = self
            .db
            .transaction(&[QUERIES_STORE], TransactionMode::ReadOnly)
            .map_err(read_err)?;
        let store = tx.store(QUERIES_STORE).map_err(read_err)?;
        let values = store.get_all(None, None).await.map_err(read_err)?;
        tx.done().await.map_err(read_err)?;
        // A record that does not deserialise or open is skipped here (and deleted); it is
        // never shown.
        let (mut opened, mut unsealed, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
        for v in values {
            let Ok(stored) = serde_wasm_bindgen::from_value::<PersistedQuery>(v) else {
                continue;
            };
            if !is_sealed(&stored.payload) {
                // Written before the vault: read it this once, rewrite it sealed.
                unsealed.push(stored);
                continue;
            }
            match self.open_query(&stored).await {
                Some(q) => opened.push(q),
                None => dropped.push(stored.key),
            }
        }
        if !unsealed.is_empty() || !dropped.is_empty() {
            let mut deletes: Vec<String> = unsealed.iter().map(|q| q.key.clone()).collect();
            deletes.extend(dropped);
            self.put_and_delete(&unsealed, &deletes).await?;
        }
        opened.extend(unsealed);
        Ok(opened)
    }

    /// Writes and deletes in one transaction (batched by the client).
    pub async fn write(
        &self,
        puts: &[PersistedQuery],
        deletes: &[String],
    ) -> Result<(), StoreError> {
        let mut ids = Vec::with_capacity(deletes.len());
        for key in deletes {
            ids.push(self.keys.lookup_id(key).await.map_err(vault_err)?);
        }
        self.put_and_delete(puts, &ids).await
    }

    /// Seals `puts` and deletes the stored ids `deletes`, in one transaction.
    async fn put_and_delete(
        &self,
        puts: &[PersistedQuery],
        deletes: &[String],
    ) -> Result<(), StoreError> {
        if puts.is_empty() && deletes.is_empty() {
            return Ok(());
        }
        let mut sealed = Vec::with_capacity(puts.len());
        for record in puts {
            sealed.push(self.seal_query(record).await?);
        }
        let tx = self
            .db
            .transaction(&[QUERIES_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let store = tx.store(QUERIES_STORE).map_err(write_err)?;
        for value in &sealed {
            store.put(value, None).await.map_err(write_err)?;
        }
        for key in deletes {
            store
                .delete(JsValue::from_str(key))
                .await
                .map_err(write_err)?;
        }
        tx.done().await.map_err(write_err)?;
        Ok(())
    }

    /// Removes every cached query; the outbox store is not touched.
    pub async fn clear_queries(&self) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[QUERIES_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let store = tx.store(QUERIES_STORE).map_err(write_err)?;
        store.clear().await.map_err(write_err)?;
        tx.done().await.map_err(write_err)?;
        Ok(())
    }

    pub fn close(self) {
        self.db.close();
    }
}

/// One change to the outbox store (records already encoded).
enum OutboxChange {
    /// New writes; one already stored fails the whole change.
    Add(Vec<JsValue>),
    /// Writes replaced (or added).
    Put(Vec<JsValue>),
    /// Writes removed, by id.
    Delete(Vec<String>),
}

/// The outbox side of the user's database. Every change is ONE transaction, together with
/// the cache records that go with it: if any part fails, none is kept.
impl IdbStore {
    /// The queued write and its optimistic cache records.
    pub async fn enqueue<R: serde::Serialize>(
        &self,
        record: &R,
        queries: &[PersistedQuery],
    ) -> Result<(), StoreError> {
        self.change_outbox(
            OutboxChange::Add(vec![self.seal_write(record).await?]),
            queries,
        )
        .await
    }

    /// Replaces a queued write and its optimistic records.
    pub async fn amend<R: serde::Serialize>(
        &self,
        record: &R,
        queries: &[PersistedQuery],
    ) -> Result<(), StoreError> {
        self.change_outbox(
            OutboxChange::Put(vec![self.seal_write(record).await?]),
            queries,
        )
        .await
    }

    /// Drops a queued write that never left the device and puts the cache records that no
    /// longer show it.
    pub async fn withdraw(&self, id: &str, queries: &[PersistedQuery]) -> Result<(), StoreError> {
        self.change_outbox(OutboxChange::Delete(vec![id.to_string()]), queries)
            .await
    }

    /// Every outbox record: those `decode` reads, and the raw JSON and error of those it
    /// does not (never dropped: the caller shows them).
    pub async fn outbox_all<R>(
        &self,
        decode: impl Fn(serde_json::Value) -> Result<R, String>,
    ) -> Result<(Vec<R>, Vec<(String, String)>), StoreError> {
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE], TransactionMode::ReadOnly)
            .map_err(read_err)?;
        let values = tx
            .store(OUTBOX_STORE)
            .map_err(read_err)?
            .get_all(None, None)
            .await
            .map_err(read_err)?;
        tx.done().await.map_err(read_err)?;
        let (mut read, mut unreadable, mut unsealed) = (Vec::new(), Vec::new(), Vec::new());
        for v in values {
            let stored = serde_wasm_bindgen::from_value::<Value>(v.clone());
            let sealed = stored
                .as_ref()
                .ok()
                .and_then(|s| Some((s.get("id")?.as_str()?, s.get("sealed")?.as_str()?)));
            let json = match sealed {
                Some((id, sealed)) => {
                    match self
                        .keys
                        .open_text(&record_aad(OUTBOX_STORE, id), sealed)
                        .await
                    {
                        Ok(text) => serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()),
                        Err(e) => {
                            // Kept, and listed for its owner (it is their database).
                            let raw = serde_json::json!({
                                "id": id, "userId": self.user_id, "sealed": sealed,
                            });
                            unreadable.push((raw.to_string(), e.to_string()));
                            continue;
                        }
                    }
                }
                None => {
                    // Written before the vault: read in clear this once, then sealed.
                    let plain = stored.map_err(|e| e.to_string());
                    if let Ok(p) = &plain {
                        unsealed.push(p.clone());
                    }
                    plain
                }
            };
            match json.clone().and_then(&decode) {
                Ok(r) => read.push(r),
                Err(e) => {
                    let raw = match json {
                        Ok(j) => j.to_string(),
                        Err(_) => js_sys::JSON::stringify(&v)
                            .ok()
                            .and_then(|s| s.as_string())
                            .unwrap_or_default(),
                    };
                    unreadable.push((raw, e));
                }
            }
        }
        if !unsealed.is_empty() {
            if let Err(e) = self.outbox_put_all(&unsealed).await {
                leptos::logging::warn!("sealing writes saved before the vault failed: {e}");
            }
        }
        Ok((read, unreadable))
    }

    /// Adds writes (a restored backup): all are kept or none; a write already in the store
    /// fails the whole add.
    pub async fn outbox_add_all<R: serde::Serialize>(
        &self,
        records: &[R],
    ) -> Result<(), StoreError> {
        let values = self.seal_writes(records).await?;
        self.change_outbox(OutboxChange::Add(values), &[]).await
    }

    /// Replaces several writes (a push's leases, or its outcomes).
    pub async fn outbox_put_all<R: serde::Serialize>(
        &self,
        records: &[R],
    ) -> Result<(), StoreError> {
        let values = self.seal_writes(records).await?;
        self.change_outbox(OutboxChange::Put(values), &[]).await
    }

    pub async fn outbox_put<R: serde::Serialize>(&self, record: &R) -> Result<(), StoreError> {
        self.change_outbox(OutboxChange::Put(vec![self.seal_write(record).await?]), &[])
            .await
    }

    pub async fn outbox_delete(&self, id: &str) -> Result<(), StoreError> {
        self.outbox_delete_all(&[id.to_string()]).await
    }

    pub async fn outbox_delete_all(&self, ids: &[String]) -> Result<(), StoreError> {
        self.change_outbox(OutboxChange::Delete(ids.to_vec()), &[])
            .await
    }

    async fn change_outbox(
        &self,
        change: OutboxChange,
        queries: &[PersistedQuery],
    ) -> Result<(), StoreError> {
        let empty = match &change {
            OutboxChange::Add(v) | OutboxChange::Put(v) => v.is_empty(),
            OutboxChange::Delete(ids) => ids.is_empty(),
        };
        if empty && queries.is_empty() {
            return Ok(());
        }
        // Everything is encoded before the transaction opens, so an encoding error never
        // leaves half a change committed.
        let mut cached = Vec::with_capacity(queries.len());
        for q in queries {
            cached.push(self.seal_query(q).await?);
        }
        let stores: &[&str] = if cached.is_empty() {
            &[OUTBOX_STORE]
        } else {
            &[OUTBOX_STORE, QUERIES_STORE]
        };
        let tx = self
            .db
            .transaction(stores, TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let result = async {
            let outbox = tx.store(OUTBOX_STORE).map_err(write_err)?;
            match &change {
                OutboxChange::Add(values) => {
                    for v in values {
                        outbox.add(v, None).await.map_err(write_err)?;
                    }
                }
                OutboxChange::Put(values) => {
                    for v in values {
                        outbox.put(v, None).await.map_err(write_err)?;
                    }
                }
                OutboxChange::Delete(ids) => {
                    for id in ids {
                        outbox
                            .delete(JsValue::from_str(id))
                            .await
                            .map_err(write_err)?;
                    }
                }
            }
            if !cached.is_empty() {
                let cache = tx.store(QUERIES_STORE).map_err(write_err)?;
                for v in &cached {
                    cache.put(v, None).await.map_err(write_err)?;
                }
            }
            Ok::<(), StoreError>(())
        }
        .await;
        match result {
            Ok(()) => tx.done().await.map(|_| ()).map_err(write_err),
            Err(e) => {
                let _ = tx.abort().await;
                Err(e)
            }
        }
    }
}

/// Values this device keeps for the user outside the cache and the outbox (questionnaire
/// drafts, code favourites), sealed like everything else.
impl IdbStore {
    pub async fn local_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let id = self.keys.lookup_id(key).await.map_err(vault_err)?;
        let tx = self
            .db
            .transaction(&[LOCAL_STORE], TransactionMode::ReadOnly)
            .map_err(read_err)?;
        let value = tx
            .store(LOCAL_STORE)
            .map_err(read_err)?
            .get(JsValue::from_str(&id))
            .await
            .map_err(read_err)?;
        tx.done().await.map_err(read_err)?;
        let Some(sealed) = value
            .and_then(|v| serde_wasm_bindgen::from_value::<Value>(v).ok())
            .and_then(|v| v.get("sealed")?.as_str().map(str::to_string))
        else {
            return Ok(None);
        };
        let plain = self
            .keys
            .open_text(&record_aad(LOCAL_STORE, &id), &sealed)
            .await
            .map_err(vault_err)?;
        Ok(plain
            .split_once('\n')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string()))
    }

    pub async fn local_put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let id = self.keys.lookup_id(key).await.map_err(vault_err)?;
        let sealed = self
            .keys
            .seal_text(&record_aad(LOCAL_STORE, &id), &format!("{key}\n{value}"))
            .await
            .map_err(vault_err)?;
        let record = to_js(&serde_json::json!({ "key": id, "sealed": sealed }))?;
        let tx = self
            .db
            .transaction(&[LOCAL_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        tx.store(LOCAL_STORE)
            .map_err(write_err)?
            .put(&record, None)
            .await
            .map_err(write_err)?;
        tx.done().await.map_err(write_err)?;
        Ok(())
    }

    pub async fn local_delete(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            ids.push(self.keys.lookup_id(key).await.map_err(vault_err)?);
        }
        let tx = self
            .db
            .transaction(&[LOCAL_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let store = tx.store(LOCAL_STORE).map_err(write_err)?;
        for id in ids {
            store
                .delete(JsValue::from_str(&id))
                .await
                .map_err(write_err)?;
        }
        tx.done().await.map_err(write_err)?;
        Ok(())
    }

    /// Every key kept, opened (the ids alone do not say what they are).
    pub async fn local_keys(&self) -> Result<Vec<String>, StoreError> {
        let tx = self
            .db
            .transaction(&[LOCAL_STORE], TransactionMode::ReadOnly)
            .map_err(read_err)?;
        let values = tx
            .store(LOCAL_STORE)
            .map_err(read_err)?
            .get_all(None, None)
            .await
            .map_err(read_err)?;
        tx.done().await.map_err(read_err)?;
        let mut keys = Vec::new();
        for v in values {
            let Ok(v) = serde_wasm_bindgen::from_value::<Value>(v) else {
                continue;
            };
            let (Some(id), Some(sealed)) = (
                v.get("key").and_then(Value::as_str),
                v.get("sealed").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Ok(plain) = self
                .keys
                .open_text(&record_aad(LOCAL_STORE, id), sealed)
                .await
            {
                if let Some((key, _)) = plain.split_once('\n') {
                    keys.push(key.to_string());
                }
            }
        }
        Ok(keys)
    }
}

/// Plain JS objects (not `Map`s), so key paths resolve.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, StoreError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StoreError::Codec(e.to_string()))
}
