//! Linear time on hostile input (issue 14, findings 3, 4 and 10): request text shaped to
//! make a quadratic routine run for minutes is answered as WordPress answers it, and an
//! unrelated request sent while it is in flight is answered too.
//!
//! Sizes are chosen so that the old code needed minutes (each was one pass over the rest of
//! the text per removed octet, tag or attribute) while the fixed code needs well under a
//! second, far below the 30 s client timeout. Speed itself is measured by
//! `benches/hostile_input.rs`, not here.
//!
//! The requests are sent from a thread with its own runtime, so that the client's timeouts
//! keep running even if the server's workers were all busy.

use std::time::Duration;

use ferropress::caps::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// As many hostile requests at once as the server has workers.
const PARALLEL: usize = 2;

/// What the hostile requests and the bystander `GET /wp-json/` were answered.
struct Outcome {
    hostile: Vec<(u16, Value)>,
    bystander: u16,
}

/// Sends `PARALLEL` copies of the hostile request and, while they are in flight, an
/// anonymous `GET /wp-json/`, all from a runtime of their own.
async fn hostile_with_bystander(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<(String, String)>,
    body: Value,
) -> Outcome {
    let url = app.url(path);
    let index = app.url("/wp-json/");
    let body = body.to_string();
    let run = move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        rt.block_on(async move {
            let client = reqwest::Client::builder()
                .timeout(CLIENT_TIMEOUT)
                .build()
                .expect("client");
            let hostile = (0..PARALLEL).map(|_| {
                let mut req = client
                    .request(method.clone(), &url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some((login, token)) = &auth {
                    req = req.basic_auth(login, Some(token));
                }
                async move {
                    let resp = req.send().await.expect("hostile request answered in time");
                    json_of(resp).await
                }
            });
            let bystander = async {
                // Let the hostile bodies reach the server first.
                tokio::time::sleep(Duration::from_millis(200)).await;
                client
                    .get(&index)
                    .send()
                    .await
                    .expect("unrelated request answered while the hostile ones ran")
                    .status()
                    .as_u16()
            };
            let (hostile, bystander) =
                tokio::join!(futures_util::future::join_all(hostile), bystander);
            Outcome { hostile, bystander }
        })
    };
    tokio::task::spawn_blocking(run)
        .await
        .expect("client thread")
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(|a| a.max_body_bytes = 8 * 1024 * 1024).await
}

/// An author with one published post, so that anonymous user lists are not empty.
async fn published_author(app: &TestApp) -> i64 {
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    let (status, post) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("writer", Some(&token))
            .json(&json!({ "title": "Hello", "slug": "hello", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    user.id
}

fn slugs(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|u| u["slug"].as_str().expect("slug"))
        .collect()
}

/// Finding 3: `search` of `%`×k then `41`×k. `_sanitize_text_fields()` removes octets until
/// none is left, which here is everything: the search is empty, so the list is every
/// author with a published post (the oracle answers `%%%414141` with its one author). The
/// old `strip_octets` made one pass per octet: k passes over 3k bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octet_search_is_answered_without_stalling_the_server() {
    let app = spawn().await;
    published_author(&app).await;
    let k = 500_000;
    let search = format!("{}{}", "%".repeat(k), "41".repeat(k));
    let out = hostile_with_bystander(
        &app,
        Method::GET,
        "/wp-json/wp/v2/users",
        None,
        json!({ "search": search }),
    )
    .await;
    assert_eq!(out.bystander, 200);
    for (status, users) in &out.hostile {
        assert_eq!(*status, 200, "{users}");
        assert_eq!(slugs(users), ["writer"]);
    }
}

/// Finding 4: `<style></style>` repeated, then a word. As a post `slug`, `sanitize_title()`
/// (`strip_tags()`) leaves `hello`; as a user `search`, `wp_strip_all_tags()` removes the
/// elements and leaves `writer`. The oracle answers both shapes (with three repetitions)
/// with the matching item. The old `strip_all_tags` lower-cased and cut the whole text
/// once per element.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn style_elements_are_stripped_without_stalling_the_server() {
    let app = spawn().await;
    published_author(&app).await;
    let styles = "<style></style>".repeat(130_000); // 1.9 MB, as in the finding
    let out = hostile_with_bystander(
        &app,
        Method::GET,
        "/wp-json/wp/v2/posts",
        None,
        json!({ "slug": format!("{styles}hello") }),
    )
    .await;
    assert_eq!(out.bystander, 200);
    for (status, posts) in &out.hostile {
        assert_eq!(*status, 200, "{posts}");
        assert_eq!(slugs(posts), ["hello"]);
    }

    let out = hostile_with_bystander(
        &app,
        Method::GET,
        "/wp-json/wp/v2/users",
        None,
        json!({ "search": format!("{styles}writer") }),
    )
    .await;
    assert_eq!(out.bystander, 200);
    for (status, users) in &out.hostile {
        assert_eq!(*status, 200, "{users}");
        assert_eq!(slugs(users), ["writer"]);
    }
}

