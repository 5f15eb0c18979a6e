//! Request parameters as `WP_REST_Request` merges them (JSON body > form body > query
//! string), and the schema checks that turn bad ones into `rest_invalid_param`.

use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::error::WpError;
use crate::site::Site;

/// The merged parameters of a REST request.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Map<String, Value>);

/// Parses `a=1&b[]=2&b[]=3&c[k]=v&d[k][]=w` as PHP does: `[]` appends, `[key]` nests (a
/// second level is a list), a repeated plain key keeps the last value.
pub fn parse_form(input: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(input.as_bytes()) {
        let v = Value::String(v.into_owned());
        match k.find('[') {
            Some(open) if k.ends_with(']') && open > 0 => {
                let base = k[..open].to_owned();
                let inner = &k[open + 1..k.len() - 1];
                if inner.is_empty() {
                    let entry = map.entry(base).or_insert_with(|| Value::Array(vec![]));
                    numeric_keys_to_list(entry);
                    if !entry.is_array() {
                        *entry = Value::Array(vec![]);
                    }
                    if let Value::Array(a) = entry {
                        a.push(v);
                    }
                } else {
                    let entry = map.entry(base).or_insert_with(|| Value::Object(Map::new()));
                    if !entry.is_object() {
                        *entry = Value::Object(Map::new());
                    }
                    if let Value::Object(o) = entry {
                        match inner.split_once("][") {
                            // `c[k][]=v` (and `c[k][n]=v`): a list under `k`, as
                            // `categories[terms][]=1` (`prepare_tax_query()`'s object form).
                            Some((key, _)) => {
                                let list = o
                                    .entry(key.to_owned())
                                    .or_insert_with(|| Value::Array(vec![]));
                                if !list.is_array() {
                                    *list = Value::Array(vec![]);
                                }
                                if let Value::Array(a) = list {
                                    a.push(v);
                                }
                            }
                            None => {
                                o.insert(inner.to_owned(), v);
                            }
                        }
                    }
                }
            }
            _ => {
                map.insert(k.into_owned(), v);
            }
        }
    }
    for v in map.values_mut() {
        numeric_keys_to_list(v);
    }
    map
}

/// `a[0]=x&a[1]=y` is a PHP array with numeric keys, which the REST API takes as a list
/// (`wp_is_numeric_array()`, then `array_values()`), not as an object.
fn numeric_keys_to_list(v: &mut Value) {
    if let Value::Object(o) = v
        && !o.is_empty()
        && o.keys()
            .all(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
    {
        *v = Value::Array(std::mem::take(o).into_iter().map(|(_, x)| x).collect());
    }
}

fn is_json_content_type(ct: &str) -> bool {
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.contains("+json"))
}

/// Deepest JSON nesting accepted in a body. serde_json stops at 128 levels on its own
/// (PHP's `json_decode` at 512); the error is reported as PHP reports `JSON_ERROR_DEPTH`.
pub const MAX_JSON_DEPTH: usize = 128;

/// Parses a JSON request body as `WP_REST_Request::parse_json_params` does: any syntax
/// error is `rest_invalid_json` (400) with PHP's `json_last_error()` code and message.
pub fn parse_json_body(bytes: &[u8]) -> Result<Value, WpError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            WpError::rest_invalid_json_code(1, "Maximum stack depth exceeded")
        } else {
            WpError::rest_invalid_json("Syntax error")
        }
    })
}

/// The parameters of a request with this query string, content type and body, as the
/// `Params` extractor merges them (public for the fuzz targets).
pub fn params_from_parts(
    method: &Method,
    query: Option<&str>,
    content_type: &str,
    bytes: &[u8],
) -> Result<Params, WpError> {
    let mut map = query.map(parse_form).unwrap_or_default();
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        merge_body(&mut map, method, content_type, bytes)?;
    }
    strip_nul(&mut map);
    Ok(Params(map))
}

/// NUL characters are removed from every parameter name and string value, as
/// `wp_kses_no_null()` does for most roles: PostgreSQL text cannot hold them, and the two
/// stores must answer alike (docs/compat.md "nul-bytes").
fn strip_nul(map: &mut Map<String, Value>) {
    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().any(has_nul),
            Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    fn clean(v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(s.replace('\0', "")),
            Value::Array(a) => Value::Array(a.into_iter().map(clean).collect()),
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (k.replace('\0', ""), clean(v)))
                    .collect(),
            ),
            other => other,
        }
    }
    if map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
        let old = std::mem::take(map);
        if let Value::Object(o) = clean(Value::Object(old)) {
            *map = o;
        }
    }
}

fn merge_body(
    map: &mut Map<String, Value>,
    method: &Method,
    content_type: &str,
    bytes: &[u8],
) -> Result<(), WpError> {
    if is_json_content_type(content_type) {
        if let Value::Object(obj) = parse_json_body(bytes)? {
            for (k, v) in obj {
                map.insert(k, v);
            }
        }
    } else if matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && (content_type.is_empty()
        || content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded"))
    {
        let text = String::from_utf8_lossy(bytes);
        for (k, v) in parse_form(&text) {
            map.insert(k, v);
        }
    }
    Ok(())
}

impl FromRequest<Arc<Site>> for Params {
    type Rejection = WpError;

    async fn from_request(req: Request, site: &Arc<Site>) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(body, site.config.max_body_bytes)
            .await
            .map_err(|_| WpError::payload_too_large())?;
        params_from_parts(&parts.method, parts.uri.query(), &content_type, &bytes)
    }
}

