//! Search syntax (`WP_Query::parse_search()`), relevance, case- and accent-insensitive
//! matching and sorting (`utf8mb4_unicode_520_ci`), and taxonomy filters
//! (`prepare_tax_query()`), on whichever store the tests run on.

use ferropress::caps::Role;
use serde_json::{Value, json};

use crate::helpers::*;

struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl Admin<'_> {
    async fn new(app: &TestApp) -> Admin<'_> {
        let (_, token) = app.user_with_token("boss", Role::Administrator).await;
        Admin { app, token }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, self.app.url(&format!("/wp-json/wp/v2/{path}")))
            .basic_auth("boss", Some(&self.token))
    }

    async fn create(&self, path: &str, body: Value) -> i64 {
        let (status, item) = send(self.req(reqwest::Method::POST, path).json(&body)).await;
        assert_eq!(status, 201, "{item}");
        item["id"].as_i64().expect("id")
    }

    async fn post(&self, title: &str, content: &str, date: &str) -> i64 {
        self.create(
            "posts",
            json!({ "title": title, "content": content, "status": "publish", "date": date }),
        )
        .await
    }

    async fn list(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let qs: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        send(self.req(reqwest::Method::GET, &format!("{path}?{qs}"))).await
    }

    async fn ids(&self, path: &str, query: &[(&str, &str)]) -> Vec<i64> {
        let (status, list) = self.list(path, query).await;
        assert_eq!(status, 200, "{path} {query:?}: {list}");
        list.as_array()
            .expect("list")
            .iter()
            .map(|i| i["id"].as_i64().expect("id"))
            .collect()
    }

    async fn names(&self, path: &str, field: &str, query: &[(&str, &str)]) -> Vec<String> {
        let (status, list) = self.list(path, query).await;
        assert_eq!(status, 200, "{path} {query:?}: {list}");
        list.as_array()
            .expect("list")
            .iter()
            .map(|i| {
                let v = &i[field];
                v["rendered"]
                    .as_str()
                    .or(v.as_str())
                    .expect("text")
                    .to_owned()
            })
            .collect()
    }
}

#[tokio::test]
async fn phrases_exclusions_separators_and_stopwords() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    let a = admin
        .post("hcx alpha beta", "nothing", "2001-01-01T10:00:00")
        .await;
    let b = admin
        .post("hcx gamma", "alpha words", "2002-01-01T10:00:00")
        .await;
    let c = admin
        .post("other", "says hcx alpha beta here", "2003-01-01T10:00:00")
        .await;

    // A leading `-` excludes: B has hcx and alpha but no beta.
    assert_eq!(
        admin.ids("posts", &[("search", "hcx alpha -beta")]).await,
        [b]
    );
    // A quoted phrase is one term.
    assert_eq!(
        admin
            .ids("posts", &[("search", "\"hcx alpha beta\"")])
            .await,
        [c, a]
    );
    // `,` and `+` split like spaces.
    assert_eq!(admin.ids("posts", &[("search", "hcx,gamma")]).await, [b]);
    assert_eq!(admin.ids("posts", &[("search", "hcx+gamma")]).await, [b]);
    // Stopwords and one-letter terms are dropped.
    assert_eq!(
        admin.ids("posts", &[("search", "hcx alpha the x")]).await,
        [c, b, a]
    );
    // Only stopwords: the whole text is searched as one.
    assert!(admin.ids("posts", &[("search", "the of")]).await.is_empty());
}

