//! `export_wp()`: the whole site as WXR 1.2, written page by page (never the whole site in
//! memory). Differences from WordPress's file, for a lossless round trip: every user is
//! listed as a `wp:author` (WordPress lists only authors of exported posts), and users'
//! roles are not part of the format.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context as _;

use super::{WXR_VERSION, ZERO_DATE, mysql_date, php_meta_value};
use crate::site::Site;
use crate::store::{CommentQuery, PostOrderBy, PostQuery, Term, TermOrderBy, TermQuery};

/// Posts read per query.
const PAGE: i64 = 200;

/// `wxr_cdata()`: a CDATA section, `]]>` split across two of them.
fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// XML text escaping (`esc_xml`-like) for values WordPress prints bare.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// What an export counted.
#[derive(Debug, Default)]
pub struct Exported {
    pub users: usize,
    pub terms: usize,
    pub posts: usize,
    pub comments: usize,
}

/// All terms of a taxonomy, parents before children (`export_wp()` sorts them so, for the
/// importer to find each parent first).
async fn terms_of(site: &Site, taxonomy: &str) -> anyhow::Result<Vec<Term>> {
    let (terms, _) = site
        .store
        .query_terms(&TermQuery {
            taxonomy: taxonomy.to_owned(),
            orderby: TermOrderBy::Id,
            ascending: true,
            limit: i64::MAX,
            ..TermQuery::default()
        })
        .await?;
    let ids: std::collections::HashSet<i64> = terms.iter().map(|t| t.id).collect();
    let mut placed = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(terms.len());
    let mut rest = terms;
    // Each pass places the terms whose parent is placed (or missing); a loop in the
    // parents would leave terms behind, which the last pass places anyway.
    while !rest.is_empty() {
        let before = rest.len();
        let (ready, later): (Vec<Term>, Vec<Term>) = rest
            .into_iter()
            .partition(|t| t.parent == 0 || !ids.contains(&t.parent) || placed.contains(&t.parent));
        for t in ready {
            placed.insert(t.id);
            out.push(t);
        }
        rest = later;
        if rest.len() == before {
            out.append(&mut rest);
        }
    }
    Ok(out)
}