/// Finding 10: a contributor's post of `<b a a a …>`. `wp_kses_hair()` keeps one `a`,
/// which `<b>` does not allow, so the content is stored as `<b>x</b>`. The old `hair()`
/// copied the rest of the tag once per attribute: 1,000,000 copies of up to 2 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_attributes_are_filtered_without_stalling_the_server() {
    let app = spawn().await;
    let (_, token) = app.user_with_token("contrib", Role::Contributor).await;
    let content = format!("<b{}>x</b>", " a".repeat(1_000_000));
    let out = hostile_with_bystander(
        &app,
        Method::POST,
        "/wp-json/wp/v2/posts?context=edit",
        Some(("contrib".into(), token)),
        json!({ "title": "t", "content": content }),
    )
    .await;
    assert_eq!(out.bystander, 200);
    for (status, post) in &out.hostile {
        assert_eq!(*status, 201, "{post}");
        assert_eq!(post["content"]["raw"], "<b>x</b>");
        assert_eq!(post["status"], "draft");
    }
}

/// Issue 16: the display filters (`wptexturize`, `wpautop`, `shortcode_unautop`,
/// `do_shortcode`, `wp_filter_content_tags`, `capital_P_dangit`, `convert_smilies`,
/// `wp_trim_excerpt`) on shapes that make a rescanning port quadratic: an unclosed
/// shortcode or tag repeated (each would scan to the end for its `]`, `>` or `[/caption]`),
/// paragraphs of shortcodes without their closing tag, runs of quotes, numbers and white
/// space, players with huge attribute lists, URLs to auto-embed. An editor (unfiltered HTML) posts each; the rendered answer comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn display_filters_render_hostile_content_without_stalling_the_server() {
    let app = spawn().await;
    let (_, token) = app.user_with_token("ed", Role::Editor).await;
    let k = 50_000;
    let shapes = [
        "[caption".repeat(k),
        "<p>[caption]".repeat(k),
        "<p>[caption id=a/".repeat(k),
        "<".repeat(4 * k),
        "<[caption ".repeat(k),
        "'1".repeat(k),
        "\"a'".repeat(k),
        format!("{}x", "1,".repeat(k)),
        "<pre>".repeat(k),
        "</pre><pre>a".repeat(k),
        format!("<br />{}x", " ".repeat(4 * k)),
        "<p><li".repeat(k),
        "<script".repeat(k),
        "<img ".repeat(k),
        "<!--".repeat(k),
        "<![CDATA[".repeat(k),
        ":) ".repeat(k),
        format!("&#{}", "1".repeat(4 * k)),
        "-- ".repeat(k),
        "\n \n".repeat(k),
        "<p class=\"wp-image-1\">".repeat(k),
        // The media shortcodes and auto-embeds: unclosed, many, huge attribute lists, URLs
        // alone on their lines or in paragraphs that never close.
        "[embed]".repeat(k),
        "[video ".repeat(k),
        "[audio src=a.mp3]".repeat(k / 10),
        format!("[video src=v.mp4 {}]", "a=1 ".repeat(k)),
        format!("[audio src=\"javascript:{}\"]", "&amp;".repeat(k)),
        "http://x.test/a.mp3\n".repeat(k / 10),
        "<p http://x".repeat(k),
        "<p>https://x.test/".repeat(k),
        format!(
            "[embed]{}[/embed]",
            "https://www.youtube.com/embed/".repeat(k)
        ),
    ];
    for content in shapes {
        let head: String = content.chars().take(24).collect();
        let out = hostile_with_bystander(
            &app,
            Method::POST,
            "/wp-json/wp/v2/posts",
            Some(("ed".into(), token.clone())),
            json!({ "title": "t", "content": content, "status": "publish" }),
        )
        .await;
        assert_eq!(out.bystander, 200, "{head}");
        for (status, post) in &out.hostile {
            assert_eq!(*status, 201, "{head}: {post}");
            assert!(post["content"]["rendered"].is_string(), "{head}");
            assert!(post["excerpt"]["rendered"].is_string(), "{head}");
        }
    }
}

