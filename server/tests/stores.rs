//! The server's own state, the same behaviour on both implementations: SQLite (one server)
//! and PostgreSQL (several replicas, a private cluster started for the test) — the proxy's
//! idempotency store, seed 004's queue and the sync audit trail with its push ledger.

mod common;

use std::{sync::Arc, time::Duration};

use server::{
    pg::Pg,
    sync::{
        at_rest::AtRest,
        idempotency::{Begin, IdempotencyStore, Stored},
    },
};

fn key() -> AtRest {
    AtRest::new([7; 32])
}

fn answer(status: u16, body: &str) -> Stored {
    Stored {
        status,
        content_type: Some("application/json".into()),
        body: body.as_bytes().to_vec(),
    }
}

/// Both stores, each fresh. The PostgreSQL one keeps its cluster alive with it.
async fn stores() -> Vec<(&'static str, IdempotencyStore, Box<dyn std::any::Any>)> {
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite =
        IdempotencyStore::open_sqlite(&dir.path().join("i.sqlite3"), key()).expect("sqlite");
    let cluster = common::pg::PgCluster::start();
    let pg = Pg::connect(&cluster.url, None).await.expect("postgres");
    let postgres = IdempotencyStore::postgres(pg, key(), Duration::from_secs(600));
    vec![
        ("sqlite", sqlite, Box::new(dir)),
        ("postgres", postgres, Box::new(cluster)),
    ]
}

#[tokio::test]
async fn first_then_in_flight_then_replay_then_mismatch_per_user() {
    for (kind, s, _keep) in stores().await {
        assert_eq!(
            s.begin("u", "k", "fp").await.expect("begin"),
            Begin::Started,
            "{kind}"
        );
        assert_eq!(
            s.begin("u", "k", "fp").await.expect("begin"),
            Begin::InFlight,
            "{kind}"
        );
        let first = answer(201, r#"{"id":"p-1"}"#);
        s.finish("u", "k", &first).await.expect("finish");
        assert_eq!(
            s.begin("u", "k", "fp").await.expect("replay"),
            Begin::Replay(first),
            "{kind}"
        );
        assert_eq!(
            s.begin("u", "k", "other").await.expect("begin"),
            Begin::Mismatch,
            "{kind}"
        );
        assert_eq!(
            s.begin("someone-else", "k", "other").await.expect("begin"),
            Begin::Started,
            "{kind}: keys are per user"
        );
    }
}

#[tokio::test]
async fn server_errors_and_auth_failures_are_not_kept_and_a_late_answer_wins_over_unknown() {
    for (kind, s, _keep) in stores().await {
        for status in [500, 502, 401, 403] {
            let k = format!("k{status}");
            assert_eq!(s.begin("u", &k, "fp").await.expect("begin"), Begin::Started);
            s.finish("u", &k, &answer(status, "{}"))
                .await
                .expect("finish");
            assert_eq!(
                s.begin("u", &k, "fp").await.expect("begin"),
                Begin::Started,
                "{kind}: {status} may be retried"
            );
        }
        assert_eq!(
            s.begin("u", "lost", "fp").await.expect("begin"),
            Begin::Started
        );
        s.mark_unknown("u", "lost").await.expect("unknown");
        assert_eq!(
            s.begin("u", "lost", "fp").await.expect("begin"),
            Begin::Unknown,
            "{kind}"
        );
        let late = answer(201, r#"{"id":"late"}"#);
        s.finish("u", "lost", &late).await.expect("finish");
        assert_eq!(
            s.begin("u", "lost", "fp").await.expect("begin"),
            Begin::Replay(late),
            "{kind}"
        );
        // A write that never reached CARE frees its key.
        assert_eq!(
            s.begin("u", "free", "fp").await.expect("begin"),
            Begin::Started
        );
        s.abandon("u", "free").await.expect("abandon");
        assert_eq!(
            s.begin("u", "free", "fp").await.expect("begin"),
            Begin::Started,
            "{kind}"
        );
        let health = s.health().await;
        assert!(health.reachable, "{kind}");
        assert_eq!(health.kind, kind);
    }
}

#[tokio::test]
async fn one_key_claimed_by_many_at_once_is_started_exactly_once() {
    for (kind, s, _keep) in stores().await {
        let s = Arc::new(s);
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.begin("u", "same", "fp").await.expect("begin") })
            })
            .collect();
        let mut started = 0;
        for t in tasks {
            match t.await.expect("task") {
                Begin::Started => started += 1,
                Begin::InFlight => {}
                other => panic!("{kind}: {other:?}"),
            }
        }
        assert_eq!(started, 1, "{kind}");
    }
}

