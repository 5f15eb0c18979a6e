//! `wp.getRevisions` and `wp.restoreRevision` (`class-wp-xmlrpc-server.php`), through the
//! REST revisions and posts routes.

use serde_json::{Value as Json, json};

use super::posts::prepare_post;
use super::rest::{Rest, json_str};
use super::{Fault, RpcResult, Server, Value, minimum_args};

/// Whether the user may edit post `id`, and its REST route; `None`: no such post.
async fn edit_route(
    s: &Server<'_>,
    user: &crate::store::User,
    id: i64,
) -> Result<Option<(String, bool, bool)>, Fault> {
    let Some(post) = s.site.store.post_by_id(id).await?.filter(|_| id > 0) else {
        return Ok(None);
    };
    let Some(pt) = s.site.post_type(&post.post_type) else {
        return Ok(Some((String::new(), false, false)));
    };
    let can = super::can_edit(s, user, &post);
    Ok(Some((
        format!("/wp/v2/{}/{id}", pt.rest_base),
        can,
        crate::rest::revisions::supported(pt),
    )))
}

/// `wp.getRevisions( blog_id, username, password, post_id, fields )`: newest first.
pub async fn get_revisions(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let id = args[3].as_php_int();
    let fields = super::fields_or(args.get(4), &["post_date", "post_date_gmt"]);
    let user = s.login(&args[1], &args[2]).await?;
    let Some((route, can, enabled)) = edit_route(s, &user, id).await? else {
        return Err(Fault::new(404, "Invalid post ID."));
    };
    if !can {
        return Err(Fault::new(401, "Sorry, you are not allowed to edit posts."));
    }
    if !enabled {
        return Err(Fault::new(401, "Sorry, revisions are disabled."));
    }
    let rest = Rest::new(s, user);
    let (_, items) = rest
        .get(
            &format!("{route}/revisions"),
            &[("context", "edit"), ("per_page", "100")],
        )
        .await?;
    let mut out = Vec::new();
    if let Json::Array(items) = items {
        for mut item in items {
            // A revision as get_post() shows it: type `revision`, status `inherit`.
            if let Json::Object(o) = &mut item {
                o.insert("type".into(), json!("revision"));
                o.insert("status".into(), json!("inherit"));
            }
            out.push(prepare_post(&rest, &item, &fields).await?);
        }
    }
    Ok(Value::Array(out))
}

/// `wp.restoreRevision( blog_id, username, password, revision_id )`:
/// `wp_restore_post_revision()` copies its title, content and excerpt back to the post.
pub async fn restore_revision(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let id = args.get(3).map_or(0, Value::as_php_int);
    let user = s.login(&args[1], &args[2]).await?;
    let invalid = || Fault::new(404, "Invalid post ID.");
    let revision = s.site.store.post_by_id(id).await?.filter(|_| id > 0);
    let Some(revision) = revision.filter(|r| r.post_type == "revision") else {
        return Err(invalid());
    };
    // Autosaves are revisions named `{parent}-autosave-v1`.
    if revision.slug.contains("-autosave-") {
        return Err(invalid());
    }
    let Some((route, can, enabled)) = edit_route(s, &user, revision.parent).await? else {
        return Err(invalid());
    };
    if !can {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit this post.",
        ));
    }
    if !enabled {
        return Err(Fault::new(401, "Sorry, revisions are disabled."));
    }
    let rest = Rest::new(s, user);
    let (code, answer) = rest
        .post(
            &route,
            &json!({
                "title": revision.title,
                "content": revision.content,
                "excerpt": revision.excerpt,
            }),
        )
        .await?;
    if code != 200 && !json_str(&answer, "code").is_empty() {
        return Ok(Value::Bool(false));
    }
    Ok(Value::Bool(code == 200))
}
