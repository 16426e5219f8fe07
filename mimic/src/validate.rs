//! Pydantic-style validation of request bodies. CARE validates every EMR body with pydantic 2.9
//! and returns all field errors at once, each as `{"type", "loc", "msg", "input", "ctx"?, "url"}`
//! (care-api.md §3). `Checker` collects them the same way; `finish` turns them into a 400.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde_json::{json, Map, Value};

use super::error::CareError;

const URL: &str = "https://errors.pydantic.dev/2.9/v/";

/// A field as sent: absent, explicitly `null`, or a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Absent,
    Null,
    Set(T),
}

impl<T> Field<T> {
    /// `Some(v)` when set, `None` when absent or null.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Set(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

/// Collects pydantic errors for one body.
pub struct Checker<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<Value>,
}

/// The `loc` of a field, possibly nested (`["period", "start"]`).
fn loc(path: &[&str]) -> Value {
    Value::Array(path.iter().map(|p| json!(p)).collect())
}

/// `'a', 'b' or 'c'`, as pydantic lists enum members.
pub fn expected_list(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("'{o}'")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl<'a> Checker<'a> {
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            errors: Vec::new(),
        }
    }

    pub fn body(&self) -> &Map<String, Value> {
        self.body
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Adds one error; `ctx` is left out when `None`, as pydantic does.
    pub fn error(
        &mut self,
        kind: &str,
        path: &[&str],
        msg: &str,
        input: Value,
        ctx: Option<Value>,
    ) {
        let mut e = json!({"type": kind, "loc": loc(path), "msg": msg, "input": input});
        if let Some(ctx) = ctx {
            e["ctx"] = ctx;
        }
        e["url"] = json!(format!("{URL}{kind}"));
        self.errors.push(e);
    }

    /// A `ValueError` raised by a validator: pydantic prefixes "Value error, ".
    pub fn value_error(&mut self, path: &[&str], msg: &str, input: Value) {
        self.error(
            "value_error",
            path,
            &format!("Value error, {msg}"),
            input,
            Some(json!({"error": msg})),
        );
    }

    pub fn missing(&mut self, field: &str) {
        let input = Value::Object(self.body.clone());
        self.error("missing", &[field], "Field required", input, None);
    }

    fn raw(&self, field: &str) -> Field<&'a Value> {
        match self.body.get(field) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => Field::Set(v),
        }
    }

    /// A required field: `missing` when absent; a null goes to `parse` (which reports the
    /// type error pydantic gives for it).
    fn required<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&mut Self, &[&str], &Value) -> Option<T>,
    ) -> Option<T> {
        match self.raw(field) {
            Field::Absent => {
                self.missing(field);
                None
            }
            Field::Null => parse(self, &[field], &Value::Null),
            Field::Set(v) => parse(self, &[field], v),
        }
    }

    /// An optional field: absent and null pass through; a bad value is reported and dropped.
    fn optional<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&mut Self, &[&str], &Value) -> Option<T>,
    ) -> Field<T> {
        match self.raw(field) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(v) => parse(self, &[field], v).map_or(Field::Absent, Field::Set),
        }
    }

    // ---- strings ----

    fn string_value(&mut self, path: &[&str], v: &Value, max_len: Option<usize>) -> Option<String> {
        let Value::String(s) = v else {
            self.error(
                "string_type",
                path,
                "Input should be a valid string",
                v.clone(),
                None,
            );
            return None;
        };
        if let Some(max) = max_len {
            if s.chars().count() > max {
                let msg = format!("String should have at most {max} characters");
                self.error(
                    "string_too_long",
                    path,
                    &msg,
                    v.clone(),
                    Some(json!({"max_length": max})),
                );
                return None;
            }
        }
        Some(s.clone())
    }

    pub fn req_str(&mut self, field: &str, max_len: Option<usize>) -> Option<String> {
        self.required(field, |c, path, v| c.string_value(path, v, max_len))
    }

    pub fn opt_str(&mut self, field: &str, max_len: Option<usize>) -> Field<String> {
        self.optional(field, |c, path, v| c.string_value(path, v, max_len))
    }

    // ---- enums ----

    pub fn enum_value(&mut self, path: &[&str], v: &Value, options: &[&str]) -> Option<String> {
        if let Value::String(s) = v {
            if options.contains(&s.as_str()) {
                return Some(s.clone());
            }
        }
        let expected = expected_list(options);
        self.error(
            "enum",
            path,
            &format!("Input should be {expected}"),
            v.clone(),
            Some(json!({ "expected": expected })),
        );
        None
    }

    pub fn req_enum(&mut self, field: &str, options: &[&str]) -> Option<String> {
        self.required(field, |c, path, v| c.enum_value(path, v, options))
    }

    pub fn opt_enum(&mut self, field: &str, options: &[&str]) -> Field<String> {
        self.optional(field, |c, path, v| c.enum_value(path, v, options))
    }

    // ---- uuids ----

    /// Pydantic parses UUIDs with the Rust `uuid` crate, so its error text is the same.
    pub fn uuid_value(&mut self, path: &[&str], v: &Value) -> Option<String> {
        let Value::String(s) = v else {
            self.error(
                "uuid_type",
                path,
                "UUID input should be a string, bytes or UUID object",
                v.clone(),
                None,
            );
            return None;
        };
        match uuid::Uuid::parse_str(s) {
            Ok(u) if u.get_version_num() == 4 => Some(u.to_string()),
            Ok(_) => {
                self.error(
                    "uuid_version",
                    path,
                    "UUID version 4 expected",
                    v.clone(),
                    Some(json!({"expected_version": 4})),
                );
                None
            }
            Err(_) => {
                let err = uuid_error_text(s);
                self.error(
                    "uuid_parsing",
                    path,
                    &format!("Input should be a valid UUID, {err}"),
                    v.clone(),
                    Some(json!({ "error": err })),
                );
                None
            }
        }
    }

    pub fn req_uuid(&mut self, field: &str) -> Option<String> {
        self.required(field, Self::uuid_value)
    }

    pub fn opt_uuid(&mut self, field: &str) -> Field<String> {
        self.optional(field, Self::uuid_value)
    }

    /// A list of UUIDs (absent → empty).
    pub fn uuid_list(&mut self, field: &str) -> Vec<String> {
        match self.raw(field) {
            Field::Absent => Vec::new(),
            Field::Set(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let idx = i.to_string();
                    if let Some(u) = self.uuid_value(&[field, &idx], item) {
                        out.push(u);
                    }
                }
                out
            }
            Field::Null => {
                self.error(
                    "list_type",
                    &[field],
                    "Input should be a valid list",
                    Value::Null,
                    None,
                );
                Vec::new()
            }
            Field::Set(v) => {
                self.error(
                    "list_type",
                    &[field],
                    "Input should be a valid list",
                    v.clone(),
                    None,
                );
                Vec::new()
            }
        }
    }

    // ---- integers ----

    pub fn int_value(&mut self, path: &[&str], v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    return Some(i);
                }
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
                    _ => {
                        self.error(
                            "int_from_float",
                            path,
                            "Input should be a valid integer, got a number with a fractional part",
                            v.clone(),
                            None,
                        );
                        None
                    }
                }
            }
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => Some(i),
                Err(_) => {
                    self.error(
                        "int_parsing",
                        path,
                        "Input should be a valid integer, unable to parse string as an integer",
                        v.clone(),
                        None,
                    );
                    None
                }
            },
            _ => {
                self.error(
                    "int_type",
                    path,
                    "Input should be a valid integer",
                    v.clone(),
                    None,
                );
                None
            }
        }
    }

    pub fn req_int(&mut self, field: &str) -> Option<i64> {
        self.required(field, Self::int_value)
    }

    pub fn opt_int(&mut self, field: &str) -> Field<i64> {
        self.optional(field, Self::int_value)
    }

    pub fn opt_bool(&mut self, field: &str) -> Field<bool> {
        match self.raw(field) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Bool(b)) => Field::Set(*b),
            Field::Set(v) => {
                self.error(
                    "bool_parsing",
                    &[field],
                    "Input should be a valid boolean, unable to interpret input",
                    v.clone(),
                    None,
                );
                Field::Absent
            }
        }
    }

    // ---- dates ----

    pub fn opt_date(&mut self, field: &str) -> Field<NaiveDate> {
        self.optional(field, Self::date_value)
    }

    pub fn date_value(&mut self, path: &[&str], v: &Value) -> Option<NaiveDate> {
        let Value::String(s) = v else {
            self.error(
                "date_type",
                path,
                "Input should be a valid date",
                v.clone(),
                None,
            );
            return None;
        };
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if s.len() == 10 => Some(d),
            _ => {
                let reason = if s.len() < 10 {
                    "input is too short"
                } else {
                    "invalid date separator, expected `-`"
                };
                self.error(
                    "date_from_datetime_parsing",
                    path,
                    &format!("Input should be a valid date or datetime, {reason}"),
                    v.clone(),
                    Some(json!({ "error": reason })),
                );
                None
            }
        }
    }

    /// A `StrictTZAwareDateTime`: ISO 8601 with an offset; naive values are refused.
    pub fn tz_datetime_value(&mut self, path: &[&str], v: &Value) -> Option<DateTime<FixedOffset>> {
        let Value::String(s) = v else {
            self.error(
                "datetime_type",
                path,
                "Input should be a valid datetime",
                v.clone(),
                None,
            );
            return None;
        };
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(dt);
        }
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"));
        if naive.is_ok() {
            self.value_error(path, "Datetime must be timezone aware", v.clone());
        } else {
            let reason = if s.len() < 10 {
                "input is too short"
            } else {
                "invalid datetime separator, expected `T`, `t`, `_` or space"
            };
            self.error(
                "datetime_from_date_parsing",
                path,
                &format!("Input should be a valid datetime or date, {reason}"),
                v.clone(),
                Some(json!({ "error": reason })),
            );
        }
        None
    }

    pub fn opt_tz_datetime(&mut self, field: &str) -> Field<DateTime<FixedOffset>> {
        self.optional(field, Self::tz_datetime_value)
    }

    // ---- phone numbers ----

    /// CARE's `PhoneNumber` (E.164 via libphonenumber, at most 14 characters).
    pub fn phone_value(&mut self, path: &[&str], v: &Value) -> Option<String> {
        let Value::String(s) = v else {
            self.error(
                "string_type",
                path,
                "Input should be a valid string",
                v.clone(),
                None,
            );
            return None;
        };
        if !is_valid_phone(s) {
            self.error(
                "value_error",
                path,
                "value is not a valid phone number",
                v.clone(),
                None,
            );
            return None;
        }
        if s.chars().count() > 14 {
            self.error(
                "string_too_long",
                path,
                "String should have at most 14 characters",
                v.clone(),
                Some(json!({"max_length": 14})),
            );
            return None;
        }
        Some(s.clone())
    }

    pub fn req_phone(&mut self, field: &str) -> Option<String> {
        self.required(field, Self::phone_value)
    }

    pub fn opt_phone(&mut self, field: &str) -> Field<String> {
        self.optional(field, Self::phone_value)
    }

    /// 400 with every collected error, or Ok.
    pub fn finish(self) -> Result<(), CareError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(CareError::Pydantic(self.errors))
        }
    }
}

