//! How a queued write shows in cached queries before it syncs, and how the server's answer
//! replaces it afterwards. Pure functions over the API's JSON.

use serde_json::Value;

use crate::offline::query::QueryKey;

/// Puts a new record at the top of a `{count, results}` page.
pub fn prepend(list: &mut Value, item: Value) {
    if let Some(results) = list.get_mut("results").and_then(Value::as_array_mut) {
        results.insert(0, item);
    }
    if let Some(count) = list.get("count").and_then(Value::as_u64) {
        list["count"] = Value::from(count + 1);
    }
}

/// Replaces the record with `id` in a page; true when found.
pub fn replace(list: &mut Value, id: &str, item: &Value) -> bool {
    let Some(results) = list.get_mut("results").and_then(Value::as_array_mut) else {
        return false;
    };
    match results
        .iter_mut()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    {
        Some(slot) => {
            *slot = item.clone();
            true
        }
        None => false,
    }
}

/// A list page where a new record would appear: the first page, no text filter.
pub fn shows_new_records(key: &QueryKey) -> bool {
    let Some(params) = key
        .parts()
        .last()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return false;
    };
    let first_page = params.get("offset").and_then(Value::as_u64).unwrap_or(0) == 0;
    let unfiltered = params
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty();
    first_page && unfiltered
}

/// True when `key` names record `id`: a detail key `[type, "detail", id]`, or any key whose
/// parameters hold `id` as a value (`{"encounter": id, ...}`).
pub fn names_record(key: &QueryKey, id: &str) -> bool {
    let parts = key.parts();
    if parts.len() == 3 && parts[1] == "detail" && parts[2] == id {
        return true;
    }
    let quoted = format!("\"{id}\"");
    parts
        .iter()
        .skip(1)
        .any(|p| p.starts_with('{') && p.contains(&quoted))
}

/// A fresh page of a list, with the entries of the page it replaces that are still only on
/// this device (`is_unsynced`) kept on top: a refetch that lands before their write syncs
/// must not make them vanish.
pub fn keep_unsynced(
    previous: Option<&Value>,
    fetched: &mut Value,
    is_unsynced: impl Fn(&str) -> bool,
) {
    let Some(old) = previous
        .and_then(|p| p.get("results"))
        .and_then(Value::as_array)
    else {
        return;
    };
    let present: Vec<String> = fetched
        .get("results")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let kept: Vec<Value> = old
        .iter()
        .filter(|i| {
            i.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| is_unsynced(id) && !present.iter().any(|p| p == id))
        })
        .cloned()
        .collect();
    for item in kept.into_iter().rev() {
        prepend(fetched, item);
    }
}

/// The record as the user will see it after an update: the payload over the cached
/// record; a referenced organization keeps its cached object when the id is unchanged.
pub fn merge_update(current: &Value, payload: &Value) -> Value {
    let mut out = current.clone();
    if let (Value::Object(target), Value::Object(fields)) = (&mut out, payload) {
        for (k, v) in fields {
            let same_ref = target
                .get(k)
                .and_then(|c| c.get("id"))
                .is_some_and(|id| Some(id) == Some(v));
            if !same_ref {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prepend_and_replace() {
        let mut page = json!({"count": 2, "results": [{"id": "a"}, {"id": "b"}]});
        prepend(&mut page, json!({"id": "tmp"}));
        assert_eq!(page["count"], 3);
        assert_eq!(page["results"][0]["id"], "tmp");
        assert!(replace(&mut page, "tmp", &json!({"id": "real"})));
        assert_eq!(page["results"][0]["id"], "real");
        assert!(!replace(&mut page, "zzz", &json!({})));
    }

    #[test]
    fn only_first_unfiltered_pages_show_new_records() {
        let key = |p: Value| QueryKey::new(["patient", "list"]).with_params(&p);
        assert!(shows_new_records(&key(json!({"offset": 0, "name": ""}))));
        assert!(!shows_new_records(&key(json!({"offset": 14, "name": ""}))));
        assert!(!shows_new_records(&key(
            json!({"offset": 0, "name": "asha"})
        )));
    }

    #[test]
    fn keys_that_name_a_record() {
        let detail = QueryKey::new(["encounter", "detail", "tmp-1"]);
        assert!(names_record(&detail, "tmp-1"));
        assert!(!names_record(&detail, "tmp"));
        let list = QueryKey::new(["symptom", "list"])
            .with_params(&json!({"patient": "p", "encounter": "tmp-1"}));
        assert!(names_record(&list, "tmp-1"));
        assert!(!names_record(&list, "tmp-"));
        assert!(!names_record(
            &QueryKey::new(["questionnaire", "detail", "x"]),
            "tmp-1"
        ));
    }

    #[test]
    fn refetch_keeps_entries_not_yet_synced() {
        let previous = json!({"count": 2, "results": [{"id": "w1"}, {"id": "a"}]});
        let mut fetched = json!({"count": 2, "results": [{"id": "a"}, {"id": "b"}]});
        keep_unsynced(Some(&previous), &mut fetched, |id| id == "w1");
        assert_eq!(fetched["count"], 3);
        assert_eq!(fetched["results"][0]["id"], "w1");
        let mut synced = json!({"count": 1, "results": [{"id": "a"}]});
        keep_unsynced(Some(&previous), &mut synced, |_| false);
        assert_eq!(synced["count"], 1);
        let mut none = json!({"count": 0, "results": []});
        keep_unsynced(None, &mut none, |_| true);
        assert_eq!(none["count"], 0);
    }

    #[test]
    fn update_overlays_fields_and_keeps_org_objects() {
        let current =
            json!({"id": "p", "name": "A", "geo_organization": {"id": "g1", "name": "Ward"}});
        let merged = merge_update(&current, &json!({"name": "B", "geo_organization": "g1"}));
        assert_eq!(merged["name"], "B");
        assert_eq!(merged["geo_organization"]["name"], "Ward");
        let moved = merge_update(&current, &json!({"geo_organization": "g2"}));
        assert_eq!(moved["geo_organization"], "g2");
    }
}