#[tokio::test]
async fn relevance_only_when_asked() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    // Oldest first: the title holding the sentence, then a title with one word, then the
    // content holding the sentence.
    let a = admin
        .post("rlv alpha title", "", "2001-01-01T10:00:00")
        .await;
    let b = admin.post("rlv only", "alpha", "2002-01-01T10:00:00").await;
    let c = admin
        .post("unrelated", "some rlv alpha text", "2003-01-01T10:00:00")
        .await;
    // The REST default `orderby=date` keeps the date order.
    assert_eq!(
        admin.ids("posts", &[("search", "rlv alpha")]).await,
        [c, b, a]
    );
    assert_eq!(
        admin
            .ids(
                "posts",
                &[("search", "rlv alpha"), ("orderby", "relevance")]
            )
            .await,
        [a, b, c]
    );
    // One word: titles containing it first, then by date.
    assert_eq!(
        admin
            .ids("posts", &[("search", "alpha"), ("orderby", "relevance")])
            .await,
        [a, c, b]
    );
    let (status, err) = admin.list("posts", &[("orderby", "relevance")]).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_no_search_term_defined"))
    );
}

#[tokio::test]
async fn search_columns_and_exact_semantics() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    let a = admin
        .post("Exact Title", "colx", "2001-01-01T10:00:00")
        .await;
    let b = admin
        .post("colx in title", "body", "2002-01-01T10:00:00")
        .await;
    assert_eq!(admin.ids("posts", &[("search", "colx")]).await, [b, a]);
    assert_eq!(
        admin
            .ids(
                "posts",
                &[("search", "colx"), ("search_columns", "post_title")]
            )
            .await,
        [b]
    );
    assert_eq!(
        admin
            .ids(
                "posts",
                &[("search", "colx"), ("search_columns[]", "post_content")]
            )
            .await,
        [a]
    );
    let (status, err) = admin
        .list("posts", &[("search", "colx"), ("search_columns", "guid")])
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );

    // Exact: the whole column equals the term (case and accents still ignored).
    let exact = [("search_semantics", "exact")];
    let q = |s: &'static str| [("search", s), exact[0]];
    assert_eq!(admin.ids("posts", &q("\"exact title\"")).await, [a]);
    assert!(admin.ids("posts", &q("exact")).await.is_empty());
    let (status, err) = admin
        .list("posts", &[("search", "x"), ("search_semantics", "fuzzy")])
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );
}

#[tokio::test]
async fn case_and_accents_match_and_sort_posts_terms_and_users() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    for title in ["Zebra acc", "Éclair acc", "apple acc"] {
        admin.post(title, "", "2001-01-01T10:00:00").await;
        admin.create("tags", json!({ "name": title })).await;
        let login = title.split(' ').next().expect("word").to_lowercase();
        let login = ferropress::formatting::remove_accents(&login);
        admin
            .create(
                "users",
                json!({ "username": login, "email": format!("{login}@example.com"),
                        "password": "secret-password-1", "name": title }),
            )
            .await;
    }
    let sorted = ["apple acc", "Éclair acc", "Zebra acc"];
    let by_title = admin
        .names(
            "posts",
            "title",
            &[("search", "acc"), ("orderby", "title"), ("order", "asc")],
        )
        .await;
    assert_eq!(by_title, sorted);
    let tags = admin
        .names(
            "tags",
            "name",
            &[("search", "acc"), ("orderby", "name"), ("order", "asc")],
        )
        .await;
    assert_eq!(tags, sorted);
    let users = admin
        .names(
            "users",
            "name",
            &[("search", "acc"), ("orderby", "name"), ("order", "asc")],
        )
        .await;
    assert_eq!(users, sorted);

    for query in ["eclair", "ÉCLAIR", "éclair acc"] {
        let posts = admin.names("posts", "title", &[("search", query)]).await;
        assert_eq!(posts, ["Éclair acc"], "{query}");
        let tags = admin.names("tags", "name", &[("search", query)]).await;
        assert_eq!(tags, ["Éclair acc"], "{query}");
    }
    let users = admin.names("users", "name", &[("search", "eclair")]).await;
    assert_eq!(users, ["Éclair acc"]);
    // search_columns on users: the display name only, or not at all.
    let name_only = [("search", "eclair"), ("search_columns", "name")];
    assert_eq!(
        admin.names("users", "name", &name_only).await,
        ["Éclair acc"]
    );
    let email_only = [("search", "acc"), ("search_columns", "email")];
    assert!(admin.names("users", "name", &email_only).await.is_empty());
}

