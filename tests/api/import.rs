//! `ferropress import wordpress|wxr` and `ferropress export wxr`: a varied site seeded on the
//! WordPress oracle comes over through its REST API and through its own WXR export, and is
//! compared object by object through both REST APIs; ferropress → WXR → ferropress gives the
//! same REST answers; an import killed half-way and run again ends as an uninterrupted one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use std::sync::Arc;

use crate::helpers::{TestApp, send, stderr, stdout, store_env};

/// The oracle's address and administrator, or `None` (the test is skipped) when it is not
/// configured, unless `FERROPRESS_REQUIRE_ORACLE=1`.
fn oracle() -> Option<(String, String)> {
    let url = std::env::var("WP_ORACLE_URL").ok();
    let pass = std::env::var("WP_ORACLE_ADMIN_APP_PASSWORD").ok();
    match (url, pass) {
        (Some(u), Some(p)) => Some((u.trim_end_matches('/').to_owned(), p)),
        _ => {
            assert!(
                std::env::var("FERROPRESS_REQUIRE_ORACLE").as_deref() != Ok("1"),
                "FERROPRESS_REQUIRE_ORACLE=1 but WP_ORACLE_URL / WP_ORACLE_ADMIN_APP_PASSWORD are not set"
            );
            println!(
                "import: skipped (no WordPress oracle; eval \"$(scripts/wordpress-oracle.sh env)\")"
            );
            None
        }
    }
}

struct Wp {
    url: String,
    pass: String,
    client: reqwest::Client,
}

impl Wp {
    fn req(&self, method: reqwest::Method, route: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/wp-json/{route}", self.url))
            .basic_auth("admin", Some(&self.pass))
    }

    async fn post(&self, route: &str, body: Value) -> Value {
        let (status, v) = send(self.req(reqwest::Method::POST, route).json(&body)).await;
        assert!(status < 300, "oracle {route}: {status} {v}");
        v
    }

    async fn get(&self, route: &str) -> Value {
        let sep = if route.contains('?') { '&' } else { '?' };
        let (status, v) = send(self.req(
            reqwest::Method::GET,
            &format!("{route}{sep}context=edit&per_page=100"),
        ))
        .await;
        assert_eq!(status, 200, "oracle {route}: {v}");
        v
    }

