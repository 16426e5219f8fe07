//! The user's IndexedDB database through rexie. Browser only.

use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::JsValue;

use super::{database_name, PersistedQuery, StoreError, OUTBOX_STORE, QUERIES_STORE};

/// Version 1 creates both stores, so the outbox (a later issue) needs no upgrade dance.
const DB_VERSION: u32 = 1;

pub struct IdbStore {
    db: Rexie,
    /// Closed with the store (on drop).
    _watch: Option<super::version_watch::VersionWatch>,
}

fn read_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Read(e.to_string())
}

fn write_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Write(e.to_string())
}

impl IdbStore {
    pub async fn open(user_id: &str) -> Result<Self, StoreError> {
        let db = Rexie::builder(&database_name(user_id))
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(QUERIES_STORE).key_path("key"))
            .add_object_store(ObjectStore::new(OUTBOX_STORE).key_path("id"))
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
        Ok(Self { db, _watch: watch })
    }

    pub async fn load_all(&self) -> Result<Vec<PersistedQuery>, StoreError> {
        let tx = self
            .db
            .transaction(&[QUERIES_STORE], TransactionMode::ReadOnly)
            .map_err(read_err)?;
        let store = tx.store(QUERIES_STORE).map_err(read_err)?;
        let values = store.get_all(None, None).await.map_err(read_err)?;
        tx.done().await.map_err(read_err)?;
        // A record that does not even deserialise is skipped here and dropped by its key
        // on the next write of that query; it is never shown.
        Ok(values
            .into_iter()
            .filter_map(|v| serde_wasm_bindgen::from_value::<PersistedQuery>(v).ok())
            .collect())
    }

    /// Writes and deletes in one transaction (batched by the client).
    pub async fn write(
        &self,
        puts: &[PersistedQuery],
        deletes: &[String],
    ) -> Result<(), StoreError> {
        if puts.is_empty() && deletes.is_empty() {
            return Ok(());
        }
        let tx = self
            .db
            .transaction(&[QUERIES_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let store = tx.store(QUERIES_STORE).map_err(write_err)?;
        for record in puts {
            let value = to_js(record)?;
            store.put(&value, None).await.map_err(write_err)?;
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
        self.change_outbox(OutboxChange::Add(vec![to_js(record)?]), queries)
            .await
    }

    /// Replaces a queued write and its optimistic records.
    pub async fn amend<R: serde::Serialize>(
        &self,
        record: &R,
        queries: &[PersistedQuery],
    ) -> Result<(), StoreError> {
        self.change_outbox(OutboxChange::Put(vec![to_js(record)?]), queries)
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
        let (mut read, mut unreadable) = (Vec::new(), Vec::new());
        for v in values {
            let decoded = serde_wasm_bindgen::from_value::<serde_json::Value>(v.clone())
                .map_err(|e| e.to_string())
                .and_then(&decode);
            match decoded {
                Ok(r) => read.push(r),
                Err(e) => {
                    let raw = js_sys::JSON::stringify(&v)
                        .ok()
                        .and_then(|s| s.as_string())
                        .unwrap_or_default();
                    unreadable.push((raw, e));
                }
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
        let values = records.iter().map(to_js).collect::<Result<_, _>>()?;
        self.change_outbox(OutboxChange::Add(values), &[]).await
    }

    /// Replaces several writes (a push's leases, or its outcomes).
    pub async fn outbox_put_all<R: serde::Serialize>(
        &self,
        records: &[R],
    ) -> Result<(), StoreError> {
        let values = records.iter().map(to_js).collect::<Result<_, _>>()?;
        self.change_outbox(OutboxChange::Put(values), &[]).await
    }

    pub async fn outbox_put<R: serde::Serialize>(&self, record: &R) -> Result<(), StoreError> {
        self.change_outbox(OutboxChange::Put(vec![to_js(record)?]), &[])
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
        let cached = queries.iter().map(to_js).collect::<Result<Vec<_>, _>>()?;
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

/// Plain JS objects (not `Map`s), so key paths resolve.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, StoreError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StoreError::Codec(e.to_string()))
}