#[tokio::test]
async fn postgres_answers_are_sealed_and_a_claim_older_than_any_wait_is_unknown() {
    let cluster = common::pg::PgCluster::start();
    let pg = Pg::connect(&cluster.url, None).await.expect("postgres");
    let s = IdempotencyStore::postgres(pg.clone(), key(), Duration::from_secs(600));
    s.begin("u", "k", "fp").await.expect("begin");
    let body = r#"{"name":"Asha Kumari","phone_number":"+919800000001"}"#;
    s.finish("u", "k", &answer(200, body))
        .await
        .expect("finish");
    let client = pg.client().await.expect("client");
    let raw: Vec<u8> = client
        .query_one(
            "SELECT body FROM proxy_idempotency WHERE idem_key = 'k'",
            &[],
        )
        .await
        .expect("row")
        .get(0);
    assert!(
        !raw.windows(5).any(|w| w == b"Kumar"),
        "no name in the table"
    );
    assert!(
        !raw.windows(6).any(|w| w == b"980000"),
        "no phone in the table"
    );
    // Another server secret cannot read it: unknown, never forwarded again.
    let other =
        IdempotencyStore::postgres(pg.clone(), AtRest::new([8; 32]), Duration::from_secs(600));
    assert_eq!(
        other.begin("u", "k", "fp").await.expect("begin"),
        Begin::Unknown
    );

    // A replica stopped while CARE had a write: once no replica can still be waiting for
    // it, the key answers unknown on every replica.
    assert_eq!(
        s.begin("u", "cut", "fp").await.expect("begin"),
        Begin::Started
    );
    assert_eq!(
        s.begin("u", "cut", "fp").await.expect("begin"),
        Begin::InFlight
    );
    client
        .execute(
            "UPDATE proxy_idempotency SET claimed_at = claimed_at - 601 WHERE idem_key = 'cut'",
            &[],
        )
        .await
        .expect("age the claim");
    assert_eq!(
        s.begin("u", "cut", "fp").await.expect("begin"),
        Begin::Unknown
    );
    assert_eq!(
        other.begin("u", "cut", "fp").await.expect("begin"),
        Begin::Unknown
    );

    // A key past the retention is claimed afresh.
    client
        .execute(
            "UPDATE proxy_idempotency SET created_at = created_at - 400 * 86400 WHERE idem_key = 'k'",
            &[],
        )
        .await
        .expect("age the key");
    assert_eq!(
        s.begin("u", "k", "fp").await.expect("begin"),
        Begin::Started
    );

    // Migrations run once, whichever replica connects: a second connect changes nothing.
    let again = Pg::connect(&cluster.url, None)
        .await
        .expect("second replica");
    assert_eq!(again.version().await, Some(server::pg::latest_version()));
    let applied: i64 = client
        .query_one("SELECT count(*) FROM care_offline_schema", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(applied, i64::from(server::pg::latest_version()));

    // The store going away is visible to /health's check.
    cluster.stop();
    let health = s.health().await;
    assert!(!health.reachable);
    assert!(s.begin("u", "new", "fp").await.is_err());
}

/// Whether the session `client` talks over is encrypted (PostgreSQL's own view).
async fn encrypted(pg: &Pg) -> bool {
    let client = pg.client().await.expect("client");
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl")
        .get(0)
}

#[tokio::test]
async fn sslmode_require_is_tls_to_a_certificate_the_server_trusts() {
    let cluster = common::pg::PgCluster::start_tls();
    let ca = cluster.ca_file();
    let require = format!("{}?sslmode=require", cluster.url);

    // The store's CA given: encrypted, and the store works.
    let pg = Pg::connect(&require, Some(&ca)).await.expect("tls");
    assert!(encrypted(&pg).await, "the connection is TLS");
    assert_eq!(pg.version().await, Some(server::pg::latest_version()));

    // A certificate nobody vouched for is refused, not trusted because it is there.
    let err = match Pg::connect(&require, None).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a certificate from an unknown CA was accepted"),
    };
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // A CA file with nothing in it, or one without TLS asked for, is a clear error.
    let empty = tempfile::NamedTempFile::new().expect("tmp");
    let err = Pg::connect(&require, Some(empty.path()))
        .await
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("no PEM certificate")),
        "{err:?}"
    );
    let err = Pg::connect(&cluster.url, Some(&ca))
        .await
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("sslmode=require")),
        "{err:?}"
    );

    // A replica started with --store-ca reaches it the same way.
    let (upstream, _hits, _task) = common::upstream::counting_upstream().await;
    let secret = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(secret.path(), [9u8; 32]).expect("secret");
    let (secret, ca) = (secret.path().to_string_lossy(), ca.to_string_lossy());
    let replica = common::start(&[
        "--upstream",
        &upstream,
        "--store",
        &require,
        "--store-ca",
        &ca,
        "--secret-file",
        &secret,
    ])
    .await;
    let (status, health) = replica.get("/health", None).await;
    assert_eq!(
        (status, &health["store"]["reachable"]),
        (200, &serde_json::json!(true)),
        "{health}"
    );

    // Without sslmode=require nothing changes for a database on a private network.
    let plain = Pg::connect(&cluster.url, None).await.expect("plain");
    assert!(!encrypted(&plain).await);
}

