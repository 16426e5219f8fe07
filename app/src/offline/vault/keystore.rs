//! Where the vault keeps its keys in the browser: the `care-offline-vault` database with
//! `keys` (each user's wrapped secret, which only their password or the server's escrow
//! opens) and `unlocked` (the open vault's non-extractable keys, so a reload or another
//! tab stays open; removed when the vault locks or the user signs out). Browser only.

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::{crypto::DataKeys, envelope::KeyRecord, VaultError};

const DB: &str = "care-offline-vault";
const DB_VERSION: u32 = 1;
const KEYS: &str = "keys";
const UNLOCKED: &str = "unlocked";

fn err(e: impl std::fmt::Display) -> VaultError {
    VaultError::Unavailable(e.to_string())
}

async fn db() -> Result<Rexie, VaultError> {
    Rexie::builder(DB)
        .version(DB_VERSION)
        .add_object_store(ObjectStore::new(KEYS).key_path("user"))
        .add_object_store(ObjectStore::new(UNLOCKED).key_path("user"))
        .build()
        .await
        .map_err(err)
}

async fn get(store: &str, user: &str) -> Result<Option<JsValue>, VaultError> {
    let db = db().await?;
    let result = async {
        let tx = db
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(err)?;
        let value = tx
            .store(store)
            .map_err(err)?
            .get(JsValue::from_str(user))
            .await
            .map_err(err)?;
        tx.done().await.map_err(err)?;
        Ok(value.filter(|v| !v.is_undefined() && !v.is_null()))
    }
    .await;
    db.close();
    result
}

async fn put(store: &str, value: &JsValue) -> Result<(), VaultError> {
    let db = db().await?;
    let result = async {
        let tx = db
            .transaction(&[store], TransactionMode::ReadWrite)
            .map_err(err)?;
        tx.store(store)
            .map_err(err)?
            .put(value, None)
            .await
            .map_err(err)?;
        tx.done().await.map_err(err)?;
        Ok(())
    }
    .await;
    db.close();
    result
}

pub async fn key_record(user: &str) -> Result<Option<KeyRecord>, VaultError> {
    match get(KEYS, user).await? {
        None => Ok(None),
        Some(v) => serde_wasm_bindgen::from_value(v)
            .map(Some)
            .map_err(|e| VaultError::Damaged(e.to_string())),
    }
}

pub async fn put_key_record(record: &KeyRecord) -> Result<(), VaultError> {
    let value = record
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| VaultError::Damaged(e.to_string()))?;
    put(KEYS, &value).await
}

/// Keeps the open vault's keys for this device's other tabs and the next reload.
pub async fn put_unlocked(user: &str, keys: &DataKeys) -> Result<(), VaultError> {
    let value = js_sys::Object::new();
    for (k, v) in [
        ("user", JsValue::from_str(user)),
        ("records", keys.records.clone().into()),
        ("lookup", keys.lookup.clone().into()),
    ] {
        let _ = js_sys::Reflect::set(&value, &JsValue::from_str(k), &v);
    }
    put(UNLOCKED, &value).await
}

pub async fn unlocked(user: &str) -> Result<Option<DataKeys>, VaultError> {
    let Some(value) = get(UNLOCKED, user).await? else {
        return Ok(None);
    };
    let field = |name: &str| js_sys::Reflect::get(&value, &JsValue::from_str(name)).ok();
    Ok(match (field("records"), field("lookup")) {
        (Some(r), Some(l)) => DataKeys::from_js(r, l),
        _ => None,
    })
}

/// Locks `user`'s vault on this device (every tab), or every user's with `None`.
pub async fn forget_unlocked(user: Option<&str>) -> Result<(), VaultError> {
    let db = db().await?;
    let result = async {
        let tx = db
            .transaction(&[UNLOCKED], TransactionMode::ReadWrite)
            .map_err(err)?;
        let store = tx.store(UNLOCKED).map_err(err)?;
        match user {
            Some(u) => store.delete(JsValue::from_str(u)).await.map_err(err)?,
            None => store.clear().await.map_err(err)?,
        }
        tx.done().await.map_err(err)?;
        Ok(())
    }
    .await;
    db.close();
    result
}