    async fn delete(&self, route: &str) {
        let sep = if route.contains('?') { '&' } else { '?' };
        let _ = self
            .req(reqwest::Method::DELETE, &format!("{route}{sep}force=true"))
            .send()
            .await;
    }
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 77])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// What was seeded on the oracle (for the clean-up).
#[derive(Default)]
struct Seeded {
    users: Vec<i64>,
    terms: Vec<(&'static str, i64)>,
    posts: Vec<(&'static str, i64)>,
    comments: Vec<i64>,
}

/// Users of every role, nested categories, tags, posts in every status, pages with
/// parents, a sticky post with a featured image, an image with sub-sizes, comments.
async fn seed(wp: &Wp, p: &str, seeded: &mut Seeded) {
    let mut users = BTreeMap::new();
    for role in ["editor", "author", "contributor", "subscriber"] {
        let u = wp
            .post(
                "wp/v2/users",
                json!({"username": format!("{p}-{role}"), "email": format!("{p}-{role}@example.com"),
                       "password": "seed-password-1", "roles": [role], "first_name": format!("First {role}"),
                       "last_name": "Last", "name": format!("{p} {role}"), "description": "About me",
                       "url": "https://example.org/me"}),
            )
            .await;
        seeded.users.push(u["id"].as_i64().expect("import test"));
        users.insert(role, u["id"].as_i64().expect("import test"));
    }
    let parent = wp
        .post(
            "wp/v2/categories",
            json!({"name": format!("{p} parent"), "description": "Top"}),
        )
        .await;
    let parent = parent["id"].as_i64().expect("import test");
    seeded.terms.push(("categories", parent));
    let child = wp
        .post(
            "wp/v2/categories",
            json!({"name": format!("{p} child"), "parent": parent}),
        )
        .await;
    let child = child["id"].as_i64().expect("import test");
    seeded.terms.push(("categories", child));
    let mut tags = vec![];
    for t in ["one", "two"] {
        let tag = wp
            .post("wp/v2/tags", json!({"name": format!("{p} {t}")}))
            .await;
        tags.push(tag["id"].as_i64().expect("import test"));
        seeded
            .terms
            .push(("tags", tag["id"].as_i64().expect("import test")));
    }
    let (status, media) = send(
        wp.req(reqwest::Method::POST, "wp/v2/media")
            .header("Content-Type", "image/png")
            .header(
                "Content-Disposition",
                format!("attachment; filename={p}-image.png"),
            )
            .body(png(320, 200)),
    )
    .await;
    assert_eq!(status, 201, "{media}");
    let media_id = media["id"].as_i64().expect("import test");
    seeded.posts.push(("media", media_id));
    let media_url = media["source_url"]
        .as_str()
        .expect("import test")
        .to_owned();
    wp.post(
        &format!("wp/v2/media/{media_id}"),
        json!({"alt_text": "An image", "caption": "Its caption", "title": format!("{p} image")}),
    )
    .await;

    let post = |body: Value| {
        let wp = &wp;
        async move { wp.post("wp/v2/posts", body).await }
    };
    let main = post(json!({
        "title": format!("{p} published"), "status": "publish", "author": users["editor"],
        "content": format!("<p>Hello <img src=\"{media_url}\" alt=\"\"></p>"),
        "excerpt": "Short", "categories": [child], "tags": tags, "sticky": true,
        "featured_media": media_id, "format": "aside", "date": "2026-03-04T05:06:07",
        "slug": format!("{p}-published")
    }))
    .await;
    let main_id = main["id"].as_i64().expect("import test");
    seeded.posts.push(("posts", main_id));
    // Two revisions (each update keeps one) and an autosave, which `/revisions` lists too.
    let route = format!("wp/v2/posts/{main_id}");
    wp.post(
        &route,
        json!({"title": format!("{p} first title"), "content": "<p>First version</p>", "excerpt": "Older"}),
    )
    .await;
    wp.post(
        &route,
        json!({"title": main["title"]["raw"], "content": main["content"]["raw"], "excerpt": "Short"}),
    )
    .await;
    wp.post(
        &format!("{route}/autosaves"),
        json!({"title": format!("{p} autosaved"), "content": "<p>Unsaved</p>"}),
    )
    .await;
    for (status, extra) in [
        ("draft", json!({"author": users["contributor"]})),
        ("pending", json!({"author": users["author"]})),
        ("private", json!({"categories": [parent]})),
        ("future", json!({"date": "2031-01-02T03:04:05"})),
        (
            "publish",
            json!({"password": "secret", "comment_status": "closed"}),
        ),
    ] {
        let mut body = json!({"title": format!("{p} {status} post"), "status": status,
                              "content": format!("<!-- wp:paragraph --><p>{status}</p><!-- /wp:paragraph -->")});
        for (k, v) in extra.as_object().expect("import test") {
            body[k] = v.clone();
        }
        let created = post(body).await;
        seeded
            .posts
            .push(("posts", created["id"].as_i64().expect("import test")));
    }
    let top = wp
        .post(
            "wp/v2/pages",
            json!({"title": format!("{p} top page"), "status": "publish", "content": "Top"}),
        )
        .await;
    seeded
        .posts
        .push(("pages", top["id"].as_i64().expect("import test")));
    let sub = wp
        .post(
            "wp/v2/pages",
            json!({"title": format!("{p} sub page"), "status": "publish", "parent": top["id"], "menu_order": 3}),
        )
        .await;
    seeded
        .posts
        .push(("pages", sub["id"].as_i64().expect("import test")));
    let first = wp
        .post(
            "wp/v2/comments",
            json!({"post": main_id, "content": format!("{p} first comment"), "author_name": "Ann",
                   "author_email": "ann@example.com", "date": "2026-03-05T01:02:03"}),
        )
        .await;
    seeded
        .comments
        .push(first["id"].as_i64().expect("import test"));
    let reply = wp
        .post(
            "wp/v2/comments",
            json!({"post": main_id, "parent": first["id"], "content": format!("{p} a reply"),
                   "status": "hold"}),
        )
        .await;
    seeded
        .comments
        .push(reply["id"].as_i64().expect("import test"));
}

async fn clean_up(wp: &Wp, seeded: &Seeded) {
    for c in &seeded.comments {
        wp.delete(&format!("wp/v2/comments/{c}")).await;
    }
    for (base, id) in seeded.posts.iter().rev() {
        wp.delete(&format!("wp/v2/{base}/{id}")).await;
    }
    for (base, id) in &seeded.terms {
        wp.delete(&format!("wp/v2/{base}/{id}")).await;
    }
    for u in &seeded.users {
        wp.delete(&format!("wp/v2/users/{u}?reassign=1")).await;
    }
}

/// An administrator's REST view of a ferropress site.
struct Fp<'a> {
    app: &'a TestApp,
    token: String,
}

impl Fp<'_> {
    /// Every page of a collection.
    async fn get_all(&self, route: &str) -> Value {
        let sep = if route.contains('?') { '&' } else { '?' };
        let mut all = vec![];
        for page in 1.. {
            let items = list(&self.get(&format!("{route}{sep}page={page}")).await);
            let n = items.len();
            all.extend(items);
            if n < 100 {
                break;
            }
        }
        Value::Array(all)
    }

    async fn get(&self, route: &str) -> Value {
        let sep = if route.contains('?') { '&' } else { '?' };
        let (status, v) = send(
            self.app
                .client
                .get(
                    self.app
                        .url(&format!("/wp-json/{route}{sep}context=edit&per_page=100")),
                )
                .basic_auth("admin", Some(&self.token)),
        )
        .await;
        assert_eq!(status, 200, "ferropress {route}: {v}");
        v
    }
}

async fn admin_view(app: &TestApp) -> Fp<'_> {
    let admin = app
        .site
        .store
        .user_by_login("admin")
        .await
        .expect("import test")
        .expect("import test");
    let name = format!("import-test-{}", rand::random::<u32>());
    let token = app.create_token(admin.id, &name).await;
    Fp { app, token }
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// The login of the user with this id.
fn login_of(users: &[Value], id: &Value) -> Value {
    users
        .iter()
        .find(|u| &u["id"] == id)
        .map(|u| u["username"].clone())
        .unwrap_or(Value::Null)
}

fn by<'a>(items: &'a [Value], field: &str, raw: bool, wanted: &str) -> Option<&'a Value> {
    items.iter().find(|i| {
        let f = if raw { &i[field]["raw"] } else { &i[field] };
        f.as_str() == Some(wanted)
    })
}

