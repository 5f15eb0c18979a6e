//! `/xmlrpc.php` through HTTP (issue 15): who may log in, brute force inside
//! `system.multicall`, and hostile bodies (entity bombs, external entities, deep nesting, a
//! body of a gigabyte). Behaviour shared with WordPress is in compat/scenarios/xmlrpc-*.json.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferropress::caps::Role;

use crate::helpers::{TestApp, chunked, production};

/// A `methodCall` of `method` with string parameters.
fn call(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value><string>{p}</string></value></param>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

/// A `system.multicall` of `wp.getUsersBlogs` with each `(login, password)`.
fn multicall(logins: &[(&str, &str)]) -> String {
    let calls: String = logins
        .iter()
        .map(|(u, p)| {
            format!(
                "<value><struct><member><name>methodName</name><value>wp.getUsersBlogs</value></member>\
                 <member><name>params</name><value><array><data><value>{u}</value><value>{p}</value></data></array></value></member></struct></value>"
            )
        })
        .collect();
    format!(
        "<methodCall><methodName>system.multicall</methodName><params><param><value><array><data>{calls}</data></array></value></param></params></methodCall>"
    )
}

async fn post(
    app: &TestApp,
    body: impl Into<reqwest::Body>,
) -> (u16, String, reqwest::header::HeaderMap) {
    let resp = app
        .client
        .post(app.url("/xmlrpc.php"))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.text().await.expect("body"), headers)
}

/// The fault code of an answer, if it is a fault.
fn fault_code(xml: &str) -> Option<i64> {
    let fault = xml.split("<fault>").nth(1)?;
    let after = fault.split("<name>faultCode</name>").nth(1)?;
    let v = after.split("<int>").nth(1)?.split("</int>").next()?;
    v.trim().parse().ok()
}

