//! Reads a WXR file one record at a time (the parsers of the WordPress Importer plugin,
//! `WXR_Parser_SimpleXML`, read the whole file; this one holds one `<item>` at most), for
//! `ferropress import wxr`. No DTD and no entities but XML's five and character references.

use std::io::BufRead;

use anyhow::{Context as _, bail};
use quick_xml::events::{BytesStart, Event};

/// A user of the file (`<wp:author>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    /// Roles, when the source knows them (the REST source does; WXR does not).
    pub roles: Vec<String>,
    pub nickname: String,
    pub description: String,
    pub url: String,
    pub slug: String,
    pub registered: Option<i64>,
}

/// A term (`<wp:category>`, `<wp:tag>`, `<wp:term>`); the parent is a slug.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Term {
    pub id: i64,
    pub taxonomy: String,
    pub slug: String,
    pub parent_slug: String,
    pub name: String,
    pub description: String,
}

/// A comment of an item (`<wp:comment>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub author: String,
    pub author_email: String,
    pub author_url: String,
    pub author_ip: String,
    pub date: String,
    pub date_gmt: String,
    pub content: String,
    pub approved: String,
    pub comment_type: String,
    pub parent: i64,
    pub user_id: i64,
    pub agent: String,
}

/// A post of any type (`<item>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub title: String,
    pub guid: String,
    /// The author's login (`dc:creator`).
    pub creator: String,
    /// The author's id, when the source gives it (REST) instead of the login.
    pub author_id: Option<i64>,
    pub content: String,
    pub excerpt: String,
    pub post_id: i64,
    pub post_date: String,
    pub post_date_gmt: String,
    pub post_modified: String,
    pub post_modified_gmt: String,
    pub comment_status: String,
    pub ping_status: String,
    pub post_name: String,
    pub status: String,
    pub post_parent: i64,
    pub menu_order: i64,
    pub post_type: String,
    pub post_password: String,
    pub is_sticky: bool,
    pub attachment_url: String,
    /// (taxonomy, slug, name).
    pub terms: Vec<(String, String, String)>,
    /// (key, value as WordPress stores it: PHP-serialized when not a string).
    pub meta: Vec<(String, String)>,
    pub comments: Vec<Comment>,
}

/// One record of the file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `<wp:base_site_url>`: names the source in the import map.
    BaseSiteUrl(String),
    /// `<wp:base_blog_url>`: the address links inside content start with.
    BaseBlogUrl(String),
    Author(Author),
    Term(Term),
    Item(Box<Item>),
}

/// Elements deeper than this are refused (WXR needs five).
const MAX_DEPTH: usize = 32;

enum Open {
    None,
    Author(Author),
    Term(Term),
    Item(Box<Item>),
}

/// The streaming reader.
pub struct Reader<R: BufRead> {
    xml: quick_xml::Reader<R>,
    buf: Vec<u8>,
    /// Qualified names of the open elements.
    path: Vec<Vec<u8>>,
    text: String,
    open: Open,
    comment: Option<Comment>,
    meta: Option<(String, String)>,
    /// `domain` and `nicename` of an open `<category>` of an item.
    category: Option<(String, String)>,
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        .unwrap_or_default()
}