/// Field-by-field differences between the oracle's seeded objects and ferropress's, matched
/// by unique titles, names and logins; references compared through what they point at.
/// `roles`: whether the source carried users' roles (the REST API does; WXR does not).
async fn differences(wp: &Wp, fp: &Fp<'_>, p: &str, roles: bool) -> Vec<String> {
    let mut diffs = vec![];
    let mut diff = |what: String, a: &Value, b: &Value| {
        if a != b {
            diffs.push(format!("{what}: oracle {a} / ferropress {b}"));
        }
    };
    let wp_users = list(&wp.get(&format!("wp/v2/users?search={p}")).await);
    let fp_users = list(&fp.get("wp/v2/users").await);
    assert_eq!(wp_users.len(), 4, "seeded users");
    for u in &wp_users {
        let login = u["username"].as_str().expect("import test");
        let Some(f) = by(&fp_users, "username", false, login) else {
            // export_wp() lists only the authors of exported posts (`wxr_authors_list()`).
            if !roles {
                continue;
            }
            diff(
                format!("user {login}"),
                &json!("present"),
                &json!("missing"),
            );
            continue;
        };
        let mut fields = vec!["email", "first_name", "last_name", "name"];
        if roles {
            fields.extend(["roles", "description", "url", "nickname", "slug"]);
        }
        for field in fields {
            diff(format!("user {login} {field}"), &u[field], &f[field]);
        }
    }
    let wp_all_users = list(&wp.get("wp/v2/users").await);
    for (route, _) in [("categories", ()), ("tags", ())] {
        let wp_terms = list(
            &wp.get(&format!("wp/v2/{route}?search={p}&hide_empty=false"))
                .await,
        );
        let fp_terms = list(
            &fp.get(&format!("wp/v2/{route}?search={p}&hide_empty=false"))
                .await,
        );
        assert_eq!(wp_terms.len(), 2, "seeded {route}");
        for t in &wp_terms {
            let slug = t["slug"].as_str().expect("import test");
            let Some(f) = by(&fp_terms, "slug", false, slug) else {
                diff(
                    format!("{route} {slug}"),
                    &json!("present"),
                    &json!("missing"),
                );
                continue;
            };
            for field in ["name", "description", "count", "taxonomy"] {
                diff(format!("{route} {slug} {field}"), &t[field], &f[field]);
            }
            let slug_of = |terms: &[Value], id: &Value| {
                terms
                    .iter()
                    .find(|x| &x["id"] == id)
                    .map(|x| x["slug"].clone())
                    .unwrap_or(json!(0))
            };
            diff(
                format!("{route} {slug} parent"),
                &slug_of(&wp_terms, &t["parent"]),
                &slug_of(&fp_terms, &f["parent"]),
            );
        }
    }
    let wp_cats = list(&wp.get("wp/v2/categories?hide_empty=false").await);
    let fp_cats = list(&fp.get("wp/v2/categories?hide_empty=false").await);
    let wp_tags = list(&wp.get("wp/v2/tags?hide_empty=false").await);
    let fp_tags = list(&fp.get("wp/v2/tags?hide_empty=false").await);
    let slugs = |terms: &[Value], ids: &Value| {
        let mut s: Vec<String> = ids
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| terms.iter().find(|t| &t["id"] == id))
            .map(|t| t["slug"].as_str().unwrap_or("").to_owned())
            .collect();
        s.sort();
        s
    };
    let wp_media = list(&wp.get(&format!("wp/v2/media?search={p}")).await);
    let fp_media = list(&fp.get(&format!("wp/v2/media?search={p}")).await);
    let title_of = |items: &[Value], id: &Value| {
        items
            .iter()
            .find(|i| &i["id"] == id)
            .map(|i| i["title"]["raw"].clone())
            .unwrap_or(json!(0))
    };
    assert_eq!(wp_media.len(), 1, "seeded media");
    for m in &wp_media {
        let title = m["title"]["raw"].as_str().expect("import test");
        let Some(f) = by(&fp_media, "title", true, title) else {
            diff(
                format!("media {title}"),
                &json!("present"),
                &json!("missing"),
            );
            continue;
        };
        for field in [
            "slug",
            "status",
            "mime_type",
            "alt_text",
            "date_gmt",
            "media_type",
        ] {
            diff(format!("media {title} {field}"), &m[field], &f[field]);
        }
        diff(
            format!("media {title} caption"),
            &m["caption"]["raw"],
            &f["caption"]["raw"],
        );
        for field in ["width", "height", "file"] {
            diff(
                format!("media {title} {field}"),
                &m["media_details"][field],
                &f["media_details"][field],
            );
        }
        let sizes = |v: &Value| {
            let mut k: Vec<String> = v["media_details"]["sizes"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            k.sort();
            json!(k)
        };
        diff(format!("media {title} sizes"), &sizes(m), &sizes(f));
        let wp_bytes = wp
            .client
            .get(m["source_url"].as_str().expect("import test"))
            .send()
            .await
            .expect("import test")
            .bytes()
            .await
            .expect("import test");
        let fp_bytes = fp
            .app
            .client
            .get(f["source_url"].as_str().expect("import test"))
            .send()
            .await
            .expect("import test")
            .bytes()
            .await
            .expect("import test");
        if wp_bytes != fp_bytes {
            diff(
                format!("media {title} file bytes"),
                &json!(wp_bytes.len()),
                &json!(-1),
            );
        }
    }
    for route in ["posts", "pages"] {
        let wp_items = list(
            &wp.get(&format!("wp/v2/{route}?search={p}&status=any"))
                .await,
        );
        let fp_items = list(
            &fp.get(&format!("wp/v2/{route}?search={p}&status=any"))
                .await,
        );
        assert!(!wp_items.is_empty(), "seeded {route}");
        for w in &wp_items {
            let title = w["title"]["raw"].as_str().expect("import test");
            let Some(f) = by(&fp_items, "title", true, title) else {
                diff(
                    format!("{route} {title}"),
                    &json!("present"),
                    &json!("missing"),
                );
                continue;
            };
            for field in [
                "slug",
                "status",
                "date",
                "date_gmt",
                "modified",
                "modified_gmt",
                "comment_status",
                "ping_status",
                "sticky",
                "format",
                "password",
                "menu_order",
                "template",
            ] {
                diff(format!("{route} {title} {field}"), &w[field], &f[field]);
            }
            let content = w["content"]["raw"]
                .as_str()
                .unwrap_or("")
                .replace(&wp.url, &fp.app.base);
            diff(
                format!("{route} {title} content"),
                &json!(content),
                &f["content"]["raw"],
            );
            diff(
                format!("{route} {title} excerpt"),
                &w["excerpt"]["raw"],
                &f["excerpt"]["raw"],
            );
            diff(
                format!("{route} {title} author"),
                &login_of(&wp_all_users, &w["author"]),
                &login_of(&fp_users, &f["author"]),
            );
            diff(
                format!("{route} {title} parent"),
                &title_of(&wp_items, &w["parent"]),
                &title_of(&fp_items, &f["parent"]),
            );
            diff(
                format!("{route} {title} featured_media"),
                &title_of(&wp_media, &w["featured_media"]),
                &title_of(&fp_media, &f["featured_media"]),
            );
            if route == "posts" {
                diff(
                    format!("{route} {title} categories"),
                    &json!(slugs(&wp_cats, &w["categories"])),
                    &json!(slugs(&fp_cats, &f["categories"])),
                );
                diff(
                    format!("{route} {title} tags"),
                    &json!(slugs(&wp_tags, &w["tags"])),
                    &json!(slugs(&fp_tags, &f["tags"])),
                );
            }
            let wp_comments = list(
                &wp.get(&format!("wp/v2/comments?post={}&status=all", w["id"]))
                    .await,
            );
            let mut fp_comments = vec![];
            for status in ["approve", "hold"] {
                fp_comments.extend(list(
                    &fp.get(&format!("wp/v2/comments?post={}&status={status}", f["id"]))
                        .await,
                ));
            }
            let mut wp_held = list(
                &wp.get(&format!("wp/v2/comments?post={}&status=hold", w["id"]))
                    .await,
            );
            let mut wp_comments = wp_comments;
            wp_comments.append(&mut wp_held);
            for c in &wp_comments {
                let text = c["content"]["raw"].as_str().expect("import test");
                let Some(fc) = by(&fp_comments, "content", true, text) else {
                    diff(
                        format!("comment {text}"),
                        &json!("present"),
                        &json!("missing"),
                    );
                    continue;
                };
                for field in ["author_name", "author_email", "status", "date_gmt", "type"] {
                    diff(format!("comment {text} {field}"), &c[field], &fc[field]);
                }
                let text_of = |cs: &[Value], id: &Value| {
                    cs.iter()
                        .find(|x| &x["id"] == id)
                        .map(|x| x["content"]["raw"].clone())
                        .unwrap_or(json!(0))
                };
                diff(
                    format!("comment {text} parent"),
                    &text_of(&wp_comments, &c["parent"]),
                    &text_of(&fp_comments, &fc["parent"]),
                );
            }
        }
    }
    diffs
}

