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

/// The outbox side of the user's database.
impl IdbStore {
    /// The queued write and its optimistic cache records, in ONE transaction: if any part
    /// fails, none is kept.
    pub async fn enqueue<R: serde::Serialize>(
        &self,
        record: &R,
        queries: &[PersistedQuery],
    ) -> Result<(), StoreError> {
        self.write_with_queries(record, queries, false).await
    }

    /// Replaces a queued write and its optimistic records, in one transaction.
    pub async fn amend<R: serde::Serialize>(
        &self,
        record: &R,
        queries: &[PersistedQuery],
    ) -> Result<(), StoreError> {
        self.write_with_queries(record, queries, true).await
    }

    async fn write_with_queries<R: serde::Serialize>(
        &self,
        record: &R,
        queries: &[PersistedQuery],
        replace: bool,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE, QUERIES_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let outbox = tx.store(OUTBOX_STORE).map_err(write_err)?;
        let cache = tx.store(QUERIES_STORE).map_err(write_err)?;
        let value = to_js(record)?;
        let written = if replace {
            outbox.put(&value, None).await
        } else {
            outbox.add(&value, None).await
        };
        let mut result = written.map(|_| ()).map_err(write_err);
        if result.is_ok() {
            for q in queries {
                let v = to_js(q)?;
                if let Err(e) = cache.put(&v, None).await {
                    result = Err(write_err(e));
                    break;
                }
            }
        }
        match result {
            Ok(()) => tx.done().await.map(|_| ()).map_err(write_err),
            Err(e) => {
                let _ = tx.abort().await;
                Err(e)
            }
        }
    }

    /// Drops a queued write that never left the device and puts the cache records that no
    /// longer show it, in ONE transaction: a failure keeps both as they were.
    pub async fn withdraw(&self, id: &str, queries: &[PersistedQuery]) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE, QUERIES_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let outbox = tx.store(OUTBOX_STORE).map_err(write_err)?;
        let cache = tx.store(QUERIES_STORE).map_err(write_err)?;
        let mut result = outbox
            .delete(JsValue::from_str(id))
            .await
            .map_err(write_err);
        if result.is_ok() {
            for q in queries {
                let v = to_js(q)?;
                if let Err(e) = cache.put(&v, None).await {
                    result = Err(write_err(e));
                    break;
                }
            }
        }
        match result {
            Ok(()) => tx.done().await.map(|_| ()).map_err(write_err),
            Err(e) => {
                let _ = tx.abort().await;
                Err(e)
            }
        }
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

    /// Adds writes (a restored backup) in ONE transaction: all are kept or none. A write
    /// already in the store fails the whole add.
    pub async fn outbox_add_all<R: serde::Serialize>(
        &self,
        records: &[R],
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let store = tx.store(OUTBOX_STORE).map_err(write_err)?;
        for record in records {
            let value = to_js(record)?;
            if let Err(e) = store.add(&value, None).await {
                let _ = tx.abort().await;
                return Err(write_err(e));
            }
        }
        tx.done().await.map(|_| ()).map_err(write_err)
    }

    /// Replaces several writes in ONE transaction (a push's leases, or its outcomes).
    pub async fn outbox_put_all<R: serde::Serialize>(
        &self,
        records: &[R],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        let store = tx.store(OUTBOX_STORE).map_err(write_err)?;
        for record in records {
            let value = to_js(record)?;
            if let Err(e) = store.put(&value, None).await {
                let _ = tx.abort().await;
                return Err(write_err(e));
            }
        }
        tx.done().await.map(|_| ()).map_err(write_err)
    }

    pub async fn outbox_put<R: serde::Serialize>(&self, record: &R) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        tx.store(OUTBOX_STORE)
            .map_err(write_err)?
            .put(&to_js(record)?, None)
            .await
            .map_err(write_err)?;
        tx.done().await.map(|_| ()).map_err(write_err)
    }

    pub async fn outbox_delete(&self, id: &str) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[OUTBOX_STORE], TransactionMode::ReadWrite)
            .map_err(write_err)?;
        tx.store(OUTBOX_STORE)
            .map_err(write_err)?
            .delete(JsValue::from_str(id))
            .await
            .map_err(write_err)?;
        tx.done().await.map(|_| ()).map_err(write_err)
    }
}

/// Plain JS objects (not `Map`s), so key paths resolve.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, StoreError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StoreError::Codec(e.to_string()))
}
