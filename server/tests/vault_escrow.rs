//! The vault escrow key rides on a successful sign-in only: built-in backend and proxy.

mod common;

use serde_json::{json, Value};

async fn login(base: &str, username: &str, password: &str) -> (u16, Value) {
    let resp = common::client()
        .post(format!("{base}/api/v1/auth/login/"))
        .header("accept-encoding", "gzip, br")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_sign_in_brings_the_users_escrow_and_a_failed_one_does_not() {
    let s = common::start(&[]).await;
    let (status, first) = login(&s.base, "care-nurse", "Ohcn@123").await;
    assert_eq!(status, 200);
    let escrow = first["care_offline_vault"]
        .as_str()
        .expect("escrow")
        .to_string();
    assert_eq!(escrow.len(), 43, "32 bytes, base64url");
    assert!(first["access"].is_string() && first["refresh"].is_string());
    let (_, again) = login(&s.base, "care-nurse", "Ohcn@123").await;
    assert_eq!(
        again["care_offline_vault"],
        escrow.as_str(),
        "stable per user"
    );
    let (_, doctor) = login(&s.base, "care-doctor", "Ohcn@123").await;
    assert_ne!(doctor["care_offline_vault"], escrow.as_str());
    let (status, refused) = login(&s.base, "care-nurse", "wrong").await;
    assert!(status >= 400);
    assert!(refused.get("care_offline_vault").is_none());
    let (status, unknown) = login(&s.base, "nobody-here", "Ohcn@123").await;
    assert!(status >= 400);
    assert!(unknown.get("care_offline_vault").is_none());
}

#[tokio::test]
async fn the_proxy_adds_its_own_escrow_to_cares_answer() {
    let care = common::start(&[]).await;
    let front = common::start(&["--upstream", &care.base]).await;
    let (status, direct) = login(&care.base, "care-doctor", "Ohcn@123").await;
    assert_eq!(status, 200);
    let (status, proxied) = login(&front.base, "care-doctor", "Ohcn@123").await;
    assert_eq!(status, 200);
    let escrow = proxied["care_offline_vault"].as_str().expect("escrow");
    assert_eq!(escrow.len(), 43);
    assert_ne!(
        direct["care_offline_vault"], escrow,
        "the server the device talks to decides (its own data dir)"
    );
    // The tokens are CARE's and work through the proxy.
    let access = proxied["access"].as_str().expect("access");
    let (status, me) = front
        .get("/api/v1/users/getcurrentuser/", Some(access))
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "care-doctor");
}