impl Params {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
}

/// The `context` argument (`get_context_param()`): which fields a response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    View,
    Embed,
    Edit,
}

/// Collects every invalid parameter, then fails once with WordPress's `rest_invalid_param`.
pub struct Validator<'a> {
    params: &'a Params,
    issues: Vec<(String, &'static str, String, Value)>,
    missing: Vec<String>,
}

/// `rest_is_integer`-style coercion: integral numbers and numeric strings.
fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// `rest_sanitize_boolean`-compatible check.
fn as_boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// "a, b, and c" / "a and b" / "a", as WordPress's `wp_sprintf_l`.
pub fn list_words(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

impl<'a> Validator<'a> {
    pub fn new(params: &'a Params) -> Self {
        Self {
            params,
            issues: vec![],
            missing: vec![],
        }
    }

    pub fn has(&self, param: &str) -> bool {
        self.params.has(param)
    }

    /// The raw value of a parameter, for types the helpers below do not cover.
    pub fn value(&self, param: &str) -> Option<&'a Value> {
        self.params.get(param)
    }

    pub fn invalid(&mut self, param: &str, code: &'static str, message: String, data: Value) {
        self.issues.push((param.to_owned(), code, message, data));
    }

    fn type_error(&mut self, param: &str, ty: &str) {
        self.invalid(
            param,
            "rest_invalid_type",
            format!("{param} is not of type {ty}."),
            json!({ "param": param }),
        );
    }

    pub fn require(&mut self, param: &str) {
        if self.params.get(param).is_none_or(Value::is_null) {
            self.missing.push(param.to_owned());
        }
    }

    pub fn string(&mut self, param: &str) -> Option<String> {
        match self.params.get(param)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.type_error(param, "string");
                None
            }
        }
    }

    pub fn integer(&mut self, param: &str) -> Option<i64> {
        let v = self.params.get(param)?;
        match as_integer(v) {
            Some(i) => Some(i),
            None => {
                self.type_error(param, "integer");
                None
            }
        }
    }

    pub fn integer_min(&mut self, param: &str, min: i64) -> Option<i64> {
        let i = self.integer(param)?;
        if i < min {
            self.invalid(
                param,
                "rest_out_of_bounds",
                format!("{param} must be greater than or equal to {min}"),
                Value::Null,
            );
            return None;
        }
        Some(i)
    }

    pub fn integer_range(&mut self, param: &str, min: i64, max: i64) -> Option<i64> {
        let i = self.integer(param)?;
        if i < min || i > max {
            self.invalid(
                param,
                "rest_out_of_bounds",
                format!("{param} must be between {min} (inclusive) and {max} (inclusive)"),
                Value::Null,
            );
            return None;
        }
        Some(i)
    }

    pub fn boolean(&mut self, param: &str) -> Option<bool> {
        let v = self.params.get(param)?;
        match as_boolean(v) {
            Some(b) => Some(b),
            None => {
                self.type_error(param, "boolean");
                None
            }
        }
    }

    pub fn one_of(&mut self, param: &str, allowed: &[&'static str]) -> Option<&'static str> {
        let s = self.string(param)?;
        match allowed.iter().find(|a| **a == s) {
            Some(a) => Some(a),
            None => {
                let msg = if allowed.len() == 1 {
                    format!("{param} is not {}.", allowed[0])
                } else {
                    format!("{param} is not one of {}.", list_words(allowed))
                };
                self.invalid(param, "rest_not_in_enum", msg, Value::Null);
                None
            }
        }
    }

    /// `context`, one of view (default), embed, edit.
    pub fn context(&mut self) -> Context {
        match self.one_of("context", &["view", "embed", "edit"]) {
            Some("edit") => Context::Edit,
            Some("embed") => Context::Embed,
            _ => Context::View,
        }
    }

    /// An array of integers: JSON array, `a[]=` list, or a comma/space separated string.
    pub fn integer_list(&mut self, param: &str) -> Option<Vec<i64>> {
        // A JSON array is read in place (a copy of a 1 MB list was most of the cost).
        let owned: Vec<Value>;
        let items: &[Value] = match self.params.get(param)? {
            Value::Array(a) => a,
            Value::String(s) => {
                owned = s
                    .split([',', ' '])
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_owned()))
                    .collect();
                &owned
            }
            other => std::slice::from_ref(other),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match as_integer(item) {
                Some(n) => out.push(n),
                None => {
                    self.type_error(&format!("{param}[{i}]"), "integer");
                    return None;
                }
            }
        }
        Some(out)
    }

    /// An array of strings (same input forms as `integer_list`).
    pub fn string_list(&mut self, param: &str) -> Option<Vec<String>> {
        match self.params.get(param)? {
            Value::Array(a) => {
                let mut out = vec![];
                for (i, item) in a.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        _ => {
                            self.type_error(&format!("{param}[{i}]"), "string");
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::String(s) => Some(
                s.split([',', ' '])
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => {
                self.type_error(param, "array");
                None
            }
        }
    }

    /// An array of strings each of which is one of `allowed` (`items.enum`).
    pub fn enum_list(&mut self, param: &str, allowed: &[&'static str]) -> Option<Vec<String>> {
        let list = self.string_list(param)?;
        for (i, s) in list.iter().enumerate() {
            if !allowed.contains(&s.as_str()) {
                self.invalid(
                    param,
                    "rest_not_in_enum",
                    format!("{param}[{i}] is not one of {}.", list_words(allowed)),
                    Value::Null,
                );
                return None;
            }
        }
        Some(list)
    }

    /// `rest_missing_callback_param` first, then `rest_invalid_param`, as WordPress orders them.
    pub fn finish(self) -> Result<(), WpError> {
        if !self.missing.is_empty() {
            return Err(WpError::new(
                StatusCode::BAD_REQUEST,
                "rest_missing_callback_param",
                format!("Missing parameter(s): {}", self.missing.join(", ")),
            )
            .with_data("params", json!(self.missing)));
        }
        if self.issues.is_empty() {
            return Ok(());
        }
        let mut params = Map::new();
        let mut details = Map::new();
        let mut names: Vec<String> = vec![];
        for (param, code, message, data) in self.issues {
            // Errors on `p[0]` are reported under `p`, as WordPress reports the argument.
            let top = param.split('[').next().unwrap_or(&param).to_owned();
            if !names.contains(&top) {
                names.push(top.clone());
            }
            params
                .entry(top.clone())
                .or_insert_with(|| Value::String(message.clone()));
            details
                .entry(top)
                .or_insert_with(|| json!({ "code": code, "message": message, "data": data }));
        }
        Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_param",
            format!("Invalid parameter(s): {}", names.join(", ")),
        )
        .with_data("params", Value::Object(params))
        .with_data("details", Value::Object(details)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_style_query_parsing() {
        let m = parse_form("a=1&b[]=2&b[]=3&c[k]=v&a=4");
        assert_eq!(
            Value::Object(m),
            json!({"a":"4","b":["2","3"],"c":{"k":"v"}})
        );
        // Numeric keys make a list, as in PHP (`slug[0]=a&slug[1]=b`, then `[]` appends).
        let m = parse_form("s[0]=a&s[1]=b&t[1]=c&t[]=d&u[0]=e&u[k]=f");
        assert_eq!(
            Value::Object(m),
            json!({"s":["a","b"],"t":["c","d"],"u":{"0":"e","k":"f"}})
        );
    }

    #[test]
    fn per_page_out_of_bounds_matches_wordpress() {
        let p = Params(parse_form("per_page=500"));
        let mut v = Validator::new(&p);
        v.integer_range("per_page", 1, 100);
        let err = v.finish().expect_err("invalid");
        assert_eq!(
            err.body().to_string(),
            r#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400,"params":{"per_page":"per_page must be between 1 (inclusive) and 100 (inclusive)"},"details":{"per_page":{"code":"rest_out_of_bounds","message":"per_page must be between 1 (inclusive) and 100 (inclusive)","data":null}}}}"#
        );
    }

    #[test]
    fn too_deep_json_is_json_error_depth() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = parse_json_body(deep.as_bytes()).expect_err("too deep");
        assert_eq!(err.body()["data"]["json_error_code"], 1);
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(parse_json_body(ok.as_bytes()).is_ok());
        let err = parse_json_body(b"{\"a\":").expect_err("syntax");
        assert_eq!(err.body()["data"]["json_error_code"], 4);
    }

    /// From fuzzing (`fuzz/artifacts/params/crash-6ae9…`, a harness false positive): the
    /// six characters `\u0000` in a query are text, kept; only real NUL is removed.
    #[test]
    fn nul_is_removed_but_escaped_text_is_kept() {
        let p = params_from_parts(
            &Method::POST,
            Some("\\u0000\u{fffd}=1&a%00b=c%00d"),
            "application/json",
            b"{\"t\":\"x\\u0000y\",\"l\":[\"\\u0000\"]}",
        )
        .expect("params");
        assert_eq!(p.get("\\u0000\u{fffd}"), Some(&json!("1")));
        assert_eq!(p.get("ab"), Some(&json!("cd")));
        assert_eq!(p.get("t"), Some(&json!("xy")));
        assert_eq!(p.get("l"), Some(&json!([""])));
    }

    #[test]
    fn enum_messages() {
        let p = Params(parse_form("context=x"));
        let mut v = Validator::new(&p);
        v.one_of("context", &["view", "embed", "edit"]);
        let err = v.finish().expect_err("invalid");
        assert_eq!(
            err.body()["data"]["params"]["context"],
            "context is not one of view, embed, and edit."
        );
    }
}