#[tokio::test]
async fn application_passwords_log_in_and_record_their_use() {
    let app = TestApp::spawn().await;
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    for password in [token.clone(), chunked(&token)] {
        let (status, xml, headers) =
            post(&app, call("wp.getUsersBlogs", &[&user.login, &password])).await;
        assert_eq!(status, 200, "{xml}");
        assert_eq!(fault_code(&xml), None, "{xml}");
        assert!(
            xml.contains("<name>isAdmin</name><value><boolean>0</boolean>"),
            "{xml}"
        );
        assert_eq!(headers["content-type"], "text/xml; charset=UTF-8");
    }
    // By email too, as wp_authenticate_application_password() allows.
    let (_, xml, _) = post(&app, call("wp.getUsersBlogs", &[&user.email, &token])).await;
    assert_eq!(fault_code(&xml), None, "{xml}");

    // The audit of the token shows the XML-RPC use, with the client's user agent.
    let (status, list) = crate::helpers::send(
        app.client
            .get(app.url("/wp-json/wp/v2/users/me/application-passwords"))
            .basic_auth(&user.login, Some(&token)),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert!(list[0]["last_used"].is_string(), "{list}");
    assert_eq!(list[0]["last_ip"], "127.0.0.1", "{list}");
}

#[tokio::test]
async fn account_passwords_only_when_allowed() {
    let app = TestApp::spawn().await;
    let user = app.create_user("penname", Role::Author).await;
    let body = call("wp.getUsersBlogs", &["penname", "pass-penname"]);
    let (status, xml, _) = post(&app, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(fault_code(&xml), Some(403), "refused by default: {xml}");

    let app = TestApp::spawn_with(|a| a.security.xmlrpc_account_passwords = true).await;
    let user2 = app.create_user("penname", Role::Author).await;
    assert_eq!(user.login, user2.login);
    let (_, xml, _) = post(&app, body).await;
    assert_eq!(
        fault_code(&xml),
        None,
        "WordPress's behaviour on request: {xml}"
    );
}

#[tokio::test]
async fn disabled_and_insecure_are_refused() {
    let app = TestApp::spawn_with(|a| a.security.xmlrpc = ferropress::xmlrpc::Toggle::Off).await;
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    let (_, xml, _) = post(&app, call("wp.getUsersBlogs", &[&user.login, &token])).await;
    assert_eq!(fault_code(&xml), Some(405), "{xml}");
    assert!(
        xml.contains("XML-RPC services are disabled on this site."),
        "{xml}"
    );

    // Plain HTTP outside the `local` environment: no Application Passwords.
    let app = TestApp::spawn_with(production).await;
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    let (_, xml, _) = post(&app, call("wp.getUsersBlogs", &[&user.login, &token])).await;
    assert_eq!(fault_code(&xml), Some(403), "{xml}");
}

/// The classic amplification attack: hundreds of guesses in one `system.multicall`. After
/// the first failure the request checks nothing more, and every request counts against the
/// per-IP bucket, so the attacker soon gets 429 and almost nothing is verified.
#[tokio::test]
async fn multicall_brute_force_is_throttled() {
    let app = TestApp::spawn().await;
    let (user, token) = app.user_with_token("victim", Role::Editor).await;
    let login = user.login.as_str();

    // A right password after a wrong one in the same request is not even checked.
    let (_, xml, _) = post(&app, multicall(&[(login, "wrong"), (login, &token)])).await;
    assert_eq!(xml.matches("<int>403</int>").count(), 2, "{xml}");

    let guesses: Vec<(&str, String)> = (0..300).map(|i| (login, format!("guess{i}"))).collect();
    let guesses: Vec<(&str, &str)> = guesses.iter().map(|(u, p)| (*u, p.as_str())).collect();
    let body = multicall(&guesses);
    let before = app.site.auth_throttle.metrics.failures();
    let mut throttled = 0;
    for _ in 0..10 {
        let (status, xml, headers) = post(&app, body.clone()).await;
        if status == 429 {
            throttled += 1;
            assert!(headers.contains_key("retry-after"), "{headers:?}");
            assert_eq!(fault_code(&xml), Some(429), "{xml}");
        } else {
            assert_eq!(status, 200, "{xml}");
        }
    }
    let verified = app.site.auth_throttle.metrics.failures() - before;
    assert!(
        verified <= 5,
        "3,000 guesses in 10 requests verified {verified} passwords (the per-IP burst is 5)"
    );
    assert!(
        throttled >= 5,
        "only {throttled} of 10 requests were throttled"
    );

    // The IP is over its limit: even the right token waits (as for Basic auth).
    let (status, _, _) = post(&app, call("wp.getUsersBlogs", &[login, &token])).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn entity_bombs_and_external_entities_are_parse_errors() {
    let app = TestApp::spawn().await;
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    let lol = "<!ENTITY lol \"lol\">".to_owned()
        + &(1..10)
            .map(|i| {
                let prev = if i == 1 {
                    "lol".to_owned()
                } else {
                    format!("lol{}", i - 1)
                };
                format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10))
            })
            .collect::<String>();
    let bomb = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [{lol}]><methodCall><methodName>wp.getUsersBlogs</methodName>\
         <params><param><value>&lol9;</value></param><param><value>x</value></param></params></methodCall>"
    );
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
         <methodCall><methodName>wp.getUsersBlogs</methodName><params>\
         <param><value>{}</value></param><param><value>&xxe;{token}</value></param></params></methodCall>",
        user.login
    );
    // An entity used without a DOCTYPE is as unknown.
    let undeclared = call("demo.sayHello", &["&xxe;"]);
    for body in [bomb, xxe, undeclared] {
        let started = Instant::now();
        let (status, xml, _) = post(&app, body).await;
        assert_eq!(status, 200);
        assert_eq!(fault_code(&xml), Some(-32700), "{xml}");
        assert!(!xml.contains("root:"), "no file content leaks: {xml}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn deep_nesting_and_huge_bodies_are_refused_cheaply() {
    let app = TestApp::spawn().await;
    for depth in [100, 20_000] {
        let body = format!(
            "<methodCall><methodName>demo.sayHello</methodName><params><param><value>{}x{}</value></param></params></methodCall>",
            "<array><data><value>".repeat(depth),
            "</value></data></array>".repeat(depth)
        );
        let (_, xml, _) = post(&app, body).await;
        assert_eq!(fault_code(&xml), Some(-32700), "depth {depth}: {xml}");
    }

    // A gigabyte of base64, streamed: refused once the upload limit (64 MiB decoded here) is
    // passed, without the rest being read.
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let head = "<methodCall><methodName>wp.uploadFile</methodName><params><param><value><base64>";
    let chunk = bytes::Bytes::from(vec![b'A'; 64 * 1024]);
    let stream = futures_util::stream::iter(
        std::iter::once(bytes::Bytes::from(head))
            .chain(std::iter::repeat_n(chunk, 16 * 1024))
            .map(move |b| {
                counter.fetch_add(b.len() as u64, Ordering::Relaxed);
                Ok::<_, std::io::Error>(b)
            }),
    );
    let resp = app
        .client
        .post(app.url("/xmlrpc.php"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    match resp {
        Ok(r) => {
            assert_eq!(r.status(), 413);
            let xml = r.text().await.unwrap_or_default();
            assert_eq!(fault_code(&xml), Some(413), "{xml}");
        }
        // The server may close the connection before the client has read the answer.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert!(
        sent.load(Ordering::Relaxed) < 256 * 1024 * 1024,
        "the server stopped reading long before the gigabyte: {} bytes sent",
        sent.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn get_and_discovery() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/xmlrpc.php"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    assert_eq!(
        resp.text().await.expect("text"),
        "XML-RPC server accepts POST requests only."
    );
    let rsd = app
        .client
        .get(app.url("/xmlrpc.php?rsd"))
        .send()
        .await
        .expect("rsd")
        .text()
        .await
        .expect("text");
    assert!(
        rsd.contains(&format!("apiLink=\"{}/xmlrpc.php\"", app.base)),
        "{rsd}"
    );
    let home = app.client.get(app.url("/")).send().await.expect("home");
    let html = home.text().await.expect("html");
    assert!(
        html.contains(&format!(
            "<link rel=\"EditURI\" type=\"application/rsd+xml\" title=\"RSD\" href=\"{}/xmlrpc.php?rsd\" />",
            app.base
        )),
        "{html}"
    );
}

/// A `methodCall` whose parameters are already XML `<value>`s.
fn call_values(method: &str, values: &[String]) -> String {
    let params: String = values
        .iter()
        .map(|v| format!("<param><value>{v}</value></param>"))
        .collect();
    format!("<methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>")
}

#[tokio::test]
async fn comments_record_the_client_and_hide_addresses_from_non_moderators() {
    let app = TestApp::spawn().await;
    let (admin, admin_token) = app.user_with_token("boss", Role::Administrator).await;
    let (author, author_token) = app.user_with_token("writer", Role::Author).await;
    let (status, created) = crate::helpers::send(
        app.client
            .post(app.url("/wp-json/wp/v2/posts"))
            .basic_auth(&admin.login, Some(&admin_token))
            .json(&serde_json::json!({"title": "Open", "status": "publish", "comment_status": "open"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let pid = created["id"].as_i64().expect("id");
    let s = |v: &str| format!("<string>{v}</string>");
    let creds = |login: &str, token: &str| vec!["<int>1</int>".to_owned(), s(login), s(token)];

    let mut args = creds(&admin.login, &admin_token);
    args.push(format!("<int>{pid}</int>"));
    args.push(
        "<struct><member><name>content</name><value>  Hello there  </value></member></struct>"
            .into(),
    );
    let (_, xml, _) = post(&app, call_values("wp.newComment", &args)).await;
    assert_eq!(fault_code(&xml), None, "{xml}");
    let cid: i64 = xml
        .split("<int>")
        .nth(1)
        .and_then(|r| r.split("</int>").next())
        .and_then(|v| v.parse().ok())
        .expect("comment id");

    // The moderator sees the commenter's address and the IP the comment came from.
    let mut args = creds(&admin.login, &admin_token);
    args.push(format!("<int>{cid}</int>"));
    let (_, xml, _) = post(&app, call_values("wp.getComment", &args)).await;
    assert!(
        xml.contains("<name>author_ip</name><value><string>127.0.0.1</string>"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<name>author_email</name><value><string>{}</string>",
            admin.email
        )),
        "{xml}"
    );
    assert!(
        xml.contains("<name>content</name><value><string>Hello there</string>"),
        "{xml}"
    );
    assert!(
        xml.contains("<name>status</name><value><string>approve</string>"),
        "{xml}"
    );

    // An author lists the approved comment without them (docs/compat.md "xmlrpc-comments"),
    // and may not read it alone.
    let mut args = creds(&author.login, &author_token);
    args.push(
        "<struct><member><name>status</name><value>approve</value></member>\
         <member><name>post_type</name><value>post</value></member></struct>"
            .into(),
    );
    let (_, xml, _) = post(&app, call_values("wp.getComments", &args)).await;
    assert!(
        xml.contains("<name>content</name><value><string>Hello there</string>"),
        "{xml}"
    );
    assert!(
        xml.contains("<name>author_email</name><value><string></string>"),
        "{xml}"
    );
    assert!(
        xml.contains("<name>author_ip</name><value><string></string>"),
        "{xml}"
    );
    assert!(!xml.contains(&admin.email), "{xml}");
    let mut args = creds(&author.login, &author_token);
    args.push(format!("<int>{cid}</int>"));
    let (_, xml, _) = post(&app, call_values("wp.getComment", &args)).await;
    assert_eq!(fault_code(&xml), Some(403), "{xml}");
}

/// The time the server takes to answer `demo.sayHello` with `param` (a `<value>`'s
/// content), best of three.
async fn answer_time(app: &TestApp, param: &str) -> Duration {
    let body = format!(
        "<methodCall><methodName>demo.sayHello</methodName><params><param><value>{param}</value></param></params></methodCall>"
    );
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let (status, xml, _) = post(app, body.clone()).await;
        best = best.min(started.elapsed());
        assert_eq!(status, 200, "{}", &xml[..xml.len().min(300)]);
        assert_eq!(fault_code(&xml), None, "{}", &xml[..xml.len().min(300)]);
    }
    best
}

/// A struct with as many members as the element limit allows (each name distinct, long and
/// alike) is parsed in about the time of a list of as many strings: the parser finds a
/// repeated member name through an index, not by comparing it with every earlier name
/// (which made this struct ~50 million comparisons). A struct of 100,000 members is over
/// the element limit and refused before parsing.
#[tokio::test]
async fn struct_members_are_indexed_not_compared_pairwise() {
    let app = TestApp::spawn_with(|a| a.max_body_bytes = 8 * 1024 * 1024).await;
    let n = 9_990;
    let key = |i: usize| format!("{i:0>64}");
    let members: String = (0..n)
        .map(|i| format!("<member><name>{}</name><value>v</value></member>", key(i)))
        .collect();
    let items: String = (0..n)
        .map(|i| format!("<value><string>{}</string></value>", key(i)))
        .collect();
    let list = answer_time(&app, &format!("<array><data>{items}</data></array>")).await;
    let structure = answer_time(&app, &format!("<struct>{members}</struct>")).await;
    eprintln!("{n} members: struct {structure:?}, list {list:?}");
    assert!(
        structure < list * 4 + Duration::from_millis(100),
        "a {n}-member struct took {structure:?}, a {n}-item list {list:?}"
    );

    let huge: String = (0..100_000)
        .map(|i| format!("<member><name>{i}</name><value>v</value></member>"))
        .collect();
    let body = format!(
        "<methodCall><methodName>demo.sayHello</methodName><params><param><value><struct>{huge}</struct></value></param></params></methodCall>"
    );
    let started = Instant::now();
    let (_, xml, _) = post(&app, body).await;
    assert_eq!(fault_code(&xml), Some(-32700), "{xml}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn custom_fields_are_added_updated_and_deleted_by_meta_id() {
    let app = TestApp::spawn().await;
    let (user, token) = app.user_with_token("writer", Role::Author).await;
    let s = |v: &str| format!("<string>{v}</string>");
    let creds = || vec!["<int>1</int>".to_owned(), s(&user.login), s(&token)];
    let field = |k: &str, v: &str| {
        format!(
            "<value><struct><member><name>key</name><value>{k}</value></member><member><name>value</name><value>{v}</value></member></struct></value>"
        )
    };
    let mut args = creds();
    args.push(format!(
        "<struct><member><name>post_title</name><value>Fields</value></member>\
         <member><name>custom_fields</name><value><array><data>{}{}</data></array></value></member>\
         <member><name>enclosure</name><value><struct><member><name>url</name><value>http://example.org/a.mp3</value></member>\
         <member><name>length</name><value><int>12</int></value></member><member><name>type</name><value>audio/mpeg</value></member></struct></value></member></struct>",
        field("color", "blue"),
        field("_hidden", "h")
    ));
    let (_, xml, _) = post(&app, call_values("wp.newPost", &args)).await;
    assert_eq!(fault_code(&xml), None, "{xml}");
    let pid = xml
        .split("<string>")
        .nth(1)
        .and_then(|r| r.split("</string>").next())
        .expect("post id")
        .to_owned();

    let get = |pid: String| {
        let mut args = creds();
        args.push(format!("<int>{pid}</int>"));
        args.push(
            "<array><data><value>custom_fields</value><value>enclosure</value></data></array>"
                .into(),
        );
        call_values("wp.getPost", &args)
    };
    let (_, xml, _) = post(&app, get(pid.clone())).await;
    // By key: the enclosure's own row first, then `color`; `_hidden` is protected.
    assert!(
        xml.contains("<name>key</name><value><string>enclosure</string>"),
        "{xml}"
    );
    assert!(
        xml.contains("<name>value</name><value><string>blue</string>"),
        "{xml}"
    );
    assert!(!xml.contains("_hidden"), "{xml}");
    assert!(
        xml.contains("<name>length</name><value><int>12</int>"),
        "{xml}"
    );
    let color_id = xml
        .split("<name>key</name><value><string>color</string>")
        .next()
        .and_then(|before| before.rsplit("<name>id</name><value><string>").next())
        .and_then(|r| r.split("</string>").next())
        .expect("color's meta id")
        .to_owned();

    let mut args = creds();
    args.push(format!("<int>{pid}</int>"));
    args.push(format!(
        "<struct><member><name>custom_fields</name><value><array><data>\
         <value><struct><member><name>id</name><value>{color_id}</value></member><member><name>key</name><value>color</value></member><member><name>value</name><value>red</value></member></struct></value>\
         {}</data></array></value></member></struct>",
        field("size", "L")
    ));
    let (_, xml, _) = post(&app, call_values("wp.editPost", &args)).await;
    assert_eq!(fault_code(&xml), None, "{xml}");
    let (_, xml, _) = post(&app, get(pid.clone())).await;
    assert!(xml.contains("<value><string>red</string>"), "{xml}");
    assert!(xml.contains("<value><string>L</string>"), "{xml}");
    assert!(!xml.contains("blue"), "{xml}");

    let mut args = creds();
    args.push(format!("<int>{pid}</int>"));
    args.push(format!(
        "<struct><member><name>custom_fields</name><value><array><data>\
         <value><struct><member><name>id</name><value>{color_id}</value></member></struct></value>\
         </data></array></value></member></struct>"
    ));
    let (_, xml, _) = post(&app, call_values("wp.editPost", &args)).await;
    assert_eq!(fault_code(&xml), None, "{xml}");
    let (_, xml, _) = post(&app, get(pid)).await;
    assert!(!xml.contains("<string>color</string>"), "{xml}");
    assert!(xml.contains("<value><string>L</string>"), "{xml}");
}

/// An upload of a text file of `len` bytes through `wp.uploadFile`, in base64 lines as
/// Python's `xmlrpc.client` sends it.
fn upload_call(login: &str, token: &str, len: usize) -> String {
    use base64::Engine as _;
    let data = "plain text\n".repeat(len / 11 + 1).as_bytes()[..len].to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "<methodCall><methodName>wp.uploadFile</methodName><params>\
         <param><value><int>1</int></value></param><param><value>{login}</value></param>\
         <param><value>{token}</value></param><param><value><struct>\
         <member><name>name</name><value>big.txt</value></member>\
         <member><name>type</name><value>text/plain</value></member>\
         <member><name>bits</name><value><base64>\n{}\n</base64></value></member>\
         </struct></value></param></params></methodCall>",
        lines.join("\n")
    )
}

#[tokio::test]
async fn uploads_stream_to_disk_under_the_upload_limit_not_the_body_limit() {
    // Bodies up to 1 MiB, files up to 4 MiB.
    let app = TestApp::spawn_with(|a| a.max_upload_bytes = 4 * 1024 * 1024).await;
    let (user, token) = app.user_with_token("uploader", Role::Author).await;

    // 3 MiB of file (4 MiB of base64): over the body limit, under the upload limit.
    let (status, xml, _) = post(&app, upload_call(&user.login, &token, 3 * 1024 * 1024)).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(fault_code(&xml), None, "{xml}");
    let id = xml
        .split("<name>attachment_id</name><value><string>")
        .nth(1)
        .and_then(|r| r.split("</string>").next())
        .expect("attachment id")
        .to_owned();
    let (status, media) = crate::helpers::send(
        app.client
            .get(app.url(&format!("/wp-json/wp/v2/media/{id}?context=edit")))
            .basic_auth(&user.login, Some(&token)),
    )
    .await;
    assert_eq!(status, 200, "{media}");
    assert_eq!(
        media["media_details"]["filesize"],
        3 * 1024 * 1024,
        "{media}"
    );

    // 5 MiB: over the upload limit.
    let (status, xml, _) = post(&app, upload_call(&user.login, &token, 5 * 1024 * 1024)).await;
    assert_eq!(status, 413, "{xml}");
    assert_eq!(fault_code(&xml), Some(413), "{xml}");

    // The XML around the files is still bounded by the body limit.
    let padding = "x".repeat(2 * 1024 * 1024);
    let (status, xml, _) = post(
        &app,
        format!("<methodCall><methodName>demo.sayHello</methodName><params><param><value>{padding}</value></param></params></methodCall>"),
    )
    .await;
    assert_eq!(status, 413, "{xml}");
    // No spooled file is left behind.
    let tmp = app.site.config.media.temp_dir();
    let left = std::fs::read_dir(&tmp)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert_eq!(left, 0, "files left in {}", tmp.display());
}
