//! The `reset_demo` command: deletes the demo database and seeds a fresh one.

mod common;

use serde_json::json;

#[tokio::test]
async fn reset_demo_drops_changes_and_reseeds() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (_, before) = s.get("/api/v1/patient/", Some(&token)).await;
    let seeded = before["count"].clone();
    s.patient_with_encounter(&token, "+919800000601").await;
    let (_, after) = s.get("/api/v1/patient/", Some(&token)).await;
    assert_ne!(after["count"], seeded);

    let common::TestServer { data, task, .. } = s;
    drop(task);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reset_demo"))
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .expect("run reset_demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo database reset"));

    let s = common::start_in(data, &[]).await;
    // Old tokens are signed with the old secret: log in again.
    let (status, _) = s.get("/api/v1/patient/", Some(&token)).await;
    assert_eq!(status, 403);
    let (token, _) = s.login("care-doctor").await;
    let (_, fresh) = s.get("/api/v1/patient/", Some(&token)).await;
    assert_eq!(fresh["count"], seeded);
    let (_, list) = s
        .get("/api/v1/patient/?name=Clinical Patient", Some(&token))
        .await;
    assert_eq!(list["count"], json!(0));
}

#[test]
fn reset_demo_creates_a_database_in_an_empty_directory() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("nested");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reset_demo"))
        .arg("--data-dir")
        .arg(&target)
        .output()
        .expect("run reset_demo");
    assert!(out.status.success());
    assert!(target.join("care.sqlite3").exists());
}
