//! Real servers on 127.0.0.1 (ports picked by the OS) with temporary SQLite files.

#![allow(dead_code)]

use std::net::SocketAddr;

pub mod pg;
pub mod upstream;

use clap::Parser;
use serde_json::{json, Value};
use server::{config::Config, state::AppState};

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub data: tempfile::TempDir,
    pub task: Task,
}

/// Stops the server when dropped.
pub struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the server with the given extra flags and a fresh data directory.
pub async fn start(extra: &[&str]) -> TestServer {
    let data = tempfile::tempdir().expect("temp dir");
    start_in(data, extra).await
}

/// Starts the server on an existing data directory (to test restarts).
pub async fn start_in(data: tempfile::TempDir, extra: &[&str]) -> TestServer {
    let data_dir = data.path().to_string_lossy().to_string();
    let mut args = vec!["server", "--addr", "127.0.0.1:0", "--data-dir", &data_dir];
    args.extend_from_slice(extra);
    let config = Config::try_parse_from(args)
        .expect("flags")
        .resolve()
        .expect("config");
    let state = AppState::open(&config).await.expect("state");
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = Task(tokio::spawn(async move {
        let _ = server::serve(listener, state).await;
    }));
    TestServer {
        base: format!("http://{addr}"),
        addr,
        data,
        task,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in and returns (access, refresh).
    pub async fn login(&self, username: &str) -> (String, String) {
        let resp = client()
            .post(self.url("/api/v1/auth/login/"))
            .json(&json!({"username": username, "password": "Ohcn@123"}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200, "login of {username}");
        let body: Value = resp.json().await.expect("json");
        (
            body["access"].as_str().expect("access").into(),
            body["refresh"].as_str().expect("refresh").into(),
        )
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = client().get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("get");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut req = client().post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut req = client().put(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("put");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Sends a raw (possibly malformed) JSON body.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = client()
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The id of a govt organization by name.
    pub async fn geo_id(&self, token: &str, name: &str) -> String {
        let (_, orgs) = self
            .get(
                &format!("/api/v1/organization/?name={name}&limit=200"),
                Some(token),
            )
            .await;
        orgs["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|o| o["name"] == name)
            .and_then(|o| o["id"].as_str())
            .expect("org")
            .to_string()
    }

    /// The demo facility's id.
    pub async fn facility_id(&self, token: &str) -> String {
        let (_, me) = self.get("/api/v1/users/getcurrentuser/", Some(token)).await;
        me["facilities"][0]["id"]
            .as_str()
            .expect("facility")
            .to_string()
    }
}

/// A captured real-CARE sample (copied from shared/care-samples into tests/samples).
pub fn sample(name: &str) -> Value {
    let path = format!("{}/tests/samples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("sample file");
    serde_json::from_str(&text).expect("sample json")
}

impl TestServer {
    /// A new patient with an in-progress encounter at the demo facility: (patient, encounter).
    pub async fn patient_with_encounter(&self, token: &str, phone: &str) -> (String, String) {
        let fid = self.facility_id(token).await;
        let (_, roots) = self
            .get(
                &format!("/api/v1/facility/{fid}/organizations/?parent="),
                Some(token),
            )
            .await;
        let dept = roots["results"][0]["id"]
            .as_str()
            .expect("dept")
            .to_string();
        let geo = self.geo_id(token, "Kerala").await;
        let (status, p) = self
            .post(
                "/api/v1/patient/",
                json!({"name": "Clinical Patient", "gender": "female", "phone_number": phone,
                       "date_of_birth": "1990-05-14", "geo_organization": geo}),
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{p}");
        let pid = p["id"].as_str().expect("patient").to_string();
        let (status, e) = self
            .post(
                "/api/v1/encounter/",
                json!({"patient": pid, "facility": fid, "status": "in_progress",
                       "encounter_class": "amb", "priority": "routine", "organizations": [dept]}),
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{e}");
        (pid, e["id"].as_str().expect("encounter").to_string())
    }
}

/// Sorted keys of an object (to compare shapes with a sample).
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}
