//! Login, refresh, bad tokens and logout on the built-in backend, with CARE's exact bodies.

mod common;

use serde_json::json;

#[tokio::test]
async fn login_then_current_user() {
    let s = common::start(&[]).await;
    let (access, _) = s.login("care-doctor").await;
    let (status, me) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "care-doctor");
    assert_eq!(me["user_type"], "doctor");
    assert_eq!(me["facilities"].as_array().map(Vec::len), Some(1));
    assert_eq!(me["geo_organization"]["name"], "Kerala");
    assert_eq!(me["created_by"]["meta"], json!({}));
    let perms = me["permissions"].as_array().expect("permissions");
    assert!(perms.contains(&json!("can_write_patient")));
}

#[tokio::test]
async fn every_demo_user_can_log_in() {
    let s = common::start(&[]).await;
    for user in care_mimic::seed::DEMO_USERS {
        let (access, _) = s.login(user.username).await;
        let (status, me) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
        assert_eq!(status, 200);
        assert_eq!(me["username"], user.username);
    }
    let (_, volunteer) = {
        let (access, _) = s.login("care-volunteer").await;
        s.get("/api/v1/users/getcurrentuser/", Some(&access)).await
    };
    assert!(!volunteer["permissions"]
        .as_array()
        .expect("perms")
        .contains(&json!("can_write_patient")));
}

#[tokio::test]
async fn wrong_password_and_missing_field() {
    let s = common::start(&[]).await;
    let (status, body) = s
        .post(
            "/api/v1/auth/login/",
            json!({"username": "care-doctor", "password": "wrong"}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"detail": "No active account found with the given credentials", "code": "no_active_account"})
    );
    let (status, body) = s
        .post(
            "/api/v1/auth/login/",
            json!({"username": "nobody", "password": "x"}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "no_active_account");
    let (status, body) = s
        .post(
            "/api/v1/auth/login/",
            json!({"username": "care-doctor"}),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"password": ["This field is required."]}));
}