fn int(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Self {
        let mut xml = quick_xml::Reader::from_reader(input);
        let cfg = xml.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = true;
        Self {
            xml,
            buf: Vec::with_capacity(64 * 1024),
            path: Vec::new(),
            text: String::new(),
            open: Open::None,
            comment: None,
            meta: None,
            category: None,
        }
    }

    /// The next record, `None` at the end of the file.
    pub fn next_record(&mut self) -> anyhow::Result<Option<Record>> {
        loop {
            self.buf.clear();
            let pos = self.xml.buffer_position();
            let event = self
                .xml
                .read_event_into(&mut self.buf)
                .with_context(|| format!("reading the WXR file near byte {pos}"))?;
            match event {
                Event::Eof => {
                    if !self.path.is_empty() {
                        bail!("the WXR file ends inside an element");
                    }
                    return Ok(None);
                }
                Event::DocType(_) => bail!("the WXR file has a DTD, which is not read"),
                Event::Start(e) => {
                    if self.path.len() >= MAX_DEPTH {
                        bail!("the WXR file nests elements too deep");
                    }
                    let name = e.name().as_ref().to_vec();
                    self.text.clear();
                    let depth = self.path.len();
                    match (depth, name.as_slice()) {
                        (2, b"wp:author") => self.open = Open::Author(Author::default()),
                        (2, b"wp:category") => {
                            self.open = Open::Term(Term {
                                taxonomy: "category".into(),
                                ..Term::default()
                            });
                        }
                        (2, b"wp:tag") => {
                            self.open = Open::Term(Term {
                                taxonomy: "post_tag".into(),
                                ..Term::default()
                            });
                        }
                        (2, b"wp:term") => self.open = Open::Term(Term::default()),
                        (2, b"item") => self.open = Open::Item(Box::default()),
                        (3, b"category") => {
                            self.category = Some((attr(&e, b"domain"), attr(&e, b"nicename")));
                        }
                        (3, b"wp:comment") => self.comment = Some(Comment::default()),
                        (3, b"wp:postmeta") => self.meta = Some(Default::default()),
                        _ => {}
                    }
                    self.path.push(name);
                }
                Event::Text(t) => self.text.push_str(&t.decode()?),
                Event::CData(t) => self
                    .text
                    .push_str(std::str::from_utf8(&t).context("the WXR file is not UTF-8")?),
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        self.text.push(c);
                    } else {
                        let c = match r.decode()?.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => bail!("the WXR file uses the undefined entity &{other};"),
                        };
                        self.text.push(c);
                    }
                }
                Event::End(_) => {
                    let Some(name) = self.path.pop() else {
                        bail!("unbalanced WXR file");
                    };
                    let text = std::mem::take(&mut self.text);
                    if let Some(record) = self.close(&name, text) {
                        return Ok(Some(record));
                    }
                }
                _ => {}
            }
        }
    }

    /// An element closed at `self.path.len()` (its depth) with its text.
    fn close(&mut self, name: &[u8], text: String) -> Option<Record> {
        let depth = self.path.len();
        if depth == 2 {
            return match name {
                b"wp:base_site_url" => Some(Record::BaseSiteUrl(text.trim().to_owned())),
                b"wp:base_blog_url" => Some(Record::BaseBlogUrl(text.trim().to_owned())),
                b"wp:author" | b"wp:category" | b"wp:tag" | b"wp:term" | b"item" => {
                    match std::mem::replace(&mut self.open, Open::None) {
                        Open::Author(a) => Some(Record::Author(a)),
                        Open::Term(t) => Some(Record::Term(t)),
                        Open::Item(i) => Some(Record::Item(i)),
                        Open::None => None,
                    }
                }
                _ => None,
            };
        }
        match &mut self.open {
            Open::None => {}
            Open::Author(a) if depth == 3 => match name {
                b"wp:author_id" => a.id = int(&text),
                b"wp:author_login" => a.login = text,
                b"wp:author_email" => a.email = text,
                b"wp:author_display_name" => a.display_name = text,
                b"wp:author_first_name" => a.first_name = text,
                b"wp:author_last_name" => a.last_name = text,
                _ => {}
            },
            Open::Term(t) if depth == 3 => match name {
                b"wp:term_id" => t.id = int(&text),
                b"wp:term_taxonomy" => t.taxonomy = text,
                b"wp:category_nicename" | b"wp:tag_slug" | b"wp:term_slug" => t.slug = text,
                b"wp:category_parent" | b"wp:term_parent" => t.parent_slug = text,
                b"wp:cat_name" | b"wp:tag_name" | b"wp:term_name" => t.name = text,
                b"wp:category_description" | b"wp:tag_description" | b"wp:term_description" => {
                    t.description = text;
                }
                _ => {}
            },
            Open::Item(item) if depth == 3 => match name {
                b"title" => item.title = text,
                b"guid" => item.guid = text,
                b"dc:creator" => item.creator = text,
                b"content:encoded" => item.content = text,
                b"excerpt:encoded" => item.excerpt = text,
                b"wp:post_id" => item.post_id = int(&text),
                b"wp:post_date" => item.post_date = text,
                b"wp:post_date_gmt" => item.post_date_gmt = text,
                b"wp:post_modified" => item.post_modified = text,
                b"wp:post_modified_gmt" => item.post_modified_gmt = text,
                b"wp:comment_status" => item.comment_status = text,
                b"wp:ping_status" => item.ping_status = text,
                b"wp:post_name" => item.post_name = text,
                b"wp:status" => item.status = text,
                b"wp:post_parent" => item.post_parent = int(&text),
                b"wp:menu_order" => item.menu_order = int(&text),
                b"wp:post_type" => item.post_type = text,
                b"wp:post_password" => item.post_password = text,
                b"wp:is_sticky" => item.is_sticky = int(&text) != 0,
                b"wp:attachment_url" => item.attachment_url = text,
                b"category" => {
                    if let Some((domain, slug)) = self.category.take() {
                        item.terms.push((domain, slug, text));
                    }
                }
                b"wp:postmeta" => {
                    if let Some(m) = self.meta.take() {
                        item.meta.push(m);
                    }
                }
                b"wp:comment" => {
                    if let Some(c) = self.comment.take() {
                        item.comments.push(c);
                    }
                }
                _ => {}
            },
            Open::Item(_) if depth == 4 => {
                if let Some((key, value)) = &mut self.meta {
                    match name {
                        b"wp:meta_key" => *key = text,
                        b"wp:meta_value" => *value = text,
                        _ => {}
                    }
                } else if let Some(c) = &mut self.comment {
                    match name {
                        b"wp:comment_id" => c.id = int(&text),
                        b"wp:comment_author" => c.author = text,
                        b"wp:comment_author_email" => c.author_email = text,
                        b"wp:comment_author_url" => c.author_url = text,
                        b"wp:comment_author_IP" => c.author_ip = text,
                        b"wp:comment_date" => c.date = text,
                        b"wp:comment_date_gmt" => c.date_gmt = text,
                        b"wp:comment_content" => c.content = text,
                        b"wp:comment_approved" => c.approved = text,
                        b"wp:comment_type" => c.comment_type = text,
                        b"wp:comment_parent" => c.parent = int(&text),
                        b"wp:comment_user_id" => c.user_id = int(&text),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_in_order() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><wp:base_site_url>http://old.example</wp:base_site_url>
<wp:author><wp:author_id>3</wp:author_id><wp:author_login><![CDATA[ann]]></wp:author_login></wp:author>
<wp:category><wp:term_id>5</wp:term_id><wp:category_nicename><![CDATA[kids]]></wp:category_nicename><wp:category_parent><![CDATA[top]]></wp:category_parent><wp:cat_name><![CDATA[Kids &amp; more]]></wp:cat_name></wp:category>
<item><title>A &amp; B &#233;</title><dc:creator><![CDATA[ann]]></dc:creator>
<content:encoded><![CDATA[x ]]]]><![CDATA[> y]]></content:encoded><wp:post_id>9</wp:post_id>
<category domain="category" nicename="kids"><![CDATA[Kids]]></category>
<wp:postmeta><wp:meta_key><![CDATA[k]]></wp:meta_key><wp:meta_value><![CDATA[v]]></wp:meta_value></wp:postmeta>
<wp:comment><wp:comment_id>4</wp:comment_id><wp:comment_content><![CDATA[hi]]></wp:comment_content></wp:comment>
</item></channel></rss>"#;
        let mut r = Reader::new(xml.as_bytes());
        let mut got = vec![];
        while let Some(rec) = r.next_record().expect("record") {
            got.push(rec);
        }
        assert_eq!(got[0], Record::BaseSiteUrl("http://old.example".into()));
        let Record::Author(a) = &got[1] else { panic!() };
        assert_eq!((a.id, a.login.as_str()), (3, "ann"));
        let Record::Term(t) = &got[2] else { panic!() };
        assert_eq!(
            (t.slug.as_str(), t.parent_slug.as_str(), t.name.as_str()),
            ("kids", "top", "Kids &amp; more"),
            "CDATA is literal"
        );
        let Record::Item(i) = &got[3] else { panic!() };
        assert_eq!(i.title, "A & B é");
        assert_eq!(i.content, "x ]]> y");
        assert_eq!(i.post_id, 9);
        assert_eq!(
            i.terms,
            vec![("category".into(), "kids".into(), "Kids".into())]
        );
        assert_eq!(i.meta, vec![("k".into(), "v".into())]);
        assert_eq!(i.comments[0].content, "hi");
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn refuses_entities_and_dtds() {
        let xml = "<!DOCTYPE x [<!ENTITY a \"b\">]><rss><channel></channel></rss>";
        assert!(Reader::new(xml.as_bytes()).next_record().is_err());
        let xml = "<rss><channel><item><title>&a;</title></item></channel></rss>";
        assert!(Reader::new(xml.as_bytes()).next_record().is_err());
    }
}
