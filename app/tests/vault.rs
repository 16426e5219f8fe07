//! The vault in headless Chromium: what reaches IndexedDB is sealed (no patient name or
//! phone in the raw database), one user's key opens nothing of another's, a wrong
//! password does not unlock, and a password changed in CARE re-wraps through the escrow.
#![cfg(all(target_arch = "wasm32", feature = "hydrate"))]

use app::offline::{
    query::QueryKey,
    store::{idb::IdbStore, PersistedQuery, PlainJson, LOCAL_STORE, OUTBOX_STORE, QUERIES_STORE},
    vault::{crypto::DataKeys, envelope::record_aad, unlock, VaultError},
};
use rexie::{Rexie, TransactionMode};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NAME: &str = "Lakshmi Venkataraman";
const PHONE: &str = "+919876501234";

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// Everything in a store, as the browser keeps it, as text.
async fn raw_text(user: &str, store: &str) -> String {
    let db = Rexie::builder(&app::offline::store::database_name(user))
        .build()
        .await
        .expect("raw open");
    let tx = db
        .transaction(&[store], TransactionMode::ReadOnly)
        .expect("tx");
    let all = tx
        .store(store)
        .expect("store")
        .get_all(None, None)
        .await
        .expect("all");
    tx.done().await.expect("done");
    db.close();
    all.iter()
        .map(|v| {
            js_sys::JSON::stringify(v)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[wasm_bindgen_test]
async fn nothing_of_a_patient_reaches_the_database_in_clear() {
    let user = unique("nurse");
    let keys = unlock::at_sign_in(&user, "pw-one", None)
        .await
        .expect("vault");
    let store = IdbStore::open(&user, keys.clone()).await.expect("open");
    // A cached phone search, a queued registration and a draft.
    let key = QueryKey::new(["patient", "search", PHONE]);
    let cached = PersistedQuery::encode(
        &PlainJson,
        &key,
        &json!({"results": [{"name": NAME, "phone_number": PHONE}]}),
        js_sys::Date::now() as i64,
    )
    .expect("encode");
    store.write(&[cached], &[]).await.expect("write");
    let write =
        json!({"id": "w-1", "userId": user, "payload": {"name": NAME, "phone_number": PHONE}});
    store.enqueue(&write, &[]).await.expect("enqueue");
    store
        .local_put("care_offline_draft:x", &format!("{{\"name\":\"{NAME}\"}}"))
        .await
        .expect("draft");
    for s in [QUERIES_STORE, OUTBOX_STORE, LOCAL_STORE] {
        let raw = raw_text(&user, s).await;
        assert!(!raw.is_empty(), "{s} holds a record");
        for secret in [NAME, PHONE, "Lakshmi", "9876501234", "patient"] {
            assert!(!raw.contains(secret), "{s} shows {secret:?}: {raw}");
        }
    }
    // And everything reads back through the store.
    let restored = store.load_all().await.expect("load");
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].key, key.hash());
    assert!(restored[0].payload.contains(NAME));
    let (writes, unreadable) = store.outbox_all(Ok::<_, String>).await.expect("outbox");
    assert!(unreadable.is_empty());
    assert_eq!(writes[0]["payload"]["name"], NAME);
    assert_eq!(
        store.local_get("care_offline_draft:x").await.expect("get"),
        Some(format!("{{\"name\":\"{NAME}\"}}"))
    );
    assert_eq!(
        store.local_keys().await.expect("keys"),
        ["care_offline_draft:x"]
    );
}

#[wasm_bindgen_test]
async fn one_users_key_opens_nothing_of_anothers() {
    let (a, b) = (unique("a"), unique("b"));
    let keys_a = unlock::at_sign_in(&a, "same-password", None)
        .await
        .expect("a");
    let keys_b = unlock::at_sign_in(&b, "same-password", None)
        .await
        .expect("b");
    let aad = record_aad(OUTBOX_STORE, "w");
    let sealed = keys_a.seal_text(&aad, NAME).await.expect("seal");
    assert_eq!(keys_a.open_text(&aad, &sealed).await.expect("open"), NAME);
    assert_eq!(
        keys_b.open_text(&aad, &sealed).await,
        Err(VaultError::WrongKey),
        "same password, another user: another key"
    );
    // Moved to another record's place, it does not open either.
    assert_eq!(
        keys_a
            .open_text(&record_aad(OUTBOX_STORE, "other"), &sealed)
            .await,
        Err(VaultError::WrongKey)
    );
    // Two seals of the same text differ (a fresh IV each time).
    assert_ne!(keys_a.seal_text(&aad, NAME).await.expect("again"), sealed);
    // B's database opened with B's keys shows none of A's writes.
    let store_a = IdbStore::open(&a, keys_a).await.expect("open a");
    store_a
        .enqueue(&json!({"id": "w-a", "userId": a}), &[])
        .await
        .expect("enqueue");
    store_a.close();
    let store_a_with_b = IdbStore::open(&a, keys_b)
        .await
        .expect("open a with b's keys");
    let (read, unreadable) = store_a_with_b
        .outbox_all(Ok::<_, String>)
        .await
        .expect("outbox");
    assert!(read.is_empty(), "nothing opened");
    assert_eq!(unreadable.len(), 1, "kept and listed, never dropped");
    assert!(
        unreadable[0].1.contains("does not open"),
        "{}",
        unreadable[0].1
    );
}

#[wasm_bindgen_test]
async fn only_the_right_password_unlocks() {
    let user = unique("doctor");
    let keys = unlock::at_sign_in(&user, "correct horse", None)
        .await
        .expect("create");
    let aad = record_aad(QUERIES_STORE, "q");
    let sealed = keys.seal_text(&aad, PHONE).await.expect("seal");
    assert_eq!(
        unlock::with_password(&user, "Correct horse").await.err(),
        Some(VaultError::WrongKey)
    );
    assert_eq!(
        unlock::with_password(&user, "").await.err(),
        Some(VaultError::WrongKey)
    );
    let again = unlock::with_password(&user, "correct horse")
        .await
        .expect("offline unlock");
    assert_eq!(again.open_text(&aad, &sealed).await.expect("open"), PHONE);
    assert_eq!(
        unlock::with_password(&unique("stranger"), "correct horse")
            .await
            .err(),
        Some(VaultError::NoVault)
    );
}

#[wasm_bindgen_test]
async fn a_password_changed_in_care_rewraps_through_the_escrow() {
    let user = unique("changed");
    let escrow = [7u8; 32];
    let keys = unlock::at_sign_in(&user, "old password", Some(&escrow))
        .await
        .expect("create");
    let aad = record_aad(OUTBOX_STORE, "w");
    let sealed = keys.seal_text(&aad, NAME).await.expect("seal");
    // Without the escrow a new password cannot open it (nothing is replaced or lost).
    assert_eq!(
        unlock::at_sign_in(&user, "new password", None).await.err(),
        Some(VaultError::PasswordChanged)
    );
    assert_eq!(
        unlock::at_sign_in(&user, "new password", Some(&[8u8; 32]))
            .await
            .err(),
        Some(VaultError::PasswordChanged),
        "another server's escrow does not open it"
    );
    let rewrapped = unlock::at_sign_in(&user, "new password", Some(&escrow))
        .await
        .expect("re-wrapped");
    assert_eq!(
        rewrapped.open_text(&aad, &sealed).await.expect("open"),
        NAME
    );
    // From now on the new password unlocks offline, the old one does not.
    assert!(unlock::with_password(&user, "new password").await.is_ok());
    assert_eq!(
        unlock::with_password(&user, "old password").await.err(),
        Some(VaultError::WrongKey)
    );
}

#[wasm_bindgen_test]
async fn records_saved_before_the_vault_are_sealed_when_first_read() {
    let user = unique("upgraded");
    let keys = DataKeys::from_secret(&[3u8; 32]).await.expect("keys");
    // Open once so the database exists with its stores, then write in clear as an older
    // version did.
    IdbStore::open(&user, keys.clone())
        .await
        .expect("open")
        .close();
    let db = Rexie::builder(&app::offline::store::database_name(&user))
        .build()
        .await
        .expect("raw");
    let tx = db
        .transaction(&[OUTBOX_STORE], TransactionMode::ReadWrite)
        .expect("tx");
    let plain = js_sys::JSON::parse(&format!(
        r#"{{"id":"old-1","userId":"{user}","payload":{{"name":"{NAME}"}}}}"#
    ))
    .expect("json");
    tx.store(OUTBOX_STORE)
        .expect("store")
        .put(&plain, None)
        .await
        .expect("put");
    tx.done().await.expect("done");
    db.close();
    let store = IdbStore::open(&user, keys).await.expect("open");
    let (read, _) = store.outbox_all(Ok::<_, String>).await.expect("outbox");
    assert_eq!(read[0]["payload"]["name"], NAME, "read as it was");
    let raw = raw_text(&user, OUTBOX_STORE).await;
    assert!(!raw.contains(NAME), "and now sealed: {raw}");
    assert!(raw.contains("old-1"), "under the same id");
}
