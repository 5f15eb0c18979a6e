//! Custom fields and enclosures of posts over XML-RPC (`get_custom_fields()`,
//! `set_custom_fields()`, `add_enclosure_if_new()` and the `enclosure` member of
//! `_prepare_post()` / `mw_getPost` in `class-wp-xmlrpc-server.php`): rows of the post's meta
//! table, read and written by meta id.

use serde_json::Value as Json;

use crate::site::Site;
use crate::store::User;

use super::{Fault, Value};

/// `is_protected_meta()`: a key whose first printable character is `_` is not a custom
/// field (`edit_post_meta`, `add_post_meta`, `delete_post_meta` are denied for it).
pub fn is_protected_meta(key: &str) -> bool {
    key.chars()
        .find(|c| matches!(c, ' '..='~') || c.is_alphabetic())
        == Some('_')
}

/// A stored meta value (JSON text) as the string WordPress keeps.
fn meta_string(stored: &str) -> String {
    match serde_json::from_str::<Json>(stored) {
        Ok(Json::String(s)) => s,
        Ok(Json::Bool(b)) => if b { "1" } else { "" }.to_owned(),
        _ => stored.to_owned(),
    }
}

/// Whether `user` may edit post `post_id` (`edit_post_meta` for an unprotected key).
async fn may_edit(site: &Site, user: Option<&User>, post_id: i64) -> Result<bool, Fault> {
    let Some(user) = user else {
        return Ok(false);
    };
    Ok(site
        .store
        .post_by_id(post_id)
        .await?
        .is_some_and(|p| super::can_edit_on(site, user, &p)))
}

/// `get_custom_fields()`: `{id, key, value}` of every unprotected meta row, by key then id;
/// nothing for a user who may not edit the post.
pub async fn get_custom_fields(
    site: &Site,
    user: Option<&User>,
    post_id: i64,
) -> Result<Value, Fault> {
    if post_id <= 0 || !may_edit(site, user, post_id).await? {
        return Ok(Value::Array(vec![]));
    }
    let rows = site.store.post_meta_rows(post_id).await?;
    Ok(Value::Array(
        rows.into_iter()
            .filter(|(_, key, _)| !is_protected_meta(key))
            .map(|(id, key, value)| {
                Value::object([
                    ("id", Value::String(id.to_string())),
                    ("key", Value::String(key)),
                    ("value", Value::String(meta_string(&value))),
                ])
            })
            .collect(),
    ))
}

/// `set_custom_fields()`: a member with an `id` updates that row (same `key` given) or
/// deletes it (no `key`); one without adds a value. Rows of other posts, protected keys and
/// a changed key are skipped, as WordPress skips them.
pub async fn set_custom_fields(
    site: &Site,
    user: &User,
    post_id: i64,
    fields: &Value,
) -> Result<(), Fault> {
    if !may_edit(site, Some(user), post_id).await? {
        return Ok(());
    }
    for meta in fields.items() {
        let key = meta.get("key").map(Value::as_php_string);
        let value = meta
            .get("value")
            .map(Value::as_php_string)
            .unwrap_or_default();
        let stored = Json::String(value).to_string();
        if let Some(id) = meta.get("id") {
            let id = id.as_php_int();
            let Some((owner, existing_key, _)) = site.store.post_meta_by_id(id).await? else {
                continue;
            };
            if owner != post_id || is_protected_meta(&existing_key) {
                continue;
            }
            match key {
                Some(k) if k == existing_key => {
                    site.store.update_post_meta_by_id(id, &stored).await?;
                }
                Some(_) => {}
                None => {
                    site.store.delete_post_meta_by_id(id).await?;
                }
            }
        } else if let Some(k) = key.filter(|k| !k.is_empty() && !is_protected_meta(k)) {
            site.store.add_post_meta(post_id, &k, &stored).await?;
        }
    }
    Ok(())
}

/// The `enclosure` struct: the first `enclosure` value, `url\nlength\ntype`; `None` when the
/// post has none.
pub async fn enclosure(site: &Site, post_id: i64) -> Result<Option<Value>, Fault> {
    if post_id <= 0 {
        return Ok(None);
    }
    let rows = site.store.post_meta(&[post_id]).await?;
    let Some((_, _, first)) = rows.into_iter().find(|(_, k, _)| k == "enclosure") else {
        return Ok(None);
    };
    let text = meta_string(&first);
    let mut parts = text.split('\n');
    let mut next = || parts.next().unwrap_or("").trim().to_owned();
    let url = crate::admin::esc_html(&next());
    let length = super::value::php_intval(&next());
    let ty = next();
    Ok(Some(Value::object([
        ("url", Value::String(url)),
        ("length", Value::Int(length)),
        ("type", Value::String(ty)),
    ])))
}

/// `add_enclosure_if_new()`: a struct with `url`, `length` and `type` is added unless the
/// post already has it.
pub async fn add_enclosure_if_new(
    site: &Site,
    post_id: i64,
    enclosure: Option<&Value>,
) -> Result<(), Fault> {
    let Some(e @ Value::Struct(_)) = enclosure else {
        return Ok(());
    };
    let (Some(url), Some(length), Some(ty)) = (e.get("url"), e.get("length"), e.get("type")) else {
        return Ok(());
    };
    let encstring = format!(
        "{}\n{}\n{}\n",
        url.as_php_string(),
        length.as_php_string(),
        ty.as_php_string()
    );
    let rows = site.store.post_meta(&[post_id]).await?;
    // "This method used to omit the trailing new line."
    let found = rows.iter().any(|(_, k, v)| {
        k == "enclosure"
            && meta_string(v).trim_end_matches('\n') == encstring.trim_end_matches('\n')
    });
    if !found {
        site.store
            .add_post_meta(post_id, "enclosure", &Json::String(encstring).to_string())
            .await?;
    }
    Ok(())
}