/// Writes the site as WXR to `out`. `home` is the site's address (`home_url()`).
pub async fn export_wp<W: Write>(site: &Site, home: &str, out: &mut W) -> anyhow::Result<Exported> {
    let tz = crate::rest::posts::site_tz(site)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let utc = jiff::tz::TimeZone::UTC;
    let store = &site.store;
    let option = |name: &'static str| async move {
        store.get_option(name).await.map(Option::unwrap_or_default)
    };
    let title = option("blogname").await?;
    let description = option("blogdescription").await?;
    let mut done = Exported::default();

    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>")?;
    out.write_all(HEADER_COMMENT.as_bytes())?;
    writeln!(
        out,
        "<rss version=\"2.0\"\n\txmlns:excerpt=\"http://wordpress.org/export/{WXR_VERSION}/excerpt/\"\n\txmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n\txmlns:wfw=\"http://wellformedweb.org/CommentAPI/\"\n\txmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n\txmlns:wp=\"http://wordpress.org/export/{WXR_VERSION}/\"\n>\n\n<channel>"
    )?;
    writeln!(out, "\t<title>{}</title>", esc(&title))?;
    writeln!(out, "\t<link>{}</link>", esc(home))?;
    writeln!(out, "\t<description>{}</description>", esc(&description))?;
    writeln!(
        out,
        "\t<pubDate>{}</pubDate>",
        jiff::Timestamp::now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    )?;
    writeln!(out, "\t<language>en-US</language>")?;
    writeln!(out, "\t<wp:wxr_version>{WXR_VERSION}</wp:wxr_version>")?;
    writeln!(out, "\t<wp:base_site_url>{}</wp:base_site_url>", esc(home))?;
    writeln!(
        out,
        "\t<wp:base_blog_url>{}</wp:base_blog_url>\n",
        esc(home)
    )?;

    // wxr_authors_list().
    let users = store.list_users().await?;
    let mut logins = HashMap::with_capacity(users.len());
    for u in &users {
        writeln!(
            out,
            "\t<wp:author><wp:author_id>{}</wp:author_id><wp:author_login>{}</wp:author_login><wp:author_email>{}</wp:author_email><wp:author_display_name>{}</wp:author_display_name><wp:author_first_name>{}</wp:author_first_name><wp:author_last_name>{}</wp:author_last_name></wp:author>\n",
            u.id,
            cdata(&u.login),
            cdata(&u.email),
            cdata(&u.display_name),
            cdata(&u.first_name),
            cdata(&u.last_name)
        )?;
        logins.insert(u.id, u.login.clone());
    }
    done.users = users.len();
    drop(users);

    let categories = terms_of(site, "category").await?;
    let slug_of: HashMap<i64, String> = categories.iter().map(|t| (t.id, t.slug.clone())).collect();
    let mut term_names: HashMap<i64, (String, String, String)> = HashMap::new();
    for c in &categories {
        writeln!(
            out,
            "\t<wp:category>\n\t\t<wp:term_id>{}</wp:term_id>\n\t\t<wp:category_nicename>{}</wp:category_nicename>\n\t\t<wp:category_parent>{}</wp:category_parent>\n\t\t<wp:cat_name>{}</wp:cat_name>\n\t\t<wp:category_description>{}</wp:category_description>\n\t</wp:category>",
            c.id,
            cdata(&c.slug),
            cdata(slug_of.get(&c.parent).map_or("", String::as_str)),
            cdata(&c.name),
            cdata(&c.description)
        )?;
    }
    let tags = terms_of(site, "post_tag").await?;
    for t in &tags {
        writeln!(
            out,
            "\t<wp:tag>\n\t\t<wp:term_id>{}</wp:term_id>\n\t\t<wp:tag_slug>{}</wp:tag_slug>\n\t\t<wp:tag_name>{}</wp:tag_name>\n\t\t<wp:tag_description>{}</wp:tag_description>\n\t</wp:tag>",
            t.id,
            cdata(&t.slug),
            cdata(&t.name),
            cdata(&t.description)
        )?;
    }
    // Post formats are terms of `post_format` in WordPress (`post-format-aside`).
    let formats = store.used_post_formats().await?;
    for f in &formats {
        writeln!(
            out,
            "\t<wp:term>\n\t\t<wp:term_taxonomy>{}</wp:term_taxonomy>\n\t\t<wp:term_slug>{}</wp:term_slug>\n\t\t<wp:term_parent>{}</wp:term_parent>\n\t\t<wp:term_name>{}</wp:term_name>\n\t</wp:term>",
            cdata("post_format"),
            cdata(&format!("post-format-{f}")),
            cdata(""),
            cdata(&format_name(f))
        )?;
    }
    done.terms = categories.len() + tags.len() + formats.len();
    for t in categories.into_iter().chain(tags) {
        term_names.insert(t.id, (t.taxonomy, t.slug, t.name));
    }
    writeln!(
        out,
        "\n\t<generator>https://github.com/ferropress/ferropress?v={}</generator>\n",
        env!("CARGO_PKG_VERSION")
    )?;

    let sticky: Vec<i64> = option("sticky_posts")
        .await
        .map(|s| serde_json::from_str(&s).unwrap_or_default())?;
    let mut types: Vec<String> = vec!["page".into(), "attachment".into()];
    types.extend(
        site.config
            .post_types
            .iter()
            .filter(|pt| !matches!(pt.name.as_str(), "post" | "page" | "attachment"))
            .map(|pt| pt.name.clone()),
    );
    let mut offset = 0;
    loop {
        let (posts, _) = store
            .query_posts(&PostQuery {
                post_type: "post".into(),
                other_post_types: types.clone(),
                orderby: PostOrderBy::Id,
                ascending: true,
                limit: PAGE,
                offset,
                ..PostQuery::default()
            })
            .await?;
        if posts.is_empty() {
            break;
        }
        offset += PAGE;
        let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let mut meta: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        for (id, key, value) in store.post_meta(&ids).await? {
            meta.entry(id).or_default().push((key, value));
        }
        let mut terms: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, term, _) in store.post_terms(&ids).await? {
            terms.entry(id).or_default().push(term);
        }
        let (comments, _) = store
            .query_comments(&CommentQuery {
                post_ids: ids.clone(),
                limit: i64::MAX,
                ascending: true,
                ..CommentQuery::default()
            })
            .await?;
        let mut comments_of: HashMap<i64, Vec<crate::store::Comment>> = HashMap::new();
        for c in comments {
            // export_wp() leaves spam out.
            if c.approved != "spam" {
                comments_of.entry(c.post_id).or_default().push(c);
            }
        }
        for p in &posts {
            if p.status == "auto-draft" {
                continue;
            }
            let date_gmt = if p.date_floating {
                ZERO_DATE.to_owned()
            } else {
                mysql_date(p.date, &utc)
            };
            let mut item = String::with_capacity(p.content.len() + 2048);
            use std::fmt::Write as _;
            let _ = write!(
                item,
                "\t<item>\n\t\t<title>{}</title>\n\t\t<link>{}</link>\n\t\t<pubDate>{}</pubDate>\n\t\t<dc:creator>{}</dc:creator>\n\t\t<guid isPermaLink=\"false\">{}</guid>\n\t\t<description></description>\n\t\t<content:encoded>{}</content:encoded>\n\t\t<excerpt:encoded>{}</excerpt:encoded>\n\t\t<wp:post_id>{}</wp:post_id>\n\t\t<wp:post_date>{}</wp:post_date>\n\t\t<wp:post_date_gmt>{}</wp:post_date_gmt>\n\t\t<wp:post_modified>{}</wp:post_modified>\n\t\t<wp:post_modified_gmt>{}</wp:post_modified_gmt>\n\t\t<wp:comment_status>{}</wp:comment_status>\n\t\t<wp:ping_status>{}</wp:ping_status>\n\t\t<wp:post_name>{}</wp:post_name>\n\t\t<wp:status>{}</wp:status>\n\t\t<wp:post_parent>{}</wp:post_parent>\n\t\t<wp:menu_order>{}</wp:menu_order>\n\t\t<wp:post_type>{}</wp:post_type>\n\t\t<wp:post_password>{}</wp:post_password>\n\t\t<wp:is_sticky>{}</wp:is_sticky>\n",
                cdata(&p.title),
                esc(&p.guid),
                jiff::Timestamp::from_second(p.date)
                    .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string())
                    .unwrap_or_default(),
                cdata(logins.get(&p.author).map_or("", String::as_str)),
                esc(&p.guid),
                cdata(&p.content),
                cdata(&p.excerpt),
                p.id,
                cdata(&mysql_date(p.date, &tz)),
                cdata(&date_gmt),
                cdata(&mysql_date(p.modified, &tz)),
                cdata(&mysql_date(p.modified, &utc)),
                cdata(&p.comment_status),
                cdata(&p.ping_status),
                cdata(&p.slug),
                cdata(&p.status),
                p.parent,
                p.menu_order,
                cdata(&p.post_type),
                cdata(&p.password),
                u8::from(p.post_type == "post" && sticky.contains(&p.id)),
            );
            let post_meta = meta.remove(&p.id).unwrap_or_default();
            if p.post_type == "attachment" {
                let file = post_meta
                    .iter()
                    .find(|(k, _)| k == "_wp_attached_file")
                    .map(|(_, v)| php_meta_value(v))
                    .unwrap_or_default();
                let _ = writeln!(
                    item,
                    "\t\t<wp:attachment_url>{}</wp:attachment_url>",
                    cdata(&format!("{home}/wp-content/uploads/{file}"))
                );
            }
            // wxr_post_taxonomy(): the post's terms, by taxonomy then name.
            let mut cats: Vec<&(String, String, String)> = terms
                .get(&p.id)
                .into_iter()
                .flatten()
                .filter_map(|id| term_names.get(id))
                .collect();
            cats.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
            for (taxonomy, slug, name) in cats {
                let _ = writeln!(
                    item,
                    "\t\t<category domain=\"{}\" nicename=\"{}\">{}</category>",
                    esc(taxonomy),
                    esc(slug),
                    cdata(name)
                );
            }
            if !p.format.is_empty() {
                let _ = writeln!(
                    item,
                    "\t\t<category domain=\"post_format\" nicename=\"post-format-{}\">{}</category>",
                    esc(&p.format),
                    cdata(&format_name(&p.format))
                );
            }
            let mut write_meta = |key: &str, value: &str| {
                let _ = writeln!(
                    item,
                    "\t\t<wp:postmeta>\n\t\t<wp:meta_key>{}</wp:meta_key>\n\t\t<wp:meta_value>{}</wp:meta_value>\n\t\t</wp:postmeta>",
                    cdata(key),
                    cdata(value)
                );
            };
            // wxr_filter_postmeta() leaves out `_edit_lock`.
            for (key, value) in &post_meta {
                if key != "_edit_lock" {
                    write_meta(key, &php_meta_value(value));
                }
            }
            if p.featured_media > 0 {
                write_meta("_thumbnail_id", &p.featured_media.to_string());
            }
            for c in comments_of.remove(&p.id).unwrap_or_default() {
                let _ = writeln!(
                    item,
                    "\t\t<wp:comment>\n\t\t\t<wp:comment_id>{}</wp:comment_id>\n\t\t\t<wp:comment_author>{}</wp:comment_author>\n\t\t\t<wp:comment_author_email>{}</wp:comment_author_email>\n\t\t\t<wp:comment_author_url>{}</wp:comment_author_url>\n\t\t\t<wp:comment_author_IP>{}</wp:comment_author_IP>\n\t\t\t<wp:comment_date>{}</wp:comment_date>\n\t\t\t<wp:comment_date_gmt>{}</wp:comment_date_gmt>\n\t\t\t<wp:comment_content>{}</wp:comment_content>\n\t\t\t<wp:comment_approved>{}</wp:comment_approved>\n\t\t\t<wp:comment_type>{}</wp:comment_type>\n\t\t\t<wp:comment_parent>{}</wp:comment_parent>\n\t\t\t<wp:comment_user_id>{}</wp:comment_user_id>\n\t\t</wp:comment>",
                    c.id,
                    cdata(&c.author_name),
                    cdata(&c.author_email),
                    esc(&c.author_url),
                    cdata(&c.author_ip),
                    cdata(&mysql_date(c.date, &tz)),
                    cdata(&mysql_date(c.date, &utc)),
                    cdata(&c.content),
                    cdata(&c.approved),
                    cdata(&c.comment_type),
                    c.parent,
                    c.user_id
                );
                done.comments += 1;
            }
            item.push_str("\t</item>\n");
            out.write_all(item.as_bytes())?;
            done.posts += 1;
        }
    }
    writeln!(out, "</channel>\n</rss>").context("writing the export")?;
    out.flush()?;
    Ok(done)
}

/// `get_post_format_string()`.
fn format_name(slug: &str) -> String {
    let mut c = slug.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

const HEADER_COMMENT: &str = "<!-- This is a WordPress eXtended RSS file generated by WordPress as an export of your site. -->
<!-- It contains information about your site's posts, pages, comments, categories, and other content. -->
<!-- You may use this file to transfer that content from one site to another. -->
<!-- This file is not intended to serve as a complete backup of your site. -->

<!-- To import this information into a WordPress site follow these steps: -->
<!-- 1. Log in to that site as an administrator. -->
<!-- 2. Go to Tools: Import in the WordPress admin panel. -->
<!-- 3. Install the \"WordPress\" importer from the list. -->
<!-- 4. Activate & Run Importer. -->
<!-- 5. Upload this file using the form provided on that page. -->
<!-- 6. You will first be asked to map the authors in this export file to users -->
<!--    on the site. For each author, you may choose to map to an -->
<!--    existing user on the site or to create a new user. -->
<!-- 7. WordPress will then import each of the posts, pages, comments, categories, etc. -->
<!--    contained in this file into your site. -->

";