/// The `/revisions` lists of the seeded posts and pages field by field (authors through
/// their logins; ids are kept on an empty site), and how many revisions the oracle has.
async fn revision_differences(wp: &Wp, fp: &Fp<'_>, p: &str) -> (Vec<String>, usize) {
    let mut diffs = vec![];
    let mut seen = 0;
    let mut diff = |what: String, a: &Value, b: &Value| {
        if a != b {
            diffs.push(format!("{what}: oracle {a} / ferropress {b}"));
        }
    };
    let wp_users = list(&wp.get("wp/v2/users").await);
    let fp_users = list(&fp.get("wp/v2/users").await);
    let here = |v: &Value| json!(v.as_str().unwrap_or("").replace(&wp.url, &fp.app.base));
    for route in ["posts", "pages"] {
        let query = format!("wp/v2/{route}?search={p}&status=any");
        let wp_items = list(&wp.get(&query).await);
        let fp_items = list(&fp.get(&query).await);
        for w in &wp_items {
            let title = w["title"]["raw"].as_str().expect("import test");
            // A missing post is reported by `differences()`.
            let Some(f) = by(&fp_items, "title", true, title) else {
                continue;
            };
            let count = |v: &Value| v["_links"]["version-history"][0]["count"].clone();
            diff(format!("{route} {title} revisions"), &count(w), &count(f));
            let revisions = format!("wp/v2/{route}/{}/revisions", w["id"]);
            let wr = list(&wp.get(&revisions).await);
            let fr = list(
                &fp.get(&format!("wp/v2/{route}/{}/revisions", f["id"]))
                    .await,
            );
            seen += wr.len();
            diff(
                format!("{route} {title} revisions listed"),
                &json!(wr.len()),
                &json!(fr.len()),
            );
            for (a, b) in wr.iter().zip(&fr) {
                let what = format!("{route} {title} revision {}", a["id"]);
                for field in ["id", "date", "date_gmt", "modified", "modified_gmt", "slug"] {
                    diff(format!("{what} {field}"), &a[field], &b[field]);
                }
                for field in ["title", "excerpt"] {
                    diff(
                        format!("{what} {field}"),
                        &a[field]["raw"],
                        &b[field]["raw"],
                    );
                }
                for field in ["content", "guid"] {
                    diff(
                        format!("{what} {field}"),
                        &here(&a[field]["raw"]),
                        &b[field]["raw"],
                    );
                }
                diff(
                    format!("{what} author"),
                    &login_of(&wp_users, &a["author"]),
                    &login_of(&fp_users, &b["author"]),
                );
                diff(
                    format!("{what} parent"),
                    &json!(a["parent"] == w["id"]),
                    &json!(b["parent"] == f["id"]),
                );
            }
        }
    }
    (diffs, seen)
}

fn import_cmd(app: &TestApp, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, &app.storage);
    cmd.args(args).arg("--site-url").arg(&app.base);
    cmd
}

