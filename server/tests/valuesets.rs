//! Value sets from the bundled code list: list, expand, validate_code, favourites and recent
//! views (per user, kept across restarts).

mod common;

use serde_json::{json, Value};

const VS: &str = "/api/v1/valueset/system-condition-code";

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn list_and_expand() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;

    let (status, list) = s.get("/api/v1/valueset/?limit=3", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(list["results"].as_array().map(Vec::len), Some(3));
    assert!(list["count"].as_u64().unwrap_or(0) >= 7);
    let (_, one) = s
        .get("/api/v1/valueset/?slug=system-medication", Some(&token))
        .await;
    assert_eq!(one["results"][0]["name"], "Medication");

    let (status, found) = s
        .post(
            &format!("{VS}/expand/"),
            json!({"search": "fe", "count": 10}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["results"][0]["display"], "Fever");
    assert_eq!(found["results"][0]["system"], "http://snomed.info/sct");
    assert_eq!(found["results"][0]["designation"], json!([]));

    // Search is case-insensitive and matches inside the display; count caps the results.
    let (_, diabetes) = s
        .post(
            &format!("{VS}/expand/"),
            json!({"search": "DIABETES", "count": 3}),
            Some(&token),
        )
        .await;
    assert_eq!(diabetes["results"].as_array().map(Vec::len), Some(3));
    let (_, by_code) = s
        .post(
            &format!("{VS}/expand/"),
            json!({"search": "44054006"}),
            Some(&token),
        )
        .await;
    assert_eq!(by_code["results"][0]["display"], "Diabetes mellitus type 2");
    // An empty body is DRF's `{}`: the first ten concepts.
    let (status, empty) = s
        .send_raw(
            reqwest::Method::POST,
            &format!("{VS}/expand/"),
            "",
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(empty["results"].as_array().map(Vec::len), Some(10));

    let (status, err) = s
        .post(&format!("{VS}/expand/"), json!({"count": 0}), Some(&token))
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["type"], "greater_than");
    assert_eq!(err["errors"][0]["loc"], json!(["count"]));
    let (status, err) = s
        .post(
            &format!("{VS}/expand/"),
            json!({"count": 100, "search": 5}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["type"], "string_type");
    assert_eq!(err["errors"][1]["type"], "less_than");
    let (status, err) = s
        .send_raw(
            reqwest::Method::POST,
            &format!("{VS}/expand/"),
            "{bad",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert!(err["detail"]
        .as_str()
        .unwrap_or("")
        .starts_with("JSON parse error"));

    let (status, err) = s
        .post(
            "/api/v1/valueset/no-such-set/expand/",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        err,
        json!({"errors": [{"type": "object_not_found", "msg": "No ValueSet matches the given query."}]})
    );
    let (status, _) = s.post(&format!("{VS}/expand/"), json!({}), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn validate_code() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-nurse").await;
    let fever =
        json!({"system": "http://snomed.info/sct", "code": "386661006", "display": "Fever"});
    let (status, ok) = s
        .post(&format!("{VS}/validate_code/"), fever, Some(&token))
        .await;
    assert_eq!((status, ok), (200, json!({"result": true})));
    let (_, no) = s
        .post(
            &format!("{VS}/validate_code/"),
            json!({"system": "http://snomed.info/sct", "code": "123"}),
            Some(&token),
        )
        .await;
    assert_eq!(no, json!({"result": false}));
    // A medication is not a condition.
    let (_, no) = s
        .post(
            "/api/v1/valueset/system-allergy-code/validate_code/",
            json!({"system": "http://snomed.info/sct", "code": "386661006"}),
            Some(&token),
        )
        .await;
    assert_eq!(no, json!({"result": false}));
    let (status, err) = s
        .post(
            &format!("{VS}/validate_code/"),
            json!({"system": "x", "extra": 1}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let kinds: Vec<&str> = err["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, vec!["extra_forbidden", "missing"]);
}

#[tokio::test]
async fn favourites_and_recent_views_are_per_user_and_survive_restart() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (nurse, _) = s.login("care-nurse").await;
    let coding = |code: &str, display: &str| json!({"system": "http://snomed.info/sct", "code": code, "display": display});

    let (status, empty) = s.get(&format!("{VS}/favourites/"), Some(&doctor)).await;
    assert_eq!((status, empty), (200, json!([])));
    let (status, msg) = s
        .post(
            &format!("{VS}/add_favourite/"),
            coding("386661006", "Fever"),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        msg,
        json!({"message": "Code 386661006 added to favourites"})
    );
    // Adding twice keeps one entry.
    s.post(
        &format!("{VS}/add_favourite/"),
        coding("386661006", "Fever"),
        Some(&doctor),
    )
    .await;
    s.post(
        &format!("{VS}/add_favourite/"),
        coding("49727002", "Cough"),
        Some(&doctor),
    )
    .await;
    let (_, favs) = s.get(&format!("{VS}/favourites/"), Some(&doctor)).await;
    assert_eq!(codes(&favs), vec!["386661006", "49727002"]);
    assert_eq!(
        favs[0],
        json!({"display": "Fever", "system": "http://snomed.info/sct", "code": "386661006", "designation": null})
    );
    let (_, other) = s.get(&format!("{VS}/favourites/"), Some(&nurse)).await;
    assert_eq!(other, json!([]), "favourites are per user");

    let (status, err) = s
        .post(
            &format!("{VS}/add_favourite/"),
            coding("999999999", "Nope"),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["type"], "validation_error");
    let (status, err) = s
        .post(
            &format!("{VS}/add_favourite/"),
            json!({"display": "Fever"}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["loc"], json!(["code"]));

    let (_, msg) = s
        .post(
            &format!("{VS}/remove_favourite/"),
            coding("49727002", "Cough"),
            Some(&doctor),
        )
        .await;
    assert_eq!(
        msg,
        json!({"message": "Code 49727002 removed from favourites"})
    );

    // Recent views: newest first, a repeat moves to the front.
    for (code, display) in [
        ("386661006", "Fever"),
        ("25064002", "Headache"),
        ("386661006", "Fever"),
    ] {
        let (status, msg) = s
            .post(
                &format!("{VS}/add_recent_view/"),
                coding(code, display),
                Some(&doctor),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(msg["message"], format!("Code {code} added to recent views"));
    }
    let (_, recent) = s.get(&format!("{VS}/recent_views/"), Some(&doctor)).await;
    assert_eq!(codes(&recent), vec!["386661006", "25064002"]);

    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (_, favs) = s.get(&format!("{VS}/favourites/"), Some(&doctor)).await;
    assert_eq!(codes(&favs), vec!["386661006"]);
    let (_, recent) = s.get(&format!("{VS}/recent_views/"), Some(&doctor)).await;
    assert_eq!(codes(&recent), vec!["386661006", "25064002"]);
    let (_, msg) = s
        .post(
            &format!("{VS}/clear_recent_views/"),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!(msg["message"], "Recent views cleared");
    let (_, recent) = s.get(&format!("{VS}/recent_views/"), Some(&doctor)).await;
    assert_eq!(recent, json!([]));
}
