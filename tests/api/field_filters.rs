//! Every text field filtered as WordPress filters it on save (issue 14 findings 1, 8, 11,
//! 13, 14). Expected strings are the oracle's (WordPress 6.1), captured through its REST API
//! or by running its PHP functions.

use ferropress::caps::{AppPasswordGate, Role};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

struct Who {
    login: String,
    token: String,
}

async fn who(app: &TestApp, login: &str, role: Role) -> Who {
    let (_, token) = app.user_with_token(login, role).await;
    Who {
        login: login.to_owned(),
        token,
    }
}

async fn call(
    app: &TestApp,
    who: Option<&Who>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/wp-json/wp/v2{path}")));
    if let Some(w) = who {
        req = req.basic_auth(&w.login, Some(&w.token));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

/// A server where every role may use Application Passwords.
async fn spawn() -> TestApp {
    TestApp::spawn_with(|a| a.application_passwords_for = AppPasswordGate::All).await
}

const TERM_NAME: &str = r#"cf <b>Tag</b> & <script>x</script> "q" a < b > c"#;
const TERM_NAME_STORED: &str = r#"cf Tag &amp; "q" a &lt;b&gt; c"#;
const TERM_DESCRIPTION: &str = r#"<script>alert(1)</script><a href="javascript:alert(1)" onclick="steal()" target="_blank">y</a> <p>p</p> & &foo; 5 < 6"#;
const TERM_DESCRIPTION_STORED: &str =
    r#"alert(1)<a href="alert(1)">y</a> p &amp; &amp;foo; 5 &lt; 6"#;

/// Finding 1: a contributor's tag description reached anonymous readers unfiltered.
/// `pre_term_description` runs `wp_filter_kses` for every role, administrators included.
#[tokio::test]
async fn term_name_and_description_are_filtered_for_every_role() {
    let app = spawn().await;
    let contributor = who(&app, "contrib", Role::Contributor).await;
    let admin = who(&app, "boss", Role::Administrator).await;
    for (who, base) in [
        (&contributor, "tags"),
        (&admin, "tags"),
        (&admin, "categories"),
    ] {
        let (status, term) = call(
            &app,
            Some(who),
            Method::POST,
            &format!("/{base}"),
            Some(json!({ "name": TERM_NAME, "description": TERM_DESCRIPTION })),
        )
        .await;
        assert_eq!(status, 201, "{} {base}: {term}", who.login);
        assert_eq!(term["name"], TERM_NAME_STORED, "{} {base}", who.login);
        assert_eq!(term["slug"], "cf-tag-q-a-b-c", "{} {base}", who.login);
        assert_eq!(term["description"], TERM_DESCRIPTION_STORED);
        let id = term["id"].as_i64().expect("id");

        // What anonymous readers get back.
        let (status, read) = app.get_json(&format!("/wp-json/wp/v2/{base}/{id}")).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(read["name"], TERM_NAME_STORED);
        assert_eq!(read["description"], TERM_DESCRIPTION_STORED);

        // Updates go through the same filters.
        let (status, term) = call(
            &app,
            Some(&admin),
            Method::POST,
            &format!("/{base}/{id}"),
            Some(json!({ "description": r#"<a href="javascript:alert(1)" onclick="x()">y</a>"# })),
        )
        .await;
        assert_eq!(status, 200, "{term}");
        assert_eq!(term["description"], r#"<a href="alert(1)">y</a>"#);
        let (status, _) = call(
            &app,
            Some(&admin),
            Method::DELETE,
            &format!("/{base}/{id}?force=true"),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
}

/// Finding 8: an anonymous search matched words hidden behind a post password.
/// `WP_Query::parse_search()` adds `post_password = ''` for logged-out visitors, so the
/// post is not found by its title either; logged-in users still find it.
#[tokio::test]
async fn anonymous_search_leaves_out_password_protected_posts() {
    let app = spawn().await;
    let admin = who(&app, "boss", Role::Administrator).await;
    let subscriber = who(&app, "reader", Role::Subscriber).await;
    let (status, post) = call(
        &app,
        Some(&admin),
        Method::POST,
        "/posts",
        Some(json!({
            "title": "quokka visible",
            "content": "the hidden zebraword",
            "password": "secret",
            "status": "publish",
        })),
    )
    .await;
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_i64().expect("id");
    let ids = |list: &Value| -> Vec<i64> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|p| p["id"].as_i64().expect("id"))
            .collect()
    };
    for word in ["zebraword", "quokka"] {
        let (status, list) = app
            .get_json(&format!("/wp-json/wp/v2/posts?search={word}"))
            .await;
        assert_eq!(status, 200, "{list}");
        assert!(ids(&list).is_empty(), "anonymous search for {word}: {list}");
        for user in [&admin, &subscriber] {
            let (status, list) = call(
                &app,
                Some(user),
                Method::GET,
                &format!("/posts?search={word}"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{list}");
            assert_eq!(ids(&list), vec![id], "{} searching {word}", user.login);
        }
    }
    // Listing without a search still shows the post (its content protected).
    let (status, list) = app.get_json("/wp-json/wp/v2/posts").await;
    assert_eq!(status, 200);
    assert!(ids(&list).contains(&id), "{list}");
}

/// Finding 11: user URLs kept markup and hidden schemes. Each pair is an input and what
/// WordPress stores (`esc_url_raw()` by the schema, then `pre_user_url`:
/// `wp_strip_all_tags`, `sanitize_url`, `wp_filter_kses`), as run by the oracle's PHP.
const USER_URLS: &[(&str, &str)] = &[
    (
        "https://example.com/path?a=1&b=2#frag",
        "https://example.com/path?a=1&amp;b=2#frag",
    ),
    ("example.com", "http://example.com"),
    ("www.example.com/a b", "http://www.example.com/a%20b"),
    ("  https://example.com  ", "https://example.com%20%20"),
    (
        "https://x/\"><script>alert(1)</script>",
        "https://x/scriptalert(1)/script",
    ),
    ("feed:javascript:alert(1)", ""),
    ("javascript:alert(1)", ""),
    ("JaVaScRiPt:alert(1)", ""),
    ("java\tscript:alert(1)", ""),
    ("jav&#x09;ascript:alert(1)", ""),
    (
        "javascript&colon;alert(1)",
        "http://javascript&amp;colon;alert(1)",
    ),
    ("data:text/html,<script>alert(1)</script>", ""),
    ("vbscript:msgbox(1)", ""),
    (
        "http://example.com/%0d%0aSet-Cookie:x=1",
        "http://example.com/Set-Cookie:x=1",
    ),
    ("http://example.com/%0%0dd%0Aa", "http://example.com/a"),
    (
        "mailto:a@b.c?subject=%0d%0ahi",
        "mailto:a@b.c?subject=%0d%0ahi",
    ),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("tel:+1-555-0100", "tel:+1-555-0100"),
    (
        "ftp://ftp.example.com/file.txt",
        "ftp://ftp.example.com/file.txt",
    ),
    (
        "//example.com/proto-relative",
        "//example.com/proto-relative",
    ),
    ("/relative/path?x=1", "/relative/path?x=1"),
    ("#anchor", "#anchor"),
    ("?query=1", "?query=1"),
    ("index.php?p=1", "index.php?p=1"),
    ("foo.php", "foo.php"),
    ("http://[::1]:8080/path", "http://[::1]:8080/path"),
    (
        "http://example.com/a[0]=1&b[]=2",
        "http://example.com/a%5B0%5D=1&amp;b%5B%5D=2",
    ),
    ("/path/with[brackets]", "/path/with%5Bbrackets%5D"),
    (
        "http://user:pass@example.com:8080/p[1]",
        "http://user:pass@example.com:8080/p%5B1%5D",
    ),
    (
        "https://example.com/ünïcödé/路径",
        "https://example.com/ünïcödé/路径",
    ),
    ("https://example.com/it's", "https://example.com/it's"),
    ("https://example.com/a;//b", "https://example.com/a://b"),
    ("http;//example.com", "http://example.com"),
    (
        "https://example.com/<b>bold</b>",
        "https://example.com/bbold/b",
    ),
    (
        "https://example.com/a\"onmouseover=\"alert(1)",
        "https://example.com/aonmouseover=alert(1)",
    ),
    (
        "https://example.com/{curly}^`|",
        "https://example.com/curly|",
    ),
    ("http://example.com/a\\b", "http://example.com/ab"),
    ("http://", "http://"),
    ("unknown:thing", ""),
    ("x:y:z", ""),
    (
        "feed:http://example.com/feed",
        "feed:http://example.com/feed",
    ),
    ("irc6://irc.example.com", "irc6://irc.example.com"),
    ("https://example.com/?q=<>", "https://example.com/?q="),
    (
        "https://example.com/&amp;&lt;&#38;",
        "https://example.com/&amp;&lt;&#038;",
    ),
    (
        "http://example.com/?a=javascript:alert(1)",
        "http://example.com/?a=javascript:alert(1)",
    ),
    ("mailto:javascript:alert(1)", "mailto:javascript:alert(1)"),
    ("https://ex ample.com/a%20b", "https://ex%20ample.com/a%20b"),
    ("HTTP://EXAMPLE.COM/UPPER", "http://EXAMPLE.COM/UPPER"),
    (
        "https://example.com/*!$@,+~-_.",
        "https://example.com/*!$@,+~-_.",
    ),
    ("ht\ntp://example.com", "http://example.com"),
    ("&#106;avascript:alert(1)", ""),
    (
        "https://example.com/%3Cscript%3E",
        "https://example.com/%3Cscript%3E",
    ),
];

#[tokio::test]
async fn user_url_is_stored_as_wordpress_stores_it() {
    let app = spawn().await;
    let user = who(&app, "someone", Role::Subscriber).await;
    let admin = who(&app, "boss", Role::Administrator).await;
    for (input, stored) in USER_URLS {
        let (status, me) = call(
            &app,
            Some(&user),
            Method::POST,
            "/users/me?context=edit",
            Some(json!({ "url": input })),
        )
        .await;
        assert_eq!(status, 200, "{input:?}: {me}");
        assert_eq!(me["url"], *stored, "url {input:?}");
    }
    // An administrator creating a user goes through the same filter.
    let (status, created) = call(
        &app,
        Some(&admin),
        Method::POST,
        "/users?context=edit",
        Some(json!({
            "username": "fresh",
            "email": "fresh@example.com",
            "password": "a-long-password",
            "url": "https://x/\"><script>alert(document.cookie)</script>",
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["url"],
        "https://x/scriptalert(document.cookie)/script"
    );
}

/// The name fields of a user (`pre_user_first_name`, `_last_name`, `_nickname`,
/// `_display_name`: `sanitize_text_field`, `wp_filter_kses`, `_wp_specialchars`) and the
/// description (`pre_user_description`), for an administrator too. Values from the oracle.
#[tokio::test]
async fn user_name_fields_are_filtered_for_every_role() {
    let app = spawn().await;
    let admin = who(&app, "boss", Role::Administrator).await;
    let (status, u) = call(
        &app,
        Some(&admin),
        Method::POST,
        "/users?context=edit",
        Some(json!({
            "username": "cfscratch1",
            "email": "cfscratch1@example.com",
            "password": "pw-cfscratch1-xyz",
            "first_name": "<b>F</b> & <script>x</script> a < b > c",
            "last_name": "L<i>x</i> &foo;",
            "nickname": "<img src=x onerror=alert(1)>nick",
            "name": "<script>alert(1)</script>Disp & co",
            "description": "<script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\" rel=\"me\" target=\"_blank\">y</a><p>p</p>",
            "url": "https://x/\"><script>alert(document.cookie)</script>",
        })),
    )
    .await;
    assert_eq!(status, 201, "{u}");
    assert_eq!(u["name"], "Disp &amp; co");
    assert_eq!(u["first_name"], "F &amp; a &lt;b&gt; c");
    assert_eq!(u["last_name"], "Lx &amp;foo;");
    assert_eq!(u["nickname"], "nick");
    assert_eq!(
        u["description"],
        "alert(1)<a href=\"alert(1)\" rel=\"me\">y</a>p"
    );
    assert_eq!(u["url"], "https://x/scriptalert(document.cookie)/script");

    // The administrator's own profile: unfiltered_html lifts none of these filters.
    let (status, me) = call(
        &app,
        Some(&admin),
        Method::POST,
        "/users/me?context=edit",
        Some(json!({
            "first_name": "Tom & Jerry &lt;3 &#38; &eacute; x<y",
            "nickname": "a > b",
            "description": "<script>alert(1)</script>ok",
        })),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["first_name"],
        "Tom &amp; Jerry &lt;3 &#038; &eacute; x&lt;y"
    );
    assert_eq!(me["nickname"], "a &gt; b");
    assert_eq!(me["description"], "alert(1)ok");
}

/// Finding 13: WordPress 5.7+ lower-cases names before its duplicate check
/// (`application_name_exists_for_user()`), for a creation and, in ferropress, a rename.
#[tokio::test]
async fn application_password_names_are_unique_whatever_their_case() {
    let app = spawn().await;
    let user = who(&app, "someone", Role::Author).await;
    let path = "/users/me/application-passwords";
    let (status, first) = call(
        &app,
        Some(&user),
        Method::POST,
        path,
        Some(json!({ "name": "CaseApp" })),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    for dup in ["caseapp", "CASEAPP", "cASEaPP"] {
        let (status, err) = call(
            &app,
            Some(&user),
            Method::POST,
            path,
            Some(json!({ "name": dup })),
        )
        .await;
        assert_eq!(status, 409, "{dup}: {err}");
        assert_eq!(err["code"], "application_password_duplicate_name");
    }
    let (status, other) = call(
        &app,
        Some(&user),
        Method::POST,
        path,
        Some(json!({ "name": "Other" })),
    )
    .await;
    assert_eq!(status, 201, "{other}");
    // Renaming another token onto it in another case is refused too (docs/compat.md row 11).
    let other_uuid = other["uuid"].as_str().expect("uuid");
    let (status, err) = call(
        &app,
        Some(&user),
        Method::POST,
        &format!("{path}/{other_uuid}"),
        Some(json!({ "name": "CASEAPP" })),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["code"], "application_password_duplicate_name");
    // A token may change the case of its own name.
    let first_uuid = first["uuid"].as_str().expect("uuid");
    let (status, renamed) = call(
        &app,
        Some(&user),
        Method::POST,
        &format!("{path}/{first_uuid}"),
        Some(json!({ "name": "CASEAPP" })),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "CASEAPP");
    // `tests` (the helper's token), CaseApp renamed, Other.
    let (status, list) = call(&app, Some(&user), Method::GET, path, None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
}

/// Finding 14: an upper-case `app_id` was lower-cased and stored; `wp_is_uuid()` accepts
/// lower case only, so WordPress answers 400 `rest_invalid_param` and stores nothing.
#[tokio::test]
async fn upper_case_app_id_is_refused() {
    let app = spawn().await;
    let user = who(&app, "someone", Role::Editor).await;
    let path = "/users/me/application-passwords";
    let (status, err) = call(
        &app,
        Some(&user),
        Method::POST,
        path,
        Some(json!({ "name": "upper", "app_id": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11" })),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["code"], "rest_invalid_param");
    assert!(err["data"]["params"]["app_id"].is_string(), "{err}");
    let (_, list) = call(&app, Some(&user), Method::GET, path, None).await;
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec!["tests"]);

    // The lower-case form is accepted and kept as sent.
    let (status, item) = call(
        &app,
        Some(&user),
        Method::POST,
        path,
        Some(json!({ "name": "lower", "app_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" })),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    assert_eq!(item["app_id"], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}