fn run_ok(mut cmd: Command) -> String {
    let out = cmd.output().expect("run ferropress");
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The oracle's own WXR export (`export_wp()` run through PHP, as Tools → Export does).
fn oracle_wxr(path: &Path) -> bool {
    let port = std::env::var("WP_ORACLE_PORT").unwrap_or_else(|_| "8881".into());
    let script = format!(
        "$_SERVER['HTTP_HOST']='127.0.0.1:{port}'; require '/usr/share/wordpress/wp-load.php'; \
         require_once ABSPATH . 'wp-admin/includes/export.php'; wp_set_current_user(1); ob_start(); \
         export_wp(array('content'=>'all')); file_put_contents('{}', ob_get_clean());",
        path.display()
    );
    Command::new("php")
        .arg("-r")
        .arg(script)
        .env("WORDPRESS_CONFIG", format!("ferropress-oracle-{port}"))
        .output()
        .is_ok_and(|o| o.status.success() && path.exists())
}

/// Every REST answer an administrator gets for the site's content, links made relative to
/// the site so two sites compare.
async fn rest_snapshot(app: &TestApp) -> BTreeMap<String, Value> {
    let fp = admin_view(app).await;
    let mut out = BTreeMap::new();
    for route in [
        "wp/v2/posts?status=any",
        "wp/v2/pages?status=any",
        "wp/v2/media",
        "wp/v2/categories?hide_empty=false",
        "wp/v2/tags?hide_empty=false",
        "wp/v2/comments?status=approve",
        "wp/v2/comments?status=hold",
        "wp/v2/users",
    ] {
        let mut v = fp.get_all(route).await;
        // WXR carries no revisions (neither `export_wp()`'s nor ours).
        for post in v.as_array_mut().into_iter().flatten() {
            if let Some(links) = post["_links"].as_object_mut() {
                links.remove("version-history");
                links.remove("predecessor-version");
            }
        }
        // Users' roles, descriptions and registration dates are not part of WXR.
        if route == "wp/v2/users" {
            for u in v.as_array_mut().into_iter().flatten() {
                for k in [
                    "roles",
                    "capabilities",
                    "extra_capabilities",
                    "registered_date",
                    "description",
                    "url",
                    "nickname",
                    "slug",
                    "link",
                    "avatar_urls",
                    "_links",
                    "locale",
                ] {
                    u.as_object_mut().map(|o| o.remove(k));
                }
            }
        }
        let text = v.to_string().replace(&app.base, "SITE");
        out.insert(
            route.to_owned(),
            serde_json::from_str(&text).expect("import test"),
        );
    }
    out
}

#[tokio::test]
async fn a_wordpress_site_comes_over_by_rest_and_by_wxr_and_goes_back_out() {
    let Some((url, pass)) = oracle() else { return };
    // The whole oracle site is imported: no compat scenario may write to it meanwhile.
    let _turn = tokio::task::spawn_blocking(|| crate::helpers::oracle_turn(true))
        .await
        .expect("the oracle's turn");
    crate::helpers::install_provider();
    let wp = Arc::new(Wp {
        url,
        pass,
        client: reqwest::Client::new(),
    });
    let p = format!("imp{:06x}", rand::random::<u32>() & 0xff_ffff);
    let mut guard = CleanUp {
        wp: wp.clone(),
        seeded: Seeded::default(),
    };
    seed(&wp, &p, &mut guard.seeded).await;
    compare_imports(wp, p).await;
}

/// Removes what was seeded on the shared oracle, also when an assertion fails (on a thread
/// of its own: the test's runtime is unwinding).
struct CleanUp {
    wp: Arc<Wp>,
    seeded: Seeded,
}

impl Drop for CleanUp {
    fn drop(&mut self) {
        // A client of its own: pooled connections belong to the test's runtime.
        let wp = Wp {
            url: self.wp.url.clone(),
            pass: self.wp.pass.clone(),
            client: reqwest::Client::new(),
        };
        let seeded = std::mem::take(&mut self.seeded);
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(clean_up(&wp, &seeded));
        })
        .join();
    }
}

async fn compare_imports(wp: Arc<Wp>, p: String) {
    let (wp, p) = (&*wp, p.as_str());
    // Over the REST API, into an empty site.
    let a = TestApp::spawn().await;
    let out = run_ok(import_cmd(
        &a,
        &[
            "import",
            "wordpress",
            "--url",
            &wp.url,
            "--user",
            "admin",
            "--app-password",
            &wp.pass,
        ],
    ));
    assert!(out.contains("must reset it"), "{out}");
    assert!(out.contains("had Application Passwords"), "{out}");
    let fa = admin_view(&a).await;
    let d = differences(wp, &fa, p, true).await;
    assert!(
        d.is_empty(),
        "REST import differs from the oracle:\n{}",
        d.join("\n")
    );
    let (d, revisions) = revision_differences(wp, &fa, p).await;
    assert!(revisions >= 3, "seeded revisions: {revisions}");
    assert!(
        d.is_empty(),
        "REST import's revisions differ from the oracle's:\n{}",
        d.join("\n")
    );
    // Ids are kept on an empty site.
    let wp_post = list(&wp.get(&format!("wp/v2/posts?search={p}%20published")).await);
    let fp_post = list(&fa.get(&format!("wp/v2/posts?search={p}%20published")).await);
    assert_eq!(wp_post[0]["id"], fp_post[0]["id"]);
    // Run again: nothing new.
    let again = run_ok(import_cmd(
        &a,
        &[
            "import",
            "wordpress",
            "--url",
            &wp.url,
            "--user",
            "admin",
            "--app-password",
            &wp.pass,
        ],
    ));
    // Nothing seeded comes twice. (The report's counts are not compared: compat scenarios
    // run by `compat/run.py` write to the oracle meanwhile, outside the test's lock.)
    assert!(again.contains("Success"), "{again}");
    for query in [
        "posts?status=any",
        "pages?status=any",
        "media?",
        "comments?status=approve",
        "comments?status=hold",
    ] {
        let q = format!("wp/v2/{query}&search={p}");
        assert_eq!(
            list(&wp.get(&q).await).len(),
            list(&fa.get(&q).await).len(),
            "{query} after a re-run: {again}"
        );
    }
    let (d, _) = revision_differences(wp, &fa, p).await;
    assert!(d.is_empty(), "revisions after a re-run:\n{}", d.join("\n"));

    // Through the oracle's own WXR export.
    let dir = tempfile::tempdir().expect("import test");
    let file = dir.path().join("oracle.xml");
    if oracle_wxr(&file) {
        let c = TestApp::spawn().await;
        let out = run_ok(import_cmd(
            &c,
            &["import", "wxr", file.to_str().expect("import test")],
        ));
        assert!(out.contains("Success"), "{out}");
        let fc = admin_view(&c).await;
        let d = differences(wp, &fc, p, false).await;
        assert!(
            d.is_empty(),
            "WXR import differs from the oracle:\n{}",
            d.join("\n")
        );
    } else {
        println!("import: the oracle's WXR part skipped (php could not run export_wp())");
    }

    // ferropress → WXR → ferropress.
    let exported = dir.path().join("a.xml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferropress"));
    store_env(&mut cmd, &a.storage);
    let out = cmd
        .args(["export", "wxr", "--site-url", &a.base])
        .stdout(Stdio::from(
            std::fs::File::create(&exported).expect("import test"),
        ))
        .output()
        .expect("import test");
    assert!(out.status.success(), "{}", stderr(&out));
    let b = TestApp::spawn().await;
    let uploads = a.data_dir.path().join("uploads");
    run_ok(import_cmd(
        &b,
        &[
            "import",
            "wxr",
            exported.to_str().expect("import test"),
            "--uploads",
            uploads.to_str().expect("import test"),
        ],
    ));
    let (sa, sb) = (rest_snapshot(&a).await, rest_snapshot(&b).await);
    for (route, va) in &sa {
        assert_eq!(va, &sb[route], "round trip differs on {route}");
    }
}

