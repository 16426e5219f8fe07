//! The proxy's idempotency store, the same behaviour on both implementations: SQLite (one
//! server) and PostgreSQL (several replicas, a private cluster started for the test).

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
