//! The IndexedDB persister in headless Chromium (wasm-bindgen-test-runner + chromedriver):
//! write, restore, expire, per-user separation, the outbox left alone, and the memory-only
//! fallback when the database cannot be opened.
#![cfg(all(target_arch = "wasm32", feature = "hydrate"))]

use app::offline::{
    query::{QueryClient, QueryKey},
    store::{idb::IdbStore, PersistedQuery, PlainJson, RestoreDecision, OUTBOX_STORE},
    vault::crypto::DataKeys,
};
use leptos::prelude::*;
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DAY: i64 = 86_400_000;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// The same keys for a user every time (a reopened database reads what was written).
async fn keys_of(user: &str) -> DataKeys {
    DataKeys::from_secret(user.as_bytes()).await.expect("keys")
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

#[wasm_bindgen_test]
async fn write_then_restore() {
    let user = unique("writer");
    let store = IdbStore::open(&user, keys_of(&user).await)
        .await
        .expect("open");
    let key = QueryKey::new(["patient", "detail", "p1"]);
    let rec =
        PersistedQuery::encode(&PlainJson, &key, &json!({"name": "Asha"}), now()).expect("encode");
    store.write(&[rec], &[]).await.expect("write");
    store.close();
    // A new connection (as after a reload) sees it.
    let store = IdbStore::open(&user, keys_of(&user).await)
        .await
        .expect("reopen");
    let all = store.load_all().await.expect("load");
    assert_eq!(all.len(), 1);
    match all[0].decide(&PlainJson, now(), DAY) {
        RestoreDecision::Keep(p) => assert_eq!(p.data["name"], "Asha"),
        other => panic!("expected keep, got {other:?}"),
    }
    store.write(&[], &[key.hash()]).await.expect("delete");
    assert!(store.load_all().await.expect("load").is_empty());
}

#[wasm_bindgen_test]
async fn expired_records_are_dropped_on_restore() {
    let user = unique("expire");
    let store = IdbStore::open(&user, keys_of(&user).await)
        .await
        .expect("open");
    let key = QueryKey::new(["facility", "f"]);
    let old = PersistedQuery::encode(&PlainJson, &key, &json!(1), now() - 8 * DAY).expect("encode");
    store.write(&[old], &[]).await.expect("write");
    let all = store.load_all().await.expect("load");
    assert_eq!(
        all[0].decide(&PlainJson, now(), 7 * DAY),
        RestoreDecision::Drop("older than max age")
    );
}

#[wasm_bindgen_test]
async fn users_do_not_share_a_database_and_clearing_spares_the_outbox() {
    let (a, b) = (unique("user-a"), unique("user-b"));
    let store_a = IdbStore::open(&a, keys_of(&a).await).await.expect("open a");
    let key = QueryKey::new(["patient", "list"]);
    let rec =
        PersistedQuery::encode(&PlainJson, &key, &json!({"count": 3}), now()).expect("encode");
    store_a.write(&[rec], &[]).await.expect("write");
    let store_b = IdbStore::open(&b, keys_of(&b).await).await.expect("open b");
    assert!(
        store_b.load_all().await.expect("load b").is_empty(),
        "b sees nothing of a"
    );
    store_a.close();

    // Put a pending write in a's outbox, then clear a's cache.
    let raw = Rexie::builder(&app::offline::store::database_name(&a))
        .build()
        .await
        .expect("raw open");
    let tx = raw
        .transaction(&[OUTBOX_STORE], TransactionMode::ReadWrite)
        .expect("tx");
    let item = js_sys::JSON::parse(r#"{"id": "w1", "payload": {}}"#).expect("js");
    tx.store(OUTBOX_STORE)
        .expect("store")
        .put(&item, None)
        .await
        .expect("put");
    tx.done().await.expect("done");
    raw.close();
    let store_a = IdbStore::open(&a, keys_of(&a).await)
        .await
        .expect("reopen a");
    store_a.clear_queries().await.expect("clear");
    assert!(store_a.load_all().await.expect("load").is_empty());
    store_a.close();
    let raw = Rexie::builder(&app::offline::store::database_name(&a))
        .build()
        .await
        .expect("raw open");
    let tx = raw
        .transaction(&[OUTBOX_STORE], TransactionMode::ReadOnly)
        .expect("tx");
    let kept = tx
        .store(OUTBOX_STORE)
        .expect("store")
        .get(JsValue::from_str("w1"))
        .await
        .expect("get");
    assert!(kept.is_some(), "the outbox survives clearing the cache");
}

#[wasm_bindgen_test]
async fn a_database_that_cannot_open_falls_back_to_memory_with_a_notice() {
    let user = unique("blocked");
    // A newer version on disk makes our open fail (VersionError).
    let newer = Rexie::builder(&app::offline::store::database_name(&user))
        .version(9)
        .add_object_store(ObjectStore::new("other"))
        .build()
        .await
        .expect("newer");
    newer.close();
    assert!(IdbStore::open(&user, keys_of(&user).await).await.is_err());

    let owner = Owner::new();
    owner.set();
    let client = app::offline::query::provide_query_client();
    client.switch_user(Some(user), false, false).await;
    assert!(untrack(|| client.restored()), "pages are not left waiting");
    assert!(
        untrack(|| client.storage_notice()).is_some(),
        "the user is told"
    );
    // The cache still works in memory.
    let key = QueryKey::new(["facility", "f"]);
    client.set_query_data(&key, json!({"name": "A"}), true);
    assert_eq!(client.get_query_data(&key), Some(json!({"name": "A"})));
    let _: QueryClient = client;
}