/// A WXR file of `n` posts with forward parent references, comments and replies.
fn generated_wxr(n: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n<channel>\n<wp:base_site_url>http://gen.example</wp:base_site_url>\n<wp:author><wp:author_id>7</wp:author_id><wp:author_login><![CDATA[writer]]></wp:author_login><wp:author_email><![CDATA[writer@example.com]]></wp:author_email><wp:author_display_name><![CDATA[Writer]]></wp:author_display_name></wp:author>\n<wp:category><wp:term_id>40</wp:term_id><wp:category_nicename><![CDATA[news]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>\n",
    );
    for i in 1..=n {
        let id = 100 + i;
        // Every tenth page's parent comes later in the file.
        let (ty, parent) = match i {
            _ if i % 10 != 0 => ("post", 0),
            _ if i + 5 <= n => ("page", id + 5),
            _ => ("page", id - 5),
        };
        s.push_str(&format!(
            "<item><title>Post {i}</title><dc:creator><![CDATA[writer]]></dc:creator><guid isPermaLink=\"false\">http://gen.example/?p={id}</guid><content:encoded><![CDATA[<p>Body {i} <img src=\"http://gen.example/wp-content/uploads/x.png\"></p>]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>{id}</wp:post_id><wp:post_date><![CDATA[2025-01-01 10:00:00]]></wp:post_date><wp:post_date_gmt><![CDATA[2025-01-01 10:{:02}:00]]></wp:post_date_gmt><wp:post_modified_gmt><![CDATA[2025-02-01 10:00:00]]></wp:post_modified_gmt><wp:comment_status><![CDATA[open]]></wp:comment_status><wp:ping_status><![CDATA[open]]></wp:ping_status><wp:post_name><![CDATA[post-{i}]]></wp:post_name><wp:status><![CDATA[publish]]></wp:status><wp:post_parent>{parent}</wp:post_parent><wp:menu_order>0</wp:menu_order><wp:post_type><![CDATA[{ty}]]></wp:post_type><wp:post_password><![CDATA[]]></wp:post_password><wp:is_sticky>{}</wp:is_sticky><category domain=\"category\" nicename=\"news\"><![CDATA[News]]></category><wp:postmeta><wp:meta_key><![CDATA[source]]></wp:meta_key><wp:meta_value><![CDATA[gen]]></wp:meta_value></wp:postmeta>",
            i % 60,
            u8::from(i % 50 == 1)
        ));
        if i % 5 == 0 {
            s.push_str(&format!(
                "<wp:comment><wp:comment_id>{}</wp:comment_id><wp:comment_author><![CDATA[Reader]]></wp:comment_author><wp:comment_author_email>r@example.com</wp:comment_author_email><wp:comment_date_gmt>2025-01-02 00:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[Comment {i}]]></wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type><wp:comment_parent>0</wp:comment_parent></wp:comment><wp:comment><wp:comment_id>{}</wp:comment_id><wp:comment_author><![CDATA[Writer]]></wp:comment_author><wp:comment_content><![CDATA[Reply {i}]]></wp:comment_content><wp:comment_date_gmt>2025-01-03 00:00:00</wp:comment_date_gmt><wp:comment_approved>1</wp:comment_approved><wp:comment_parent>{}</wp:comment_parent></wp:comment>",
                id * 10, id * 10 + 1, id * 10
            ));
        }
        s.push_str("</item>\n");
    }
    s.push_str("</channel>\n</rss>\n");
    s
}

async fn total(app: &TestApp, fp: &Fp<'_>, route: &str) -> i64 {
    let resp = app
        .client
        .get(app.url(&format!("/wp-json/wp/v2/{route}?per_page=1")))
        .basic_auth("admin", Some(&fp.token))
        .send()
        .await
        .expect("import test");
    resp.headers()["x-wp-total"]
        .to_str()
        .expect("import test")
        .parse()
        .expect("import test")
}

