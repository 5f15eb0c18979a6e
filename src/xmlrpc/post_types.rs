//! Post types: `wp.getPostType`, `wp.getPostTypes` (`_prepare_post_type()`).

use crate::caps::Cap;
use crate::post_types::PostType;

use super::blog::actor_can;
use super::{Fault, RpcResult, Server, Value, minimum_args};

/// The meta capabilities' names (`edit_post`, `edit_page`, …) of a type.
fn singular(pt: &PostType) -> &str {
    match pt.caps.edit_posts.as_str() {
        "edit_pages" => "page",
        "edit_posts" => "post",
        _ => &pt.name,
    }
}

/// `_prepare_post_type()`.
fn prepare_post_type(pt: &PostType, fields: &[String]) -> Value {
    let has = |f: &str| fields.iter().any(|x| x == f);
    let s = |v: &str| Value::str(v);
    let mut out = vec![
        ("name".to_owned(), s(&pt.name)),
        ("label".to_owned(), s(pt.label("name").unwrap_or(&pt.name))),
        ("hierarchical".to_owned(), Value::Bool(pt.hierarchical)),
        ("public".to_owned(), Value::Bool(true)),
        ("show_ui".to_owned(), Value::Bool(true)),
        ("_builtin".to_owned(), Value::Bool(pt.builtin)),
        ("has_archive".to_owned(), Value::Bool(false)),
        (
            "supports".to_owned(),
            Value::Struct(
                pt.supports
                    .iter()
                    .map(|f| (f.clone(), Value::Bool(true)))
                    .collect(),
            ),
        ),
    ];
    if has("labels") {
        let labels = pt
            .all_labels()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        out.push(("labels".to_owned(), Value::Struct(labels)));
    }
    if has("cap") {
        let one = singular(pt);
        let c = &pt.caps;
        let caps = [
            ("edit_post", format!("edit_{one}")),
            ("read_post", format!("read_{one}")),
            ("delete_post", format!("delete_{one}")),
            ("edit_posts", c.edit_posts.clone()),
            ("edit_others_posts", c.edit_others_posts.clone()),
            ("delete_posts", c.delete_posts.clone()),
            ("publish_posts", c.publish_posts.clone()),
            ("read_private_posts", c.read_private_posts.clone()),
            ("read", "read".to_owned()),
            ("delete_private_posts", c.delete_private_posts.clone()),
            ("delete_published_posts", c.delete_published_posts.clone()),
            ("delete_others_posts", c.delete_others_posts.clone()),
            ("edit_private_posts", c.edit_private_posts.clone()),
            ("edit_published_posts", c.edit_published_posts.clone()),
            ("create_posts", c.create_posts.clone()),
        ];
        out.push((
            "cap".to_owned(),
            Value::object(caps.map(|(k, v)| (k, Value::String(v)))),
        ));
        out.push(("map_meta_cap".to_owned(), Value::Bool(true)));
    }
    if has("menu") {
        out.push(("menu_position".to_owned(), Value::Int(0)));
        out.push(("menu_icon".to_owned(), Value::str("")));
        out.push(("show_in_menu".to_owned(), Value::Bool(true)));
    }
    if has("taxonomies") {
        let taxonomies = if pt.name == "post" {
            vec![s("category"), s("post_tag"), s("post_format")]
        } else {
            vec![]
        };
        out.push(("taxonomies".to_owned(), Value::Array(taxonomies)));
    }
    Value::Struct(out)
}

/// Every type, as `get_post_types( array( 'public' => true ) )` orders them.
fn all_types(s: &Server<'_>) -> Vec<PostType> {
    let mut types: Vec<PostType> = s.site.config.post_types.clone();
    let at = types
        .iter()
        .position(|t| t.name == "page")
        .map_or(types.len(), |i| i + 1);
    types.insert(at, PostType::attachment());
    types
}

/// `wp.getPostType( blog_id, username, password, post_type_name, fields )`.
pub async fn get_post_type(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 4)?;
    let fields = super::fields_or(args.get(4), &["labels", "cap", "taxonomies"]);
    let user = s.login(&args[1], &args[2]).await?;
    let name = args[3].as_php_string();
    let Some(pt) = all_types(s).into_iter().find(|t| t.name == name) else {
        return Err(Fault::new(403, "Invalid post type."));
    };
    if !actor_can(&user, Cap::Primitive(&pt.caps.edit_posts)) {
        return Err(Fault::new(
            401,
            "Sorry, you are not allowed to edit posts in this post type.",
        ));
    }
    Ok(prepare_post_type(&pt, &fields))
}

/// `wp.getPostTypes( blog_id, username, password, filter, fields )`: a struct by type name.
pub async fn get_post_types(s: &mut Server<'_>, args: &[Value]) -> RpcResult {
    minimum_args(args, 3)?;
    let fields = super::fields_or(args.get(4), &["labels", "cap", "taxonomies"]);
    let user = s.login(&args[1], &args[2]).await?;
    Ok(Value::Struct(
        all_types(s)
            .iter()
            .filter(|pt| actor_can(&user, Cap::Primitive(&pt.caps.edit_posts)))
            .map(|pt| (pt.name.clone(), prepare_post_type(pt, &fields)))
            .collect(),
    ))
}