/// A fresh queue and audit trail on each store. The PostgreSQL pair keeps its cluster alive.
async fn sync_stores() -> Vec<(
    &'static str,
    server::sync::queue::store::QueueStore,
    server::sync::audit::Audit,
    Box<dyn std::any::Any>,
)> {
    use server::sync::{audit::Audit, queue::store::QueueStore, store::SyncDb};
    let dir = tempfile::tempdir().expect("tmp");
    let db = SyncDb::open(&dir.path().join("sync.sqlite3")).expect("sqlite");
    let sqlite = (
        "sqlite",
        QueueStore::sqlite(db.clone(), 90),
        Audit::sqlite(db, 90).await.expect("audit"),
        Box::new(dir) as Box<dyn std::any::Any>,
    );
    let cluster = common::pg::PgCluster::start();
    let pg = Pg::connect(&cluster.url, None).await.expect("postgres");
    let postgres = (
        "postgres",
        QueueStore::postgres(pg.clone(), 90),
        Audit::postgres(pg, 90).await.expect("audit"),
        Box::new(cluster) as Box<dyn std::any::Any>,
    );
    vec![sqlite, postgres]
}

fn queued(id: &str, user: &str, device: &str) -> server::sync::queue::Item {
    use server::sync::apply::{Operation, Write};
    server::sync::queue::Item {
        id: id.into(),
        user_id: user.into(),
        username: user.into(),
        device_id: device.into(),
        write: Write {
            id: id.into(),
            operation: Operation::Create,
            resource_type: "patient".into(),
            method: axum::http::Method::POST,
            path: "/patient/".into(),
            record_path: "/patient/".into(),
            payload: Some(serde_json::json!({"name": "Queued Once"})),
            base_version: None,
        },
        resource_id: None,
        fingerprint: format!("fp-{id}"),
        version: Some(1),
        created_at_client: None,
        queued_at_ms: 1,
        status: "PENDING".into(),
        retry_count: 0,
        last_http_status: None,
        last_error: None,
        result_id: None,
        server_record: None,
        resolution: None,
        flagged_at_ms: None,
        flagged_by: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_claims_an_item_once_and_keeps_what_each_send_did() {
    use server::sync::queue::{
        store::{Claim, ClaimFrom, Listing, NewItem, Resolve, Settle},
        Item,
    };
    let ids = |items: Vec<Item>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    for (name, q, _, _keep) in sync_stores().await {
        let now = chrono::Utc::now().timestamp_millis();
        for (id, device) in [("a", "tab-1"), ("b", "tab-1"), ("c", "tab-2")] {
            let item = queued(id, "u1", device);
            assert!(
                q.insert(NewItem { item, now }).await.expect("insert"),
                "{name}"
            );
        }
        let again = NewItem {
            item: queued("a", "u1", "tab-1"),
            now,
        };
        assert!(
            !q.insert(again).await.expect("insert"),
            "{name}: an id is stored once"
        );
        let loaded = q.load("a").await.expect("load").expect("stored");
        let payload = Some(serde_json::json!({"name": "Queued Once"}));
        assert_eq!(loaded.write.payload, payload, "{name}");
        assert_eq!(
            (loaded.status.as_str(), loaded.version),
            ("PENDING", Some(1)),
            "{name}"
        );
        let tab1 = q
            .list("u1", Some("tab-1"), Listing::Unsynced)
            .await
            .expect("list");
        assert_eq!(ids(tab1), ["a", "b"], "{name}");
        let all = q.list("u1", None, Listing::Unsynced).await.expect("list");
        assert_eq!(ids(all), ["a", "b", "c"], "{name}");
        let other = q.list("u2", None, Listing::Unsynced).await.expect("list");
        assert!(other.is_empty(), "{name}");

        // Claimed once; a claim in progress is not claimable, nor listed for a retry.
        let a = q
            .claim("a", ClaimFrom::Unsent)
            .await
            .expect("claim")
            .expect("claimed");
        let twice = q.claim("a", ClaimFrom::Unsent).await.expect("claim");
        assert!(twice.is_none(), "{name}");
        let retryable = q.list("u1", None, Listing::Retryable).await.expect("list");
        assert_eq!(ids(retryable), ["b", "c"], "{name}");
        // A result under a claim that is not the item's current one is not written.
        let lost = Claim { at: a.at - 1 };
        let failed = Settle::Failed {
            retry_count: 1,
            http_status: 502,
            error: serde_json::json!({}),
        };
        assert!(
            !q.settle("a", lost, failed).await.expect("settle"),
            "{name}"
        );
        let synced = Settle::Synced {
            http_status: 200,
            result_id: Some("p-1".into()),
            resolution: None,
        };
        assert!(q.settle("a", a, synced).await.expect("settle"), "{name}");
        let a = q.load("a").await.expect("load").expect("a");
        assert_eq!(
            (a.status.as_str(), a.result_id.as_deref(), a.write.payload),
            ("SYNCED", Some("p-1"), None),
            "{name}: the payload goes once synced"
        );
        let done = q.claim("a", ClaimFrom::Unsent).await.expect("claim");
        assert!(done.is_none(), "{name}: a synced item is done");

        // No resolution while it is being sent; then a conflict, flagged once for review.
        let b = q
            .claim("b", ClaimFrom::Unsent)
            .await
            .expect("claim")
            .expect("claimed");
        assert!(
            !q.resolve("b", Resolve::Discard).await.expect("resolve"),
            "{name}"
        );
        let conflict = Settle::Conflict {
            server: serde_json::json!({"name": "Server"}),
        };
        assert!(q.settle("b", b, conflict).await.expect("settle"), "{name}");
        let flag = || Resolve::Flag {
            by: "care-admin".into(),
        };
        assert!(q.resolve("b", flag()).await.expect("resolve"), "{name}");
        assert!(
            !q.resolve("b", flag()).await.expect("resolve"),
            "{name}: once"
        );
        let flagged = q.flagged().await.expect("flagged");
        assert_eq!(flagged.len(), 1, "{name}");
        let server = Some(serde_json::json!({"name": "Server"}));
        assert_eq!(flagged[0].server_record, server, "{name}");
        assert_eq!(
            flagged[0].flagged_by.as_deref(),
            Some("care-admin"),
            "{name}"
        );
        let client_wins = q.claim("b", ClaimFrom::Unresolved).await.expect("claim");
        assert!(client_wins.is_some(), "{name}: CLIENT_WINS takes it");

        // A failure counts its retries and stays retryable.
        let c = q
            .claim("c", ClaimFrom::Unsent)
            .await
            .expect("claim")
            .expect("claimed");
        let failed = Settle::Failed {
            retry_count: 1,
            http_status: 400,
            error: serde_json::json!({"detail": "bad"}),
        };
        assert!(q.settle("c", c, failed).await.expect("settle"), "{name}");
        let c = q.load("c").await.expect("load").expect("c");
        assert_eq!(
            (c.status.as_str(), c.retry_count, c.last_http_status),
            ("FAILED", 1, Some(400)),
            "{name}"
        );
        let retryable = q.list("u1", None, Listing::Retryable).await.expect("list");
        assert_eq!(ids(retryable), ["c"], "{name}");

        // Settled items go after the retention; the rest stay.
        let later = now + 91 * 86_400_000;
        assert_eq!(q.prune(later).await.expect("prune"), 1, "{name}");
        assert!(q.load("a").await.expect("load").is_none(), "{name}");
        assert!(q.load("c").await.expect("load").is_some(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_counts_each_item_once_by_its_latest_outcome_and_the_ledger_remembers() {
    use server::sync::audit::{Counts, Entry};
    for (name, _, audit, _keep) in sync_stores().await {
        let entry = |item: &str, device: &str, outcome: &'static str| Entry {
            user_id: "u1".into(),
            username: "care-doctor".into(),
            device_id: Some(device.into()),
            kind: "push",
            item_id: Some(item.into()),
            route: Some("/api/v1/patient/?phone_number=+919".into()),
            outcome,
            ..Entry::default()
        };
        audit
            .record(&entry("i1", "tab-1", "failed"))
            .await
            .expect("record");
        audit
            .record(&entry("i1", "tab-1", "synced"))
            .await
            .expect("record");
        audit
            .record(&entry("i2", "tab-1", "conflict"))
            .await
            .expect("record");
        audit
            .record(&entry("i3", "tab-2", "queued"))
            .await
            .expect("record");
        let mut counts = Counts::default();
        for (_, _, _, outcome, n, _) in audit.latest_outcomes(Some("u1")).await.expect("outcomes") {
            counts.add(&outcome, n);
        }
        assert_eq!(
            (
                counts.total,
                counts.synced,
                counts.conflicts,
                counts.pending,
                counts.failed
            ),
            (3, 1, 1, 1, 0),
            "{name}"
        );
        assert!(
            audit
                .latest_outcomes(Some("u2"))
                .await
                .expect("outcomes")
                .is_empty(),
            "{name}"
        );
        let last = audit.last_activity().await.expect("last");
        assert_eq!(last.len(), 2, "{name}: {last:?}");

        assert_eq!(
            audit.ledger_get("u1", "i1").await.expect("get"),
            None,
            "{name}"
        );
        audit
            .ledger_put("u1", "i1", "fp-1", "failed")
            .await
            .expect("put");
        audit
            .ledger_put("u1", "i1", "fp-2", "synced")
            .await
            .expect("put");
        assert_eq!(
            audit.ledger_get("u1", "i1").await.expect("get").as_deref(),
            Some("fp-2"),
            "{name}"
        );
        assert_eq!(
            audit.ledger_get("u2", "i1").await.expect("get"),
            None,
            "{name}: per user"
        );
    }
}