/// Issue 16, `[gallery]`: many galleries of a post with attached images (each renders all
/// of them: the images rendered per request are bounded), huge `ids`, `exclude` and
/// `orderby` lists, and unclosed `[gallery` repeated (each would scan to the end for its
/// `]`). The galleries' images are read once per answer whatever their number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn galleries_render_hostile_content_without_stalling_the_server() {
    let app = spawn().await;
    let (post_id, token, images) = post_with_two_files(&app, "image/png", "g.png", |seed| {
        crate::backup::pattern_png(20, 10, seed)
    })
    .await;
    let k = 50_000;
    let ids = format!("{},{}", images[0], images[1]);
    let shapes = [
        "[gallery]".repeat(k),
        format!("[gallery ids=\"{ids}\"]").repeat(k / 10),
        format!("[gallery ids=\"{}{ids}\"]", "1,".repeat(k)),
        format!(
            "[gallery ids=\"{}\"]",
            (1..k).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
        ),
        format!("[gallery exclude=\"{}\"]", "1 ".repeat(k)),
        format!(
            "[gallery ids=\"{ids}\" orderby=\"{}\"]",
            "title menu_order ".repeat(k)
        ),
        "[gallery".repeat(k),
        "[gallery ids=\"".repeat(k),
    ];
    // At most `MAX_GALLERY_IMAGES_SHOWN` images in all.
    render_bounded(&app, post_id, &token, shapes, "class='gallery-item'").await;
}