#[tokio::test]
async fn media_search_matches_the_file_name() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    let img = image::RgbImage::from_fn(4, 4, |_, _| image::Rgb([1, 2, 3]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let (status, item) = send(
        admin
            .req(reqwest::Method::POST, "media")
            .header("content-type", "image/png")
            .header(
                "content-disposition",
                "attachment; filename=\"findme-file.png\"",
            )
            .body(png.into_inner()),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    let id = item["id"].as_i64().expect("id");
    // A title that does not contain the name.
    let (status, _) = send(
        admin
            .req(reqwest::Method::POST, &format!("media/{id}"))
            .json(&json!({ "title": "A picture" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        admin.ids("media", &[("search", "findme-file.png")]).await,
        [id]
    );
    assert_eq!(admin.ids("media", &[("search", "FINDME")]).await, [id]);
    assert!(
        admin
            .ids("media", &[("search", "picture -findme")])
            .await
            .is_empty()
    );
    // Posts do not look at file names.
    assert!(admin.ids("posts", &[("search", "findme")]).await.is_empty());
}

#[tokio::test]
async fn tax_relation_or_and_object_form_filters() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    let cat = admin.create("categories", json!({ "name": "Cat" })).await;
    let child = admin
        .create("categories", json!({ "name": "Kitten", "parent": cat }))
        .await;
    let tag = admin.create("tags", json!({ "name": "Tagged" })).await;
    let other = admin.create("tags", json!({ "name": "Other" })).await;
    let mk = |title: &'static str, cats: Vec<i64>, tags: Vec<i64>, date: &'static str| {
        let admin = &admin;
        async move {
            admin
                .create(
                    "posts",
                    json!({ "title": title, "status": "publish", "date": date,
                            "categories": cats, "tags": tags }),
                )
                .await
        }
    };
    let in_cat_tagged = mk("p1", vec![cat], vec![tag, other], "2001-01-01T00:00:00").await;
    let in_cat = mk("p2", vec![cat], vec![], "2002-01-01T00:00:00").await;
    let in_child = mk("p3", vec![child], vec![other], "2003-01-01T00:00:00").await;
    let elsewhere = mk("p4", vec![1], vec![], "2004-01-01T00:00:00").await;
    let (t, c, k) = (tag.to_string(), cat.to_string(), child.to_string());

    // Bug 1: tagged OR not in the category.
    let or = admin
        .ids(
            "posts",
            &[
                ("tags[]", &t),
                ("categories_exclude[]", &c),
                ("tax_relation", "OR"),
            ],
        )
        .await;
    assert_eq!(or, [elsewhere, in_child, in_cat_tagged]);
    let and = admin
        .ids("posts", &[("tags[]", &t), ("categories_exclude[]", &c)])
        .await;
    assert!(and.is_empty());

    // Bug 2: the object form.
    let terms = admin.ids("posts", &[("categories[terms][]", &c)]).await;
    assert_eq!(terms, [in_cat, in_cat_tagged]);
    let children = admin
        .ids(
            "posts",
            &[
                ("categories[terms][]", &c),
                ("categories[include_children]", "1"),
            ],
        )
        .await;
    assert_eq!(children, [in_child, in_cat, in_cat_tagged]);
    let excluded = admin
        .ids("posts", &[("categories_exclude[terms][]", &c)])
        .await;
    assert_eq!(excluded, [elsewhere, in_child]);
    let excluded_children = admin
        .ids(
            "posts",
            &[
                ("categories_exclude[terms][]", &c),
                ("categories_exclude[include_children]", "true"),
            ],
        )
        .await;
    assert_eq!(excluded_children, [elsewhere]);
    // operator=AND: every term. With children, the children too (WP_Tax_Query).
    let both = admin
        .ids(
            "posts",
            &[
                ("tags[terms][]", &t),
                ("tags[terms][]", &other.to_string()),
                ("tags[operator]", "AND"),
            ],
        )
        .await;
    assert_eq!(both, [in_cat_tagged]);
    let all_with_children = admin
        .ids(
            "posts",
            &[
                ("categories[terms][]", &c),
                ("categories[operator]", "AND"),
                ("categories[include_children]", "1"),
            ],
        )
        .await;
    assert!(all_with_children.is_empty());
    let and_unknown = admin
        .ids(
            "posts",
            &[
                ("categories[terms][]", &c),
                ("categories[terms][]", "999999"),
                ("categories[operator]", "AND"),
            ],
        )
        .await;
    assert!(and_unknown.is_empty());
    // A term of another taxonomy matches nothing.
    assert!(admin.ids("posts", &[("tags[]", &k)]).await.is_empty());
    // `operator` is for includes only.
    let (status, err) = admin
        .list(
            "posts",
            &[
                ("categories_exclude[terms][]", &c),
                ("categories_exclude[operator]", "AND"),
            ],
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("rest_invalid_param"))
    );
}

#[tokio::test]
async fn long_hostile_search_is_answered() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    admin.post("short", "", "2001-01-01T10:00:00").await;
    for (s, label) in [
        ("a \"b -c,d+".repeat(10_000), "mixed"),
        ("-".repeat(100_000), "dashes"),
        ("\"".repeat(100_000), "quotes"),
        ("word ".repeat(20_000), "words"),
    ] {
        let started = std::time::Instant::now();
        let body = format!("search={}&orderby=relevance", urlencode(&s));
        let (status, list) = send(
            admin
                .req(reqwest::Method::POST, "posts")
                .header("x-http-method-override", "GET")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
        assert_eq!(status, 200, "{label}: {list}");
        eprintln!("100 KB search ({label}): {:?}", started.elapsed());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{label}: {:?}",
            started.elapsed()
        );
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Rows written before migration 0010 have no folded text: the store fills it in when it
/// opens, so they are found and sorted like new ones.
#[tokio::test]
async fn rows_older_than_the_fold_columns_are_filled_in_at_start() {
    let app = TestApp::spawn().await;
    let admin = Admin::new(&app).await;
    admin
        .post("Éclair old", "Crème", "2001-01-01T10:00:00")
        .await;
    admin.create("tags", json!({ "name": "Éclair old" })).await;
    let storage = app.storage.clone();
    let data_dir = app.stop().await;
    let clear = [
        "UPDATE post SET title_fold = NULL, excerpt_fold = NULL, content_fold = NULL",
        "UPDATE term SET name_fold = NULL",
        r#"UPDATE "user" SET display_name_fold = NULL"#,
    ];
    {
        use secrecy::ExposeSecret as _;
        use sqlx::Connection as _;
        match &storage.database_url {
            Some(url) => {
                let mut conn = sqlx::PgConnection::connect(url.expose_secret())
                    .await
                    .expect("connect");
                for sql in clear {
                    sqlx::query(sql).execute(&mut conn).await.expect("clear");
                }
            }
            None => {
                let path = data_dir.path().join("ferropress.db");
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("connect");
                for sql in clear {
                    sqlx::query(sql).execute(&mut conn).await.expect("clear");
                }
            }
        }
    }
    let app = TestApp::spawn_at(data_dir, storage, |_| {}).await;
    let (status, posts) = app.get_json("/wp-json/wp/v2/posts?search=creme").await;
    assert_eq!(status, 200);
    assert_eq!(posts[0]["title"]["rendered"], "Éclair old", "{posts}");
    let (_, tags) = app.get_json("/wp-json/wp/v2/tags?search=eclair").await;
    assert_eq!(tags[0]["name"], "Éclair old", "{tags}");
    let (_, cats) = app
        .get_json("/wp-json/wp/v2/categories?search=UNCATEGORIZED")
        .await;
    assert_eq!(cats[0]["slug"], "uncategorized", "{cats}");
}