/// Starts an import and kills it once `route` lists `at_least` objects: how many it listed
/// then, and after the kill.
async fn kill_import_at(
    app: &TestApp,
    fp: &Fp<'_>,
    args: &[&str],
    route: &str,
    at_least: i64,
) -> (i64, i64) {
    let mut child = import_cmd(app, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("import test");
    let mut seen = 0;
    for _ in 0..600 {
        seen = total(app, fp, route).await;
        if seen >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("import test");
    child.wait().expect("import test");
    (seen, total(app, fp, route).await)
}

#[tokio::test]
async fn a_killed_wxr_import_run_again_ends_like_an_uninterrupted_one() {
    let dir = tempfile::tempdir().expect("import test");
    let file = dir.path().join("gen.xml");
    let n = 1500;
    std::fs::write(&file, generated_wxr(n)).expect("import test");
    let file = file.to_str().expect("import test");

    // A dry run writes nothing.
    let whole = TestApp::spawn().await;
    let out = run_ok(import_cmd(&whole, &["import", "wxr", file, "--dry-run"]));
    assert!(
        out.contains(&format!("posts     would import   {n}")),
        "{out}"
    );
    let fw = admin_view(&whole).await;
    assert_eq!(total(&whole, &fw, "posts").await, 0);
    run_ok(import_cmd(&whole, &["import", "wxr", file]));

    let killed = TestApp::spawn().await;
    let fk = admin_view(&killed).await;
    let (seen, after_kill) =
        kill_import_at(&killed, &fk, &["import", "wxr", file], "posts", 100).await;
    assert!(
        seen >= 100 && after_kill < (n - n / 10) as i64,
        "killed half-way: {after_kill} posts"
    );
    let out = run_ok(import_cmd(&killed, &["import", "wxr", file]));
    assert!(out.contains("skipped"), "{out}");

    let (sw, sk) = (rest_snapshot(&whole).await, rest_snapshot(&killed).await);
    for (route, v) in &sw {
        assert_eq!(v, &sk[route], "resumed import differs on {route}");
    }
    assert_eq!(total(&killed, &fk, "posts").await, (n - n / 10) as i64);
    assert_eq!(total(&killed, &fk, "pages").await, (n / 10) as i64);
    let sticky = killed
        .site
        .store
        .get_option("sticky_posts")
        .await
        .expect("import test")
        .expect("import test");
    assert_eq!(
        serde_json::from_str::<Vec<i64>>(&sticky)
            .expect("import test")
            .len(),
        n / 50
    );
    // Forward parents were linked, and the uploads links point here.
    let pages = list(&fk.get("wp/v2/pages").await);
    assert!(
        pages
            .iter()
            .all(|p| p["parent"].as_i64().expect("import test") > 0),
        "parents linked"
    );
    let content = pages[0]["content"]["raw"].as_str().expect("import test");
    assert!(
        content.contains(&format!("{}/wp-content/uploads/x.png", killed.base)),
        "{content}"
    );
}

/// A WordPress stand-in on loopback, for what the oracle cannot show: how many requests
/// the importer sends at once (every answer takes a while, so requests overlap when the
/// importer lets them), and revisions the user may not read.
#[derive(Default)]
struct FakeSource {
    base: std::sync::OnceLock<String>,
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

/// Media items (more than the importer writes at once, so downloads overlap page fetches).
const FAKE_MEDIA: i64 = 70;
/// Posts, each with two revisions; the last one's the user may not read.
const FAKE_POSTS: [i64; 4] = [200, 201, 202, 203];

async fn fake_wordpress(
    axum::extract::State(source): axum::extract::State<Arc<FakeSource>>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    use std::sync::atomic::Ordering::SeqCst;
    let now = source.now.fetch_add(1, SeqCst) + 1;
    source.most.fetch_max(now, SeqCst);
    tokio::time::sleep(Duration::from_millis(40)).await;
    let base = source.base.get().expect("the fake source's address");
    let path = uri.path();
    let date = json!("2026-01-02T03:04:05");
    let list = |items: Vec<Value>| {
        ([("X-WP-TotalPages", "1")], axum::Json(Value::Array(items))).into_response()
    };
    let answer = if let Some(file) = path.strip_prefix("/wp-content/uploads/") {
        assert!(file.ends_with(".png"), "{file}");
        ([("Content-Type", "image/png")], png(8, 8)).into_response()
    } else {
        match path.trim_start_matches("/wp-json/wp/v2/") {
            "users" => list(vec![json!({
                "id": 1, "username": "admin", "email": "admin@example.com", "name": "Admin",
                "roles": ["administrator"], "slug": "admin"
            })]),
            "media" => list(
                (1..=FAKE_MEDIA)
                    .map(|i| {
                        let file = format!("2026/01/fake-{i}.png");
                        json!({
                            "id": i, "type": "attachment", "status": "inherit", "author": 1,
                            "slug": format!("fake-{i}"), "title": {"raw": format!("Fake {i}")},
                            "date": date, "date_gmt": date, "modified": date, "modified_gmt": date,
                            "source_url": format!("{base}/wp-content/uploads/{file}"),
                            "media_details": {"file": file}
                        })
                    })
                    .collect(),
            ),
            "posts" => list(
                FAKE_POSTS
                    .iter()
                    .map(|id| {
                        json!({
                            "id": id, "type": "post", "status": "publish", "author": 1,
                            "slug": format!("fake-post-{id}"), "title": {"raw": format!("Post {id}")},
                            "content": {"raw": "<p>Now</p>"}, "date": date, "date_gmt": date,
                            "modified": date, "modified_gmt": date,
                            "_links": {"version-history": [{"count": 2}]}
                        })
                    })
                    .collect(),
            ),
            route => match route
                .strip_prefix("posts/")
                .and_then(|r| r.strip_suffix("/revisions"))
                .and_then(|id| id.parse::<i64>().ok())
            {
                Some(203) => (
                    axum::http::StatusCode::FORBIDDEN,
                    axum::Json(json!({"code": "rest_cannot_read", "message": "Sorry, you are not allowed to view revisions of this post.", "data": {"status": 403}})),
                )
                    .into_response(),
                Some(post) => list(
                    (0..2)
                        .map(|k| {
                            json!({
                                "id": post * 10 + k, "parent": post, "author": 1,
                                "slug": format!("{post}-revision-v1"),
                                "title": {"raw": format!("Post {post} v{k}")},
                                "content": {"raw": format!("<p>Version {k}</p>")},
                                "excerpt": {"raw": ""},
                                "date": format!("2026-01-0{}T00:00:00", k + 1),
                                "date_gmt": format!("2026-01-0{}T00:00:00", k + 1),
                                "modified": date, "modified_gmt": date
                            })
                        })
                        .collect(),
                ),
                // Application passwords, terms, comments, pages: none.
                None => list(vec![]),
            },
        }
    };
    source.now.fetch_sub(1, SeqCst);
    answer
}

#[tokio::test]
async fn concurrency_bounds_every_request_to_the_source_and_unreadable_revisions_are_skipped() {
    let source = Arc::new(FakeSource::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake source");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    source.base.set(url.clone()).expect("set once");
    let router = axum::Router::new()
        .fallback(fake_wordpress)
        .with_state(source.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let app = TestApp::spawn().await;
    let fp = admin_view(&app).await;
    let import = || {
        let cmd = import_cmd(
            &app,
            &[
                "import",
                "wordpress",
                "--url",
                &url,
                "--user",
                "admin",
                "--app-password",
                "abcd efgh ijkl mnop qrst uvwx",
                "--concurrency",
                "2",
            ],
        );
        // The fake source answers on this test's runtime meanwhile.
        tokio::task::spawn_blocking(move || run_ok(cmd))
    };
    let out = import().await.expect("import");
    let most = source.most.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(most, 2, "requests to the source at once (--concurrency 2)");
    assert!(
        out.contains(&format!("media     imported {FAKE_MEDIA:>6}")),
        "{out}"
    );
    // The revisions of the post the user may not edit are skipped, not failed.
    assert!(
        out.contains("revisions imported      6  skipped      2  failed      0"),
        "{out}"
    );
    for post in &FAKE_POSTS[..3] {
        let revisions = list(&fp.get(&format!("wp/v2/posts/{post}/revisions")).await);
        let ids: Vec<&Value> = revisions.iter().map(|r| &r["id"]).collect();
        assert_eq!(ids, [&json!(post * 10 + 1), &json!(post * 10)]);
        assert!(revisions.iter().all(|r| r["parent"] == json!(post)));
        assert_eq!(revisions[1]["title"]["raw"], format!("Post {post} v0"));
        assert_eq!(revisions[1]["date_gmt"], "2026-01-01T00:00:00");
    }
    assert!(list(&fp.get("wp/v2/posts/203/revisions").await).is_empty());

    // Run again: nothing new, no duplicates.
    source.most.store(0, std::sync::atomic::Ordering::SeqCst);
    let again = import().await.expect("import");
    assert!(
        again.contains("revisions imported      0  skipped      8  failed      0"),
        "{again}"
    );
    assert_eq!(
        list(&fp.get("wp/v2/posts/200/revisions").await).len(),
        2,
        "{again}"
    );
    assert!(source.most.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    server.abort();
}

#[tokio::test]
async fn a_killed_import_whose_ids_are_taken_here_run_again_writes_no_comment_twice() {
    let n = 600;
    let dir = tempfile::tempdir().expect("import test");
    let (first, second) = (dir.path().join("a.xml"), dir.path().join("b.xml"));
    std::fs::write(&first, generated_wxr(n)).expect("import test");
    // Another source with the same ids: every id it has is taken here by the first.
    std::fs::write(
        &second,
        generated_wxr(n).replace("http://gen.example", "http://other.example"),
    )
    .expect("import test");
    let (first, second) = (
        first.to_str().expect("import test"),
        second.to_str().expect("import test"),
    );
    let app = TestApp::spawn().await;
    let fp = admin_view(&app).await;
    run_ok(import_cmd(&app, &["import", "wxr", first]));
    let posts = (n - n / 10) as i64;
    let (seen, after_kill) = kill_import_at(
        &app,
        &fp,
        &["import", "wxr", second],
        "comments",
        (2 * n / 5) as i64 + 40,
    )
    .await;
    assert!(
        seen >= (2 * n / 5) as i64 + 40 && after_kill < (4 * n / 5) as i64,
        "killed half-way: {after_kill} comments"
    );
    let out = run_ok(import_cmd(&app, &["import", "wxr", second]));
    assert!(out.contains("skipped"), "{out}");

    assert_eq!(total(&app, &fp, "posts").await, 2 * posts);
    // Each source's comment and reply on each fifth post, once, the reply under its comment.
    let comments = list(&fp.get_all("wp/v2/comments").await);
    assert_eq!(comments.len(), 4 * n / 5);
    let mut texts = std::collections::HashMap::new();
    for c in &comments {
        let key = (c["post"].clone(), c["content"]["raw"].clone());
        assert!(
            texts.insert(key, c).is_none(),
            "written twice: {}",
            c["content"]["raw"]
        );
    }
    for c in &comments {
        let text = c["content"]["raw"].as_str().expect("import test");
        if let Some(i) = text.strip_prefix("Reply ") {
            let parent = comments
                .iter()
                .find(|p| p["id"] == c["parent"])
                .expect("the reply's parent");
            assert_eq!(parent["content"]["raw"], format!("Comment {i}"));
            assert_eq!(parent["post"], c["post"]);
        }
    }
}