/// A published post of an editor `ed` with two files attached (`make(0)`, `make(1)`):
/// the post's id, `ed`'s token and the files' ids.
async fn post_with_two_files(
    app: &TestApp,
    content_type: &str,
    name: &str,
    make: impl Fn(u8) -> Vec<u8>,
) -> (i64, String, Vec<i64>) {
    let (_, token) = app.user_with_token("ed", Role::Editor).await;
    let (status, post) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("ed", Some(&token))
            .json(&json!({ "title": "t", "content": "x", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let post_id = post["id"].as_i64().expect("id");
    let mut files = vec![];
    for seed in 0..2 {
        let (status, media) = send(
            app.client
                .post(app.url(&format!("/wp-json/wp/v2/media?post={post_id}")))
                .basic_auth("ed", Some(&token))
                .header("content-type", content_type)
                .header(
                    "content-disposition",
                    format!("attachment; filename=\"{name}\""),
                )
                .body(make(seed)),
        )
        .await;
        assert_eq!(status, 201, "{media}");
        files.push(media["id"].as_i64().expect("id"));
    }
    (post_id, token, files)
}

/// Each of `shapes` as the content of `post_id` (updated by `ed`), sent while a bystander
/// is served: every answer comes, with at most `MAX_GALLERY_IMAGES_SHOWN` of `item`.
async fn render_bounded(
    app: &TestApp,
    post_id: i64,
    token: &str,
    shapes: impl IntoIterator<Item = String>,
    item: &str,
) {
    for content in shapes {
        let head: String = content.chars().take(24).collect();
        let out = hostile_with_bystander(
            app,
            Method::POST,
            &format!("/wp-json/wp/v2/posts/{post_id}"),
            Some(("ed".into(), token.to_owned())),
            json!({ "content": content }),
        )
        .await;
        assert_eq!(out.bystander, 200, "{head}");
        for (status, post) in &out.hostile {
            assert_eq!(*status, 200, "{head}: {post}");
            let rendered = post["content"]["rendered"].as_str().expect("rendered");
            assert!(
                rendered.matches(item).count() <= ferropress::formatting::MAX_GALLERY_IMAGES_SHOWN,
                "{head}"
            );
        }
    }
}

/// Issue 16, `[playlist]`: many playlists of a post with attached audio (each lists all of
/// them: the tracks rendered per request are bounded), huge `ids` and `exclude` lists, and
/// unclosed `[playlist` repeated. The files are read once per answer whatever the number of
/// playlists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_render_hostile_content_without_stalling_the_server() {
    let app = spawn().await;
    let (post_id, token, files) = post_with_two_files(&app, "audio/mpeg", "p.mp3", |_| {
        crate::helpers::mp3(10, &[("TIT2", "t")])
    })
    .await;
    let k = 50_000;
    let ids = format!("{},{}", files[0], files[1]);
    let shapes = [
        "[playlist]".repeat(k),
        format!("[playlist ids=\"{ids}\"]").repeat(k / 10),
        format!("[playlist ids=\"{}{ids}\"]", "1,".repeat(k)),
        format!(
            "[playlist ids=\"{}\" type=\"video\"]",
            (1..k).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
        ),
        format!("[playlist exclude=\"{}\"]", "1 ".repeat(k)),
        format!(
            "[playlist ids=\"{ids}\" orderby=\"{}\"]",
            "title menu_order ".repeat(k)
        ),
        "[playlist".repeat(k),
        "[playlist ids=\"".repeat(k),
    ];
    // At most `MAX_GALLERY_IMAGES_SHOWN` tracks in all (two per playlist here).
    render_bounded(&app, post_id, &token, shapes, "<li><a href=").await;
}

/// The comment filters `make_clickable` and `force_balance_tags` on shapes that make a
/// rescanning port quadratic: `<a` openings without their `>` before a `</a></a>`, schemes
/// whose URL never meets whitespace, addresses with endless domains, `)` runs to balance,
/// tags without `>`, closing tags looked for in a deep stack. Each shape is as long as a
/// comment may be (65,525 bytes), posted by an administrator (no HTML filtering).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_filters_render_hostile_content_without_stalling_the_server() {
    let app = spawn().await;
    let (_, token) = app.user_with_token("boss", Role::Administrator).await;
    let (status, post) = send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth("boss", Some(&token))
            .json(&json!({ "title": "t", "status": "publish" })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let k = 10_000;
    let shapes = [
        format!("{}</a></a>", "<a <a ".repeat(k)),
        format!("{}</a></a>", "<a\t<a x>y".repeat(k / 2)),
        ":a://".repeat(k),
        format!(" http://x.test/{}", ")".repeat(6 * k)),
        format!(" http://x.test/{}", "(a)".repeat(2 * k)),
        format!(" a@{}-", "b.".repeat(3 * k)),
        " a@b".repeat(k),
        " www.".repeat(k),
        format!("{}{}", "<q>".repeat(7_000), "</b>".repeat(7_000)),
        format!("<b>{}</b>", "<q>".repeat(k)),
        "<p ".repeat(2 * k),
        "<my-el".repeat(k),
        format!("{} http://x.test", "<code>".repeat(k)),
        format!("{} ", "y".repeat(6 * k)),
    ];
    for content in shapes {
        let head: String = content.chars().take(24).collect();
        assert!(content.len() <= 65_525, "{head}");
        let out = hostile_with_bystander(
            &app,
            Method::POST,
            "/wp-json/wp/v2/comments",
            Some(("boss".into(), token.clone())),
            json!({ "post": post["id"], "content": content }),
        )
        .await;
        assert_eq!(out.bystander, 200, "{head}");
        // The copies are the same comment: one is taken, the other may be refused as its
        // duplicate.
        let mut created = 0;
        for (status, comment) in &out.hostile {
            if *status == 409 && comment["code"] == "comment_duplicate" {
                continue;
            }
            assert_eq!(*status, 201, "{head}: {comment}");
            assert!(comment["content"]["rendered"].is_string(), "{head}");
            created += 1;
        }
        assert!(created >= 1, "{head}");
    }
}
