//! Taxonomies and terms: `wp.getTaxonomy/ies`, `wp.getTerm(s)`, `wp.newTerm`, `wp.editTerm`,
//! `wp.deleteTerm` and the category methods of the older APIs (`class-wp-xmlrpc-server.php`),
//! through the REST term routes.

use serde_json::{Map, Value as Json, json};

use crate::caps::{Actor, Cap};
use crate::rest::terms::{TAXONOMIES, Taxonomy};

use super::posts::prepare_term;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value, minimum_args};

/// The id of the term of `tax` named `name` (case-insensitively, as MySQL compares), if any.
pub async fn term_by_name(
    rest: &Rest<'_>,
    tax: &Taxonomy,
    name: &str,
) -> Result<Option<i64>, Fault> {
    let wanted = crate::formatting::pre_name_field(name).to_lowercase();
    if wanted.is_empty() {
        return Ok(None);
    }
    let (_, found) = rest
        .get(
            &format!("/wp/v2/{}", tax.rest_base),
            &[
                ("search", name),
                ("per_page", "100"),
                ("hide_empty", "false"),
            ],
        )
        .await?;
    let Json::Array(found) = found else {
        return Ok(None);
    };
    Ok(found
        .iter()
        .find(|t| json_str(t, "name").to_lowercase() == wanted)
        .and_then(|t| t.get("id").and_then(Json::as_i64)))
}

fn taxonomy(name: &str) -> Result<&'static Taxonomy, Fault> {
    TAXONOMIES
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Fault::new(403, "Invalid taxonomy."))
}

fn actor(user: &crate::store::User) -> Actor<'_> {
    Actor {
        id: user.id,
        roles: &user.roles,
    }
}

/// `_prepare_taxonomy()` from the REST taxonomy in the edit context.
async fn prepare_taxonomy(rest: &Rest<'_>, tax: &Taxonomy, fields: &[String]) -> RpcResult {
    let (_, t) = rest
        .get(
            &format!("/wp/v2/taxonomies/{}", tax.name),
            &[("context", "edit")],
        )
        .await?;
    let has = |f: &str| fields.iter().any(|x| x == f);
    let strings = |j: Option<&Json>| match j {
        Some(Json::Object(o)) => Value::Struct(
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value::String(v.as_str().unwrap_or("").to_owned()),
                    )
                })
                .collect(),
        ),
        _ => Value::Struct(vec![]),
    };
    let mut out = vec![
        ("name".to_owned(), Value::str(tax.name)),
        ("label".to_owned(), Value::str(tax.label)),
        ("hierarchical".to_owned(), Value::Bool(tax.hierarchical)),
        ("public".to_owned(), Value::Bool(true)),
        ("show_ui".to_owned(), Value::Bool(true)),
        ("_builtin".to_owned(), Value::Bool(true)),
    ];
    if has("labels") {
        let labels = crate::rest::terms::taxonomy_labels(tax.name)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::str(*v)))
            .collect();
        out.push(("labels".to_owned(), Value::Struct(labels)));
    }
    if has("cap") {
        out.push(("cap".to_owned(), strings(t.get("capabilities"))));
    }
    if has("menu") {
        out.push(("show_in_menu".to_owned(), Value::Bool(true)));
    }
    if has("object_type") {
        let types = match t.get("types") {
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| Value::str(v.as_str().unwrap_or("")))
                .collect(),
            _ => vec![],
        };
        out.push(("object_type".to_owned(), Value::Array(types)));
    }
    Ok(Value::Struct(out))
}

/// `wp.getTaxonomy( blog_id, username, password, taxonomy, fields )`.
pub async fn get_taxonomy(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let fields = super::fields_or(args.get(4), &["labels", "cap", "object_type"]);
    let user = s.login(&args[1], &args[2]).await?;
    let tax = taxonomy(&args[3].as_php_string())?;
    if !tax.can_assign(&actor(&user)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to assign terms in this taxonomy.",
        ));
    }
    prepare_taxonomy(&Rest::new(s, user), tax, &fields).await
}

/// `wp.getTaxonomies( blog_id, username, password, filter, fields )`: those the user may
/// assign terms of.
pub async fn get_taxonomies(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let fields = super::fields_or(args.get(4), &["labels", "cap", "object_type"]);
    let user = s.login(&args[1], &args[2]).await?;
    let rest = Rest::new(s, user.clone());
    let mut out = Vec::new();
    for tax in TAXONOMIES {
        if tax.can_assign(&actor(&user)) {
            out.push(prepare_taxonomy(&rest, tax, &fields).await?);
        }
    }
    Ok(Value::Array(out))
}

