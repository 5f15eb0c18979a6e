//! Media items as XML-RPC shows them (`_prepare_media_item()`).

use serde_json::Value as Json;

use super::posts::iso_value;
use super::rest::{Rest, json_str};
use super::{Fault, Value};

/// `_prepare_media_item()` of attachment `id`, read through REST; `None` if it can't be read.
pub async fn media_item(rest: &Rest<'_>, id: i64) -> Result<Option<Value>, Fault> {
    let (status, m) = rest
        .get(&format!("/wp/v2/media/{id}"), &[("context", "edit")])
        .await?;
    if status != 200 {
        return Ok(None);
    }
    let raw = |k: &str| {
        m.get(k)
            .and_then(|v| v.get("raw").or(Some(v)))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let link = json_str(&m, "source_url").to_owned();
    let details = m.get("media_details").cloned().unwrap_or(Json::Null);
    let thumbnail = details
        .get("sizes")
        .and_then(|s| s.get("thumbnail"))
        .and_then(|t| t.get("source_url"))
        .and_then(Json::as_str)
        .map_or_else(|| link.clone(), str::to_owned);
    Ok(Some(Value::object([
        ("attachment_id", Value::String(id.to_string())),
        ("date_created_gmt", iso_value(json_str(&m, "date_gmt"))),
        (
            "parent",
            Value::Int(m.get("post").and_then(Json::as_i64).unwrap_or(0)),
        ),
        ("link", Value::String(link)),
        ("title", Value::String(raw("title"))),
        ("caption", Value::String(raw("caption"))),
        ("description", Value::String(raw("description"))),
        ("metadata", metadata(&details)),
        ("type", Value::str(json_str(&m, "mime_type"))),
        ("thumbnail", Value::String(thumbnail)),
    ])))
}

/// `wp_get_attachment_metadata()` from REST's `media_details` (sizes without `source_url`).
fn metadata(details: &Json) -> Value {
    match details {
        Json::Object(o) if o.is_empty() => Value::Bool(false),
        Json::Object(_) => to_value(details, true),
        _ => Value::Bool(false),
    }
}

/// JSON as XML-RPC values (`strip_urls`: drop `source_url`, which metadata does not hold).
fn to_value(j: &Json, strip_urls: bool) -> Value {
    match j {
        Json::Null => Value::str(""),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Double(n.as_f64().unwrap_or(0.0)), Value::Int),
        Json::String(s) => Value::str(s),
        Json::Array(a) => Value::Array(a.iter().map(|x| to_value(x, strip_urls)).collect()),
        Json::Object(o) => Value::Struct(
            o.iter()
                .filter(|(k, _)| !(strip_urls && *k == "source_url"))
                .map(|(k, v)| (k.clone(), to_value(v, strip_urls)))
                .collect(),
        ),
    }
}
