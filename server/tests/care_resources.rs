//! Facility and govt organization endpoints of the built-in backend.

mod common;

use serde_json::json;

#[tokio::test]
async fn facility_of_the_user_and_404_otherwise() {
    let s = common::start(&[]).await;
    let (access, _) = s.login("care-doctor").await;
    let (_, me) = s.get("/api/v1/users/getcurrentuser/", Some(&access)).await;
    let fid = me["facilities"][0]["id"]
        .as_str()
        .expect("facility id")
        .to_string();
    let (status, f) = s
        .get(&format!("/api/v1/facility/{fid}/"), Some(&access))
        .await;
    assert_eq!(status, 200);
    assert_eq!(f["id"], fid);
    assert_eq!(f["name"], me["facilities"][0]["name"]);
    assert_eq!(f["geo_organization"]["parent"]["name"], "Kerala");
    assert!(f["permissions"]
        .as_array()
        .expect("perms")
        .contains(&json!("can_create_patient")));
    let (status, body) = s
        .get(
            "/api/v1/facility/00000000-0000-4000-8000-000000000000/",
            Some(&access),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"errors": [{"type": "object_not_found", "msg": "No Facility matches the given query."}]})
    );
}

#[tokio::test]
async fn govt_organization_tree() {
    let s = common::start(&[]).await;
    let (access, _) = s.login("care-doctor").await;
    let (status, roots) = s
        .get(
            "/api/v1/organization/?org_type=govt&parent=&limit=200",
            Some(&access),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(roots["count"], 1);
    let kerala = &roots["results"][0];
    assert_eq!(kerala["name"], "Kerala");
    assert_eq!(kerala["parent"], json!({}));
    assert_eq!(kerala["has_children"], true);
    let kid = kerala["id"].as_str().expect("id");
    let (_, districts) = s
        .get(
            &format!("/api/v1/organization/?org_type=govt&parent={kid}"),
            Some(&access),
        )
        .await;
    let names: Vec<&str> = districts["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Ernakulam", "Thiruvananthapuram"]);
    assert_eq!(districts["results"][0]["parent"]["id"], kid);
    assert_eq!(districts["results"][0]["level_cache"], 1);
    let (status, one) = s
        .get(&format!("/api/v1/organization/{kid}/"), Some(&access))
        .await;
    assert_eq!(status, 200);
    assert!(one["permissions"].is_array());
    // Pagination: {count, results} only, limit honoured.
    let (_, page) = s
        .get("/api/v1/organization/?limit=3&offset=0", Some(&access))
        .await;
    assert_eq!(page["results"].as_array().map(Vec::len), Some(3));
    assert_eq!(page.as_object().map(|o| o.len()), Some(2));
    assert!(page["count"].as_u64().expect("count") >= 10);
}

#[tokio::test]
async fn get_without_trailing_slash_redirects() {
    let s = common::start(&[]).await;
    let resp = common::client()
        .get(s.url("/api/v1/users/getcurrentuser?x=1"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 301);
    assert_eq!(
        resp.headers()["location"],
        "/api/v1/users/getcurrentuser/?x=1"
    );
}