/// The REST term `id` of `tax`; `Ok(None)` when there is none.
async fn rest_term(rest: &Rest<'_>, tax: &Taxonomy, id: i64) -> Result<Option<Json>, Fault> {
    if id <= 0 {
        // get_term() of 0: WP_Error 'invalid_term'.
        return Err(Fault::new(500, "Empty Term."));
    }
    let (code, t) = rest
        .get(&format!("/wp/v2/{}/{id}", tax.rest_base), &[])
        .await?;
    Ok((code == 200).then_some(t))
}

/// `wp.getTerm( blog_id, username, password, taxonomy, term_id )`.
pub async fn get_term(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 5)?;
    let user = s.login(&args[1], &args[2]).await?;
    let tax = taxonomy(&args[3].as_php_string())?;
    let rest = Rest::new(s, user.clone());
    let Some(term) = rest_term(&rest, tax, args[4].as_php_int()).await? else {
        return Err(Fault::new(404, "Invalid term ID."));
    };
    if !tax.can_assign(&actor(&user)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to assign this term.",
        ));
    }
    Ok(prepare_term(&term))
}

/// `wp.getTerms( blog_id, username, password, taxonomy, filter )`: `number`, `offset`,
/// `orderby`, `order`, `hide_empty`, `search`; every term by default.
pub async fn get_terms(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let filter = args.get(4).cloned().unwrap_or(Value::Struct(vec![]));
    let user = s.login(&args[1], &args[2]).await?;
    let tax = taxonomy(&args[3].as_php_string())?;
    if !tax.can_assign(&actor(&user)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to assign terms in this taxonomy.",
        ));
    }
    let rest = Rest::new(s, user);
    let mut wanted = match filter.get("number").map(|n| n.as_php_int().unsigned_abs()) {
        Some(0) | None => u64::MAX,
        Some(n) => n,
    };
    let mut skip = filter
        .get("offset")
        .map_or(0, |v| v.as_php_int().unsigned_abs());
    let orderby =
        filter
            .get("orderby")
            .map(|o| match o.as_php_string().to_ascii_lowercase().as_str() {
                "id" | "term_id" => "id",
                "slug" => "slug",
                "count" => "count",
                "description" => "description",
                "term_group" => "term_group",
                _ => "name",
            });
    let order = filter
        .get("order")
        .map(|o| o.as_php_string().to_ascii_lowercase())
        .filter(|o| o == "desc")
        .unwrap_or_else(|| "asc".to_owned());
    let hide_empty = filter
        .get("hide_empty")
        .is_some_and(Value::truthy)
        .to_string();
    let search = filter.get("search").map(Value::as_php_string);
    let mut out = Vec::new();
    while wanted > 0 {
        let per_page = wanted.min(100);
        let (per_page_s, skip_s) = (per_page.to_string(), skip.to_string());
        let mut q = vec![
            ("per_page", per_page_s.as_str()),
            ("offset", skip_s.as_str()),
            ("hide_empty", hide_empty.as_str()),
            ("order", order.as_str()),
        ];
        if let Some(o) = orderby {
            q.push(("orderby", o));
        }
        if let Some(term) = search.as_deref() {
            q.push(("search", term));
        }
        let (_, items) = rest.get(&format!("/wp/v2/{}", tax.rest_base), &q).await?;
        let Json::Array(items) = items else { break };
        let n = items.len() as u64;
        out.extend(items.iter().map(prepare_term));
        if n < per_page {
            break;
        }
        wanted = wanted.saturating_sub(n);
        skip += n;
    }
    Ok(Value::Array(out))
}

/// A REST write's answer as WordPress's fault: 401 for a refusal, else 500 with the message.
fn write_fault(code: u16, answer: &Json, refused: &str) -> Fault {
    if code == 401 || code == 403 {
        Fault::new(401, refused)
    } else {
        Fault::new(500, json_str(answer, "message"))
    }
}