#[tokio::test]
async fn malformed_login_body_is_a_clear_400() {
    let s = common::start(&[]).await;
    let resp = common::client()
        .post(s.url("/api/v1/auth/login/"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(body["detail"]
        .as_str()
        .expect("detail")
        .starts_with("JSON parse error"));
}

#[tokio::test]
async fn refresh_rotates_and_rejects_garbage() {
    let s = common::start(&[]).await;
    let (_, refresh) = s.login("care-nurse").await;
    let (status, body) = s
        .post(
            "/api/v1/auth/token/refresh/",
            json!({"refresh": refresh}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let new_access = body["access"].as_str().expect("access");
    assert_ne!(
        body["refresh"].as_str().expect("refresh"),
        refresh,
        "refresh rotates"
    );
    let (status, _) = s
        .get("/api/v1/users/getcurrentuser/", Some(new_access))
        .await;
    assert_eq!(status, 200);
    let (status, body) = s
        .post(
            "/api/v1/auth/token/refresh/",
            json!({"refresh": "garbage"}),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"detail": "Token is invalid", "code": "token_not_valid"})
    );
    // An access token is not a refresh token.
    let (status, _) = s
        .post(
            "/api/v1/auth/token/refresh/",
            json!({"refresh": new_access}),
            None,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn bad_or_missing_token_is_care_403() {
    let s = common::start(&[]).await;
    let (status, body) = s
        .get("/api/v1/users/getcurrentuser/", Some("not.a.token"))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({
            "detail": "Invalid Token, please relogin to continue",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}]
        })
    );
    let (status, body) = s.get("/api/v1/users/getcurrentuser/", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    // A refresh token does not authorise API calls.
    let (_, refresh) = s.login("care-doctor").await;
    let (status, body) = s.get("/api/v1/users/getcurrentuser/", Some(&refresh)).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "token_not_valid");
}

#[tokio::test]
async fn logout_revokes_the_tokens() {
    let s = common::start(&[]).await;
    let (access, refresh) = s.login("care-staff").await;
    let (status, body) = s
        .post(
            "/api/v1/auth/logout/",
            json!({"access": access, "refresh": refresh}),
            Some(&access),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (status, body) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "token_not_valid");
    let (status, _) = s
        .post(
            "/api/v1/auth/token/refresh/",
            json!({"refresh": refresh}),
            None,
        )
        .await;
    assert_eq!(
        status, 403,
        "a revoked refresh token is refused as CARE does"
    );
}

#[tokio::test]
async fn data_and_tokens_survive_a_restart() {
    let s = common::start(&[]).await;
    let (access, _) = s.login("care-doctor").await;
    let (_, before) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (status, after) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    assert_eq!(status, 200, "a token issued before the restart still works");
    assert_eq!(before["id"], after["id"]);
    assert_eq!(before["facilities"], after["facilities"]);
    assert!(s.data.path().join("care.sqlite3").is_file());
}

/// care-api.md "Sessions ended by CARE": the exact answers a real CARE gives once a session
/// is revoked, so the app meets them on the built-in backend too.
#[tokio::test]
async fn sessions_ended_by_care_answer_as_care_does() {
    let s = common::start(&[]).await;
    let (access, refresh) = s.login("care-nurse").await;

    // Logout needs both tokens in the body.
    for body in [
        json!({"refresh": refresh}),
        json!({"access": access}),
        json!({"access": "", "refresh": refresh}),
        json!({}),
    ] {
        let (status, answer) = s.post("/api/v1/auth/logout/", body, Some(&access)).await;
        assert_eq!(
            (status, answer),
            (400, json!({"detail": "Missing access or refresh token"}))
        );
    }
    // Nothing was revoked by those.
    let (status, _) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    assert_eq!(status, 200);

    // A garbage refresh token: 401 token_not_valid.
    let (status, answer) = s
        .post(
            "/api/v1/auth/token/refresh/",
            json!({"refresh": "garbage"}),
            None,
        )
        .await;
    assert_eq!(
        (status, answer),
        (
            401,
            json!({"detail": "Token is invalid", "code": "token_not_valid"})
        )
    );
    // An invalid access token: 403 with the "relogin" detail and messages.
    let (status, answer) = s
        .get("/api/v1/users/getcurrentuser/", Some("garbage"))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        answer["detail"],
        "Invalid Token, please relogin to continue"
    );
    assert_eq!(answer["code"], "token_not_valid");
    assert!(answer["messages"].is_array());

    let (status, answer) = s
        .post(
            "/api/v1/auth/logout/",
            json!({"access": access, "refresh": refresh}),
            Some(&access),
        )
        .await;
    assert_eq!((status, answer), (200, json!({})));
    // The revoked access token, on any request.
    let (status, answer) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    assert_eq!(
        (status, answer),
        (
            403,
            json!({"detail": "Invalid Token", "code": "token_not_valid"})
        )
    );
    // The revoked refresh token: 403 without a code.
    let (status, answer) = s
        .post(
            "/api/v1/auth/token/refresh/",
            json!({"refresh": refresh}),
            None,
        )
        .await;
    assert_eq!((status, answer), (403, json!({"detail": "Invalid Token"})));
}

#[tokio::test]
async fn guessing_passwords_is_slowed_down_and_unknown_users_look_like_known_ones() {
    let s = common::start(&[]).await;
    let attempt = |username: &'static str, password: &'static str| {
        let url = s.url("/api/v1/auth/login/");
        async move {
            let resp = common::client()
                .post(url)
                .json(&json!({"username": username, "password": password}))
                .send()
                .await
                .expect("post");
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().expect("ascii").to_string());
            let body: serde_json::Value = resp.json().await.expect("json");
            (status, retry_after, body)
        }
    };
    // The same answer whether or not the username exists.
    let unknown = attempt("no-such-user", "Wrong@123").await;
    let known = attempt("care-nurse", "Wrong@123").await;
    assert_eq!((unknown.0, &unknown.2), (known.0, &known.2));
    assert_eq!(known.0, 401);

    // Five wrong passwords for one username; then even the right one waits.
    for _ in 0..4 {
        assert_eq!(attempt("care-nurse", "Wrong@123").await.0, 401);
    }
    let (status, retry_after, body) = attempt("care-nurse", "Ohcn@123").await;
    assert_eq!(status, 429, "{body}");
    let secs: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((1..=30).contains(&secs), "{secs}");
    assert_eq!(body["code"], "throttled");
    assert!(body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("Too many failed sign-ins")));
    // Another person on the same clinic network is not held up.
    assert_eq!(attempt("care-doctor", "Ohcn@123").await.0, 200);
}