/// The text pydantic-core's `uuid` parser gives for an invalid UUID (1-based positions).
pub fn uuid_error_text(s: &str) -> String {
    let (body, offset) = if let Some(rest) = s.strip_prefix("urn:uuid:") {
        (rest, 9)
    } else if let Some(rest) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        (rest, 1)
    } else {
        (s, 0)
    };
    if let Some((i, c)) = body
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_hexdigit() && *c != '-')
    {
        return format!(
            "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `{c}` at {}",
            i + offset + 1
        );
    }
    if !body.contains('-') {
        return format!(
            "invalid length: expected length 32 for simple format, found {}",
            body.len()
        );
    }
    let groups: Vec<&str> = body.split('-').collect();
    if groups.len() != 5 {
        return format!("invalid group count: expected 5, found {}", groups.len());
    }
    for (i, (g, expected)) in groups.iter().zip([8, 4, 4, 4, 12]).enumerate() {
        if g.len() != expected {
            return format!(
                "invalid group length in group {i}: expected {expected}, found {}",
                g.len()
            );
        }
    }
    "invalid UUID".to_string()
}

/// E.164: `+`, a country code and a national number, 8–15 digits in all. Indian numbers
/// (+91) must have exactly ten national digits, not starting with 0, as libphonenumber requires.
pub fn is_valid_phone(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) || digits.starts_with('0') {
        return false;
    }
    if let Some(national) = digits.strip_prefix("91") {
        return national.len() == 10 && !national.starts_with('0');
    }
    (8..=15).contains(&digits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn enum_and_uuid_errors_read_like_pydantic() {
        let b = body(json!({"gender": "unknown_g", "geo_organization": "not-a-uuid"}));
        let mut c = Checker::new(&b);
        c.req_enum("gender", &["male", "female", "non_binary", "transgender"]);
        c.req_uuid("geo_organization");
        c.req_str("name", None);
        let Err(CareError::Pydantic(errors)) = c.finish() else {
            panic!("expected errors");
        };
        assert_eq!(
            errors[0]["msg"],
            "Input should be 'male', 'female', 'non_binary' or 'transgender'"
        );
        assert_eq!(
            errors[1]["msg"],
            "Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1"
        );
        assert_eq!(errors[2]["type"], "missing");
        assert_eq!(errors[2]["input"]["gender"], "unknown_g");
    }

    #[test]
    fn phone_numbers() {
        assert!(is_valid_phone("+919876543210"));
        assert!(is_valid_phone("+914842215555"));
        assert!(!is_valid_phone("12345"));
        assert!(!is_valid_phone("+91987654321"));
        assert!(!is_valid_phone("+91abc"));
        assert!(is_valid_phone("+14155552671"));
    }

    #[test]
    fn naive_datetimes_are_refused() {
        let b = body(json!({"t": "2026-01-01T10:00:00", "u": "2026-01-01T10:00:00+05:30"}));
        let mut c = Checker::new(&b);
        assert!(c.opt_tz_datetime("u").value().is_some());
        assert!(c.opt_tz_datetime("t").value().is_none());
        let Err(CareError::Pydantic(errors)) = c.finish() else {
            panic!("expected errors");
        };
        assert_eq!(
            errors[0]["msg"],
            "Value error, Datetime must be timezone aware"
        );
    }
}
