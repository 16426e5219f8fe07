//! The routes: list, retrieve, create, update and `upsert/`, with the permission and
//! patient-scope checks.

use super::*;

pub(super) fn ensure_can_write(user: &AuthUser) -> Result<(), CareError> {
    if user.can("can_write_encounter") {
        Ok(())
    } else {
        Err(CareError::Forbidden(
            "You do not have permission to update encounter".into(),
        ))
    }
}

/// The user may read this patient's clinical data: the permission, and the patient in scope.
pub(super) fn ensure_can_read(
    conn: &Connection,
    user: &AuthUser,
    pid: &str,
) -> Result<(), CareError> {
    patient_scope::ensure_may_read(
        conn,
        user,
        pid,
        Some("can_view_clinical_data"),
        "You do not have permission to view this patient's clinical data",
    )
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    encounter: Option<String>,
    category: Option<String>,
    clinical_status: Option<String>,
    verification_status: Option<String>,
    status: Option<String>,
    ordering: Option<String>,
    #[serde(flatten)]
    page: Page,
}

pub(super) async fn list(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_read(conn, &user, &pid)?;
            let mut filter = format!(
                " WHERE patient_id = ?1 AND deleted = 0 AND {}",
                kind.filter()
            );
            let mut args: Vec<String> = vec![pid.clone()];
            if let Some(e) = p.encounter.as_deref().filter(|e| !e.is_empty()) {
                args.push(e.to_string());
                filter += &format!(" AND encounter_id = ?{}", args.len());
            }
            if let Some(cat) = p.category.as_deref().filter(|c| !c.is_empty()) {
                let list: Vec<String> = cat
                    .split(',')
                    .map(|s| format!("'{}'", s.replace('\'', "")))
                    .collect();
                filter += &format!(" AND category IN ({})", list.join(","));
            }
            for (key, value) in [
                ("clinical_status", &p.clinical_status),
                ("verification_status", &p.verification_status),
                ("status", &p.status),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    args.push(v.to_string());
                    filter += &format!(" AND json_extract(data, '$.{key}') = ?{}", args.len());
                }
            }
            let order = match p.ordering.as_deref() {
                Some("created_date") => "created_date ASC, seq ASC",
                Some("modified_date") => "modified_date ASC, seq ASC",
                Some("-modified_date") => "modified_date DESC, seq DESC",
                _ => "created_date DESC, seq DESC",
            };
            let count: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM clinical{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let rows: Vec<Row> = conn
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM clinical{filter} ORDER BY {order} LIMIT {} OFFSET {}",
                    p.page.limit(),
                    p.page.offset()
                ))?
                .query_map(rusqlite::params_from_iter(args.iter()), read_row)?
                .collect::<Result<_, _>>()?;
            let results = rows
                .iter()
                .map(|r| read_json(conn, kind, r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

pub(super) async fn retrieve(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path((pid, id)): Path<(String, String)>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_read(conn, &user, &pid)?;
            Ok(Json(read_json(conn, kind, &load(conn, kind, &pid, &id)?)?))
        })
        .await
}

pub(super) async fn create(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let mut body = json_object(&body)?;
    body.remove("id");
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_write(&user)?;
            let sp = conn.savepoint()?;
            let out = apply(&sp, kind, &pid, &user, &Value::Object(body), None)?;
            sp.commit()?;
            Ok(Json(out))
        })
        .await
}

pub(super) async fn update(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path((pid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_write(&user)?;
            let sp = conn.savepoint()?;
            let out = apply(&sp, kind, &pid, &user, &Value::Object(body), Some(&id))?;
            sp.commit()?;
            Ok(Json(out))
        })
        .await
}

/// The body CARE's exception handler gives an error (what an upsert lists for a failed item).
pub async fn error_body(e: CareError) -> Value {
    let resp = e.into_response();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

pub(super) async fn upsert(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<Response, CareError> {
    let body = json_object(&body)?;
    let datapoints = match body.get("datapoints") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            let mut c = Checker::new(&body);
            c.error(
                "list_type",
                &["datapoints"],
                "Input should be a valid list",
                other.clone(),
                None,
            );
            c.finish()?;
            Vec::new()
        }
    };
    if datapoints.len() > MAX_UPSERT {
        return Err(CareError::Validation(format!(
            "Cannot process more than {MAX_UPSERT} datapoints in a single request"
        )));
    }
    // Per item: its read representation, or the error CARE's handler would give it.
    let outcome: Vec<Result<Value, CareError>> = care
        .db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_write(&user)?;
            let sp = conn.savepoint()?;
            let results: Vec<Result<Value, CareError>> = datapoints
                .iter()
                .map(|dp| apply(&sp, kind, &pid, &user, dp, None))
                .collect();
            if results.iter().all(Result::is_ok) {
                sp.commit()?;
            }
            // Otherwise dropping the savepoint rolls every datapoint back.
            Ok(results)
        })
        .await?;
    let failed = outcome.iter().any(Result::is_err);
    let mut items = Vec::with_capacity(outcome.len());
    for item in outcome {
        items.push(match item {
            Ok(v) => v,
            Err(CareError::Internal(msg)) => return Err(CareError::Internal(msg)),
            Err(e) => error_body(e).await,
        });
    }
    let status = if failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Value::Array(items))).into_response())
}