/// The `name`, `parent`, `description` and `slug` of a term struct as REST fields, with the
/// checks `wp.newTerm` and `wp.editTerm` make.
async fn term_body(
    rest: &Rest<'_>,
    tax: &Taxonomy,
    content: &Value,
    editing: bool,
) -> Result<Map<String, Json>, Fault> {
    let mut body = Map::new();
    if let Some(name) = content
        .get("name")
        .or((!editing).then_some(&Value::Bool(false)))
    {
        let name = match name {
            Value::Bool(false) => String::new(),
            n => n.as_php_string().trim().to_owned(),
        };
        if name.is_empty() || name == "0" {
            return Err(Fault::new(403, "The term name cannot be empty."));
        }
        body.insert("name".into(), Json::String(name));
    }
    let parent = content.get("parent");
    if parent.is_some_and(|p| !editing || p.truthy()) {
        if !tax.hierarchical {
            return Err(Fault::new(
                403,
                if editing {
                    "Cannot set parent term, taxonomy is not hierarchical."
                } else {
                    "This taxonomy is not hierarchical."
                },
            ));
        }
        let id = parent.map_or(0, Value::as_php_int);
        if rest_term(rest, tax, id).await?.is_none() {
            return Err(Fault::new(403, "Parent term does not exist."));
        }
        body.insert("parent".into(), json!(id));
    }
    for k in ["description", "slug"] {
        if let Some(v) = content.get(k) {
            body.insert(k.into(), Json::String(v.as_php_string()));
        }
    }
    Ok(body)
}

/// `wp.newTerm( blog_id, username, password, content_struct )`: the new id as a string.
pub async fn new_term(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let user = s.login(&args[1], &args[2]).await?;
    let content = &args[3];
    let tax = taxonomy(
        &content
            .get("taxonomy")
            .map(Value::as_php_string)
            .unwrap_or_default(),
    )?;
    if !actor(&user).can(Cap::Primitive("manage_categories")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to create terms in this taxonomy.",
        ));
    }
    let rest = Rest::new(s, user);
    let body = term_body(&rest, tax, content, false).await?;
    let (code, made) = rest
        .post(&format!("/wp/v2/{}", tax.rest_base), &Json::Object(body))
        .await?;
    if code != 201 {
        return Err(write_fault(
            code,
            &made,
            "Sorry, you are not allowed to create terms in this taxonomy.",
        ));
    }
    Ok(Value::String(
        made.get("id")
            .and_then(Json::as_i64)
            .unwrap_or(0)
            .to_string(),
    ))
}

/// `wp.editTerm( blog_id, username, password, term_id, content_struct )`.
pub async fn edit_term(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 5)?;
    let user = s.login(&args[1], &args[2]).await?;
    let id = args[3].as_php_int();
    let content = &args[4];
    let tax = taxonomy(
        &content
            .get("taxonomy")
            .map(Value::as_php_string)
            .unwrap_or_default(),
    )?;
    let rest = Rest::new(s, user.clone());
    if rest_term(&rest, tax, id).await?.is_none() {
        return Err(Fault::new(404, "Invalid term ID."));
    }
    if !actor(&user).can(Cap::Primitive("manage_categories")) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this term.",
        ));
    }
    let body = term_body(&rest, tax, content, true).await?;
    let (code, answer) = rest
        .post(
            &format!("/wp/v2/{}/{id}", tax.rest_base),
            &Json::Object(body),
        )
        .await?;
    if code != 200 {
        return Err(write_fault(
            code,
            &answer,
            "Sorry, you are not allowed to edit this term.",
        ));
    }
    Ok(Value::Bool(true))
}

/// `wp.deleteTerm( blog_id, username, password, taxonomy, term_id )`.
pub async fn delete_term(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 5)?;
    let user = s.login(&args[1], &args[2]).await?;
    let tax = taxonomy(&args[3].as_php_string())?;
    let id = args[4].as_php_int();
    let rest = Rest::new(s, user.clone());
    if rest_term(&rest, tax, id).await?.is_none() {
        return Err(Fault::new(404, "Invalid term ID."));
    }
    let refused = "Sorry, you are not allowed to delete this term.";
    // map_meta_cap( 'delete_term' ): the default category can't be deleted by anyone.
    if !actor(&user).can(Cap::Primitive("manage_categories"))
        || (tax.name == "category" && id == crate::rest::terms::DEFAULT_CATEGORY)
    {
        return Err(Fault::new(401, refused));
    }
    let (code, answer) = rest
        .delete(
            &format!("/wp/v2/{}/{id}", tax.rest_base),
            &[("force", "true")],
        )
        .await?;
    if code != 200 {
        return Err(write_fault(code, &answer, refused));
    }
    Ok(Value::Bool(true))
}
