//! `ferropress import`: brings a WordPress site over, from a WXR file (`crate::wxr::read`)
//! or through its REST API ([`rest`]). Both sources hand the same records to [`Importer`],
//! which mirrors the WordPress Importer plugin's `WP_Import`: `process_authors()`,
//! `process_terms()`, `process_posts()` (comments with their post), then
//! `backfill_parents()`, `remap_featured_images()` and the sticky posts.
//!
//! Every object written is recorded in `import_map` (a post in the same transaction as the
//! post itself), so an interrupted import run again skips what is done and ends with the
//! same site as an uninterrupted one. An object keeps its id when no object of its kind has
//! it here (so every id is kept on an empty site), else the store gives a new one; every
//! reference (parent, author, featured image, terms, comment parent, uploads links inside
//! content) is rewritten through the map.

pub mod rest;

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;
use tokio::sync::OwnedSemaphorePermit;

use crate::caps::Role;
use crate::formatting::sanitize_title;
use crate::rest::revisions::REVISION;
use crate::site::{Site, now};
use crate::store::{Comment, ImportKey, NewPostWrite, NewUser, Post, Term, TermQuery};
use crate::wxr::read::{Author, Item, Term as WxrTerm};
use crate::wxr::{parse_mysql_date, php_unserialize};

/// Posts being written at once on SQLite, whose store commits concurrent creations
/// together (on PostgreSQL each write takes pool connections: a third of the pool).
const WRITES_IN_FLIGHT: usize = 64;
/// Reasons kept per kind in the report (the counts are always complete).
const MAX_REASONS: usize = 50;

/// How an import runs.
pub struct Options {
    /// Count what would come, write nothing.
    pub dry_run: bool,
    /// The source's uploads directory: files are copied from there when present.
    pub uploads: Option<PathBuf>,
    /// Requests to the source site at once (files, REST pages).
    pub concurrency: usize,
    /// Pause after each request to the source site.
    pub delay: Duration,
    /// Fetches attachments (and, for `import wordpress`, the REST API).
    pub client: reqwest::Client,
    /// The store is PostgreSQL (see [`WRITES_IN_FLIGHT`]).
    pub postgres: bool,
}

/// Imported / skipped / failed counts of one kind.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub imported: u64,
    pub skipped: u64,
    pub failed: u64,
    pub reasons: Vec<String>,
}

impl Tally {
    fn fail(&mut self, reason: String) {
        self.failed += 1;
        if self.reasons.len() < MAX_REASONS {
            self.reasons.push(reason);
        }
    }
}

/// The final report.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub users: Tally,
    pub terms: Tally,
    pub posts: Tally,
    pub media: Tally,
    pub comments: Tally,
    /// Revisions of imported posts (`import wordpress`: WXR carries none).
    pub revisions: Tally,
    /// Users created here: they have no password and must reset it.
    pub new_users: Vec<String>,
    /// Users of the source that had Application Passwords (which cannot be copied).
    pub had_app_passwords: Vec<String>,
}

impl Report {
    pub fn failed(&self) -> bool {
        [
            &self.users,
            &self.terms,
            &self.posts,
            &self.media,
            &self.comments,
            &self.revisions,
        ]
        .iter()
        .any(|t| t.failed > 0)
    }

    /// The report as printed at the end.
    pub fn render(&self, dry_run: bool) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let verb = if dry_run { "would import" } else { "imported" };
        for (kind, t) in [
            ("users", &self.users),
            ("terms", &self.terms),
            ("posts", &self.posts),
            ("media", &self.media),
            ("comments", &self.comments),
            ("revisions", &self.revisions),
        ] {
            let _ = writeln!(
                out,
                "{kind:<9} {verb} {:>6}  skipped {:>6}  failed {:>6}",
                t.imported, t.skipped, t.failed
            );
            for r in &t.reasons {
                let _ = writeln!(out, "  failed: {r}");
            }
        }
        if !self.new_users.is_empty() {
            let _ = writeln!(
                out,
                "Users created without a password (they must reset it, e.g. `ferropress user update` or the lost-password link): {}",
                self.new_users.join(", ")
            );
        }
        if !self.had_app_passwords.is_empty() {
            let _ = writeln!(
                out,
                "Users who had Application Passwords on the source (WordPress keeps only their hashes: create new ones here): {}",
                self.had_app_passwords.join(", ")
            );
        }
        out
    }
}

/// A post written in the background, and what follows once it has its id.
struct Written {
    old_id: i64,
    kind: &'static str,
    title: String,
    result: anyhow::Result<i64>,
    /// Comments written after the post.
    comments: Vec<crate::wxr::read::Comment>,
    /// (old id, id here) of the comments written with the post, and of those among them
    /// whose parent is not here yet: (id here, parent's old id).
    batched: Vec<(i64, i64)>,
    batched_orphans: Vec<(i64, i64)>,
    sticky: bool,
    old_parent: i64,
    old_featured: i64,
}

type Job = Pin<Box<dyn Future<Output = Written> + Send>>;

/// A file to bring with an attachment.
struct Fetch {
    url: String,
    rel: String,
}

/// Brings records of one source site in, in file order.
pub struct Importer {
    site: Arc<Site>,
    opts: Options,
    fetches: Arc<tokio::sync::Semaphore>,
    source: String,
    /// Addresses of the source's uploads (`…/wp-content/uploads/`), rewritten in content.
    old_uploads: Vec<String>,
    new_uploads: Option<String>,
    tz: jiff::tz::TimeZone,
    users: HashMap<i64, i64>,
    terms: HashMap<i64, i64>,
    posts: HashMap<i64, i64>,
    comments: HashMap<i64, i64>,
    /// Lower-cased login → user id here.
    logins: HashMap<String, i64>,
    /// (taxonomy, slug) → term id here.
    term_slugs: HashMap<(String, String), i64>,
    /// Posts whose parent was not here yet: (post here, parent's old id).
    orphans: Vec<(i64, i64)>,
    /// Posts whose featured image was not here yet: (post here, attachment's old id).
    featured: Vec<(i64, i64)>,
    /// Comments whose parent was not here yet: (comment here, parent's old id).
    comment_orphans: Vec<(i64, i64)>,
    sticky: Vec<i64>,
    in_flight: FuturesUnordered<Job>,
    fallback_author: i64,
    pub report: Report,
    progress: Option<indicatif::ProgressBar>,
    last_line: std::time::Instant,
}

/// Meta WordPress keeps for itself or that ferropress holds elsewhere.
const SKIPPED_META: &[&str] = &[
    "_edit_lock",
    "_edit_last",
    "_thumbnail_id",
    "_wp_attachment_metadata",
    "_pingme",
    "_encloseme",
    "_wp_old_slug",
    "_wp_old_date",
    "_wp_trash_meta_status",
    "_wp_trash_meta_time",
];

impl Importer {
    /// `new_home`: this site's address, for the uploads links inside content (`None`:
    /// links are left as they are).
    pub async fn new(
        site: Arc<Site>,
        opts: Options,
        new_home: Option<String>,
    ) -> anyhow::Result<Self> {
        let tz = crate::rest::posts::site_tz(&site)
            .await
            .map_err(|e| anyhow!("{}", e.message))?;
        let sticky = match site.store.get_option("sticky_posts").await? {
            Some(s) => serde_json::from_str(&s).unwrap_or_default(),
            None => vec![],
        };
        let admins = site
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.roles.contains(&Role::Administrator))
            .map(|u| u.id)
            .min();
        let fetches = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
        let progress = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {msg} ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Ok(Self {
            site,
            opts,
            fetches,
            source: String::new(),
            old_uploads: vec![],
            new_uploads: new_home
                .map(|h| format!("{}/wp-content/uploads/", h.trim_end_matches('/'))),
            tz,
            users: HashMap::new(),
            terms: HashMap::new(),
            posts: HashMap::new(),
            comments: HashMap::new(),
            logins: HashMap::new(),
            term_slugs: HashMap::new(),
            orphans: vec![],
            featured: vec![],
            comment_orphans: vec![],
            sticky,
            in_flight: FuturesUnordered::new(),
            fallback_author: admins.unwrap_or(0),
            report: Report::default(),
            progress,
            last_line: std::time::Instant::now(),
        })
    }

    pub fn site(&self) -> &Arc<Site> {
        &self.site
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Names the source (its address): loads what earlier runs recorded for it.
    pub async fn set_source(&mut self, url: &str) -> anyhow::Result<()> {
        let url = url.trim_end_matches('/').to_owned();
        self.add_old_base(&url);
        for (kind, map) in [
            ("user", &mut self.users),
            ("term", &mut self.terms),
            ("post", &mut self.posts),
            ("comment", &mut self.comments),
        ] {
            map.extend(self.site.store.import_map(&url, kind).await?);
        }
        self.source = url;
        // A run interrupted after inserting kept ids: new rows continue after them.
        self.site.store.sync_id_sequences().await?;
        Ok(())
    }

    /// Another address of the source whose uploads links are rewritten.
    pub fn add_old_base(&mut self, url: &str) {
        let prefix = format!("{}/wp-content/uploads/", url.trim_end_matches('/'));
        if !self.old_uploads.contains(&prefix) {
            self.old_uploads.push(prefix);
        }
    }

    /// The source's id when no object of the kind has it here (so an import into an empty
    /// site keeps every id), else 0: the store picks one.
    async fn free_id(&self, kind: &str, old: i64) -> anyhow::Result<i64> {
        if old <= 0 {
            return Ok(0);
        }
        let store = &self.site.store;
        let taken = match kind {
            "user" => store.user_by_id(old).await?.is_some(),
            "term" => store.term_by_id(old).await?.is_some(),
            "post" => store.post_by_id(old).await?.is_some(),
            _ => store.comment_by_id(old).await?.is_some(),
        };
        Ok(if taken { 0 } else { old })
    }

    fn key(&self, kind: &'static str, old_id: i64) -> ImportKey {
        ImportKey {
            source: self.source.clone(),
            kind,
            old_id,
        }
    }

    fn tick(&mut self) {
        let r = &self.report;
        let msg = format!(
            "users {} terms {} posts {} media {} comments {} revisions {} (failed {})",
            r.users.imported + r.users.skipped,
            r.terms.imported + r.terms.skipped,
            r.posts.imported + r.posts.skipped,
            r.media.imported + r.media.skipped,
            r.comments.imported + r.comments.skipped,
            r.revisions.imported + r.revisions.skipped,
            r.users.failed
                + r.terms.failed
                + r.posts.failed
                + r.media.failed
                + r.comments.failed
                + r.revisions.failed
        );
        if let Some(bar) = &self.progress {
            bar.set_message(msg);
            bar.inc(1);
        } else if self.last_line.elapsed() >= Duration::from_secs(2) {
            self.last_line = std::time::Instant::now();
            eprintln!("import: {msg}");
        }
    }

    /// `process_authors()`: a user whose login exists here is that user; others are
    /// created without a password.
    pub async fn author(&mut self, a: Author) -> anyhow::Result<()> {
        let login_key = a.login.to_lowercase();
        if let Some(&id) = self.users.get(&a.id) {
            self.logins.insert(login_key, id);
            self.report.users.skipped += 1;
            return Ok(());
        }
        if let Some(u) = self.site.store.user_by_login(&a.login).await? {
            self.logins.insert(login_key, u.id);
            self.users.insert(a.id, u.id);
            if !self.opts.dry_run {
                self.site
                    .store
                    .set_import_map(&self.key("user", a.id), u.id)
                    .await?;
            }
            self.report.users.skipped += 1;
            return Ok(());
        }
        if self.opts.dry_run {
            self.report.users.imported += 1;
            return Ok(());
        }
        let roles: Vec<Role> = a.roles.iter().filter_map(|r| r.parse().ok()).collect();
        let nicename = if a.slug.is_empty() {
            sanitize_title(&a.login)
        } else {
            a.slug.clone()
        };
        let or_login = |s: &str| {
            if s.is_empty() {
                a.login.clone()
            } else {
                s.to_owned()
            }
        };
        let new = NewUser {
            id: self.free_id("user", a.id).await?,
            login: a.login.clone(),
            email: a.email.clone(),
            nicename,
            display_name: or_login(&a.display_name),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            nickname: or_login(&a.nickname),
            description: a.description.clone(),
            url: a.url.clone(),
            locale: String::new(),
            // `wp_insert_user()` without a role: the `default_role` option's.
            roles: if roles.is_empty() {
                vec![Role::Subscriber]
            } else {
                roles
            },
            // No password: nobody can log in as the user until one is set.
            pass_hash: String::new(),
            registered: a.registered.unwrap_or_else(now),
        };
        if a.login.is_empty() || !crate::formatting::is_email(&a.email) {
            self.report.users.fail(format!(
                "user {} ({:?}): no login or no valid email",
                a.id, a.login
            ));
            return Ok(());
        }
        match self.site.store.create_user(new).await {
            Ok(u) => {
                self.site
                    .store
                    .set_import_map(&self.key("user", a.id), u.id)
                    .await?;
                self.users.insert(a.id, u.id);
                self.logins.insert(login_key, u.id);
                self.report.users.imported += 1;
                self.report.new_users.push(a.login);
            }
            Err(crate::store::StoreError::Conflict(c)) => {
                self.report.users.fail(format!(
                    "user {} ({}): {c} already taken here",
                    a.id, a.login
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.tick();
        Ok(())
    }

    async fn term_by_slug(&mut self, taxonomy: &str, slug: &str) -> anyhow::Result<Option<i64>> {
        let key = (taxonomy.to_owned(), slug.to_owned());
        if let Some(&id) = self.term_slugs.get(&key) {
            return Ok(Some(id));
        }
        let (found, _) = self
            .site
            .store
            .query_terms(&TermQuery {
                taxonomy: taxonomy.to_owned(),
                slugs: vec![slug.to_owned()],
                limit: 1,
                ..TermQuery::default()
            })
            .await?;
        let id = found.first().map(|t| t.id);
        if let Some(id) = id {
            self.term_slugs.insert(key, id);
        }
        Ok(id)
    }

    /// `process_terms()`: a term whose slug exists in its taxonomy here is that term.
    pub async fn term(&mut self, t: WxrTerm) -> anyhow::Result<()> {
        if !matches!(t.taxonomy.as_str(), "category" | "post_tag") {
            // Post formats are a column here; menus and other taxonomies have no place.
            if t.taxonomy != "post_format" {
                self.report.terms.skipped += 1;
            }
            return Ok(());
        }
        if let Some(&id) = self.terms.get(&t.id).filter(|_| t.id != 0) {
            self.term_slugs
                .insert((t.taxonomy.clone(), t.slug.clone()), id);
            self.report.terms.skipped += 1;
            return Ok(());
        }
        if let Some(id) = self.term_by_slug(&t.taxonomy, &t.slug).await? {
            if t.id != 0 {
                self.terms.insert(t.id, id);
                if !self.opts.dry_run {
                    self.site
                        .store
                        .set_import_map(&self.key("term", t.id), id)
                        .await?;
                }
            }
            self.report.terms.skipped += 1;
            return Ok(());
        }
        if self.opts.dry_run {
            self.report.terms.imported += 1;
            return Ok(());
        }
        let parent = if t.parent_slug.is_empty() || t.taxonomy != "category" {
            0
        } else {
            self.term_by_slug(&t.taxonomy, &t.parent_slug)
                .await?
                .unwrap_or(0)
        };
        let slug = if t.slug.is_empty() {
            sanitize_title(&t.name)
        } else {
            t.slug.clone()
        };
        let term = Term {
            id: self.free_id("term", t.id).await?,
            taxonomy: t.taxonomy.clone(),
            name: t.name.clone(),
            slug: slug.clone(),
            description: t.description.clone(),
            parent,
            count: 0,
        };
        match self.site.store.insert_term(&term).await {
            Ok(id) => {
                if t.id != 0 {
                    self.site
                        .store
                        .set_import_map(&self.key("term", t.id), id)
                        .await?;
                    self.terms.insert(t.id, id);
                }
                self.term_slugs.insert((t.taxonomy, slug), id);
                self.report.terms.imported += 1;
            }
            Err(e) => self
                .report
                .terms
                .fail(format!("term {} ({}): {e}", t.id, t.slug)),
        }
        self.tick();
        Ok(())
    }

    /// The post types brought over: post, page, attachment and this site's own.
    fn known_type(&self, post_type: &str) -> bool {
        matches!(post_type, "post" | "page" | "attachment")
            || self.site.post_type(post_type).is_some()
    }

    fn rewrite_uploads(&self, text: &str) -> String {
        let Some(new) = &self.new_uploads else {
            return text.to_owned();
        };
        let mut out = text.to_owned();
        for old in &self.old_uploads {
            if old != new && out.contains(old.as_str()) {
                out = out.replace(old.as_str(), new);
            }
        }
        out
    }

    /// `process_posts()` for one item: writes it in the background (at most
    /// [`WRITES_IN_FLIGHT`] at once); its comments follow once it has its id.
    pub async fn item(&mut self, item: Box<Item>) -> anyhow::Result<()> {
        let is_media = item.post_type == "attachment";
        let tally_kind = if is_media { "media" } else { "posts" };
        if !self.known_type(&item.post_type) {
            self.tally(tally_kind).skipped += 1;
            return Ok(());
        }
        if item.status == "auto-draft" {
            self.tally(tally_kind).skipped += 1;
            return Ok(());
        }
        if let Some(&id) = self.posts.get(&item.post_id) {
            self.tally(tally_kind).skipped += 1;
            if !self.opts.dry_run {
                self.relink(&item);
                self.comments_of(id, item.comments).await?;
            }
            return Ok(());
        }
        if self.opts.dry_run {
            self.tally(tally_kind).imported += 1;
            self.report.comments.imported += item.comments.len() as u64;
            return Ok(());
        }
        self.write(item, tally_kind).await
    }

    /// A revision of an imported post (`import wordpress`: WXR carries none), written as a
    /// post is (its `import_map` row in the same transaction, author and parent mapped) once
    /// its post is here.
    pub async fn revision(&mut self, item: Box<Item>) -> anyhow::Result<()> {
        if self.posts.contains_key(&item.post_id) {
            self.report.revisions.skipped += 1;
            return Ok(());
        }
        if self.opts.dry_run {
            self.report.revisions.imported += 1;
            return Ok(());
        }
        if !self.posts.contains_key(&item.post_parent) {
            self.report.revisions.fail(format!(
                "revision {} of post {}: the post was not imported",
                item.post_id, item.post_parent
            ));
            return Ok(());
        }
        self.write(item, "revisions").await
    }

    /// Writes a post in the background (at most [`WRITES_IN_FLIGHT`] at once).
    async fn write(&mut self, mut item: Box<Item>, kind: &'static str) -> anyhow::Result<()> {
        let (post, mut write, fetch, old_parent, old_featured) = self.prepare(&item).await?;
        let (batch, batched_orphans, rest) = self
            .batch_comments(std::mem::take(&mut item.comments))
            .await?;
        let batched: Vec<(i64, i64)> = batch.iter().map(|(k, c)| (k.old_id, c.id)).collect();
        write.comments = batch;
        let site = self.site.clone();
        let fetches = self.fetches.clone();
        let client = self.opts.client.clone();
        let delay = self.opts.delay;
        let local = self.opts.uploads.clone();
        let comments = rest;
        let Item {
            post_id,
            is_sticky,
            title,
            ..
        } = *item;
        let sticky = is_sticky && post.post_type == "post";
        let job: Job = Box::pin(async move {
            let result = async {
                let mut write = write;
                if let Some(f) = fetch {
                    let _permit = fetches.acquire().await?;
                    bring_file(&site, &client, local.as_deref(), &f, &mut write).await?;
                    tokio::time::sleep(delay).await;
                }
                Ok(site.store.create_post(&write).await?)
            }
            .await;
            Written {
                old_id: post_id,
                kind,
                title,
                result,
                comments,
                batched,
                batched_orphans,
                sticky,
                old_parent,
                old_featured,
            }
        });
        self.in_flight.push(job);
        let bound = if self.opts.postgres {
            self.site
                .store
                .pool_status()
                .map_or(1, |p| (p.max as usize / 3).max(1))
        } else {
            WRITES_IN_FLIGHT
        };
        while self.in_flight.len() >= bound {
            self.complete_one().await?;
        }
        Ok(())
    }

    fn tally(&mut self, kind: &str) -> &mut Tally {
        match kind {
            "media" => &mut self.report.media,
            "revisions" => &mut self.report.revisions,
            _ => &mut self.report.posts,
        }
    }

    /// Leave to send one request to the source site (a REST page, a file), to hold until
    /// the request and its `--delay` are over: `--concurrency` bounds all of them at once.
    /// While it waits, the posts being written go on (a download among them may hold the
    /// leave it waits for).
    pub async fn source_request(&mut self) -> anyhow::Result<OwnedSemaphorePermit> {
        loop {
            let leave = self.fetches.clone().acquire_owned();
            if self.in_flight.is_empty() {
                return Ok(leave.await?);
            }
            tokio::select! {
                biased;
                leave = leave => return Ok(leave?),
                Some(w) = self.in_flight.next() => self.completed(w).await?,
            }
        }
    }

    /// The leaves of [`Self::source_request`], for requests sent while no post is being
    /// written.
    pub fn source_requests(&self) -> Arc<tokio::sync::Semaphore> {
        self.fetches.clone()
    }

    /// Waits for every post being written.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        while !self.in_flight.is_empty() {
            self.complete_one().await?;
        }
        Ok(())
    }

    async fn complete_one(&mut self) -> anyhow::Result<()> {
        match self.in_flight.next().await {
            Some(w) => self.completed(w).await,
            None => Ok(()),
        }
    }

    async fn completed(&mut self, w: Written) -> anyhow::Result<()> {
        match w.result {
            Ok(id) => {
                self.posts.insert(w.old_id, id);
                self.tally(w.kind).imported += 1;
                if w.sticky && !self.sticky.contains(&id) {
                    self.sticky.push(id);
                }
                if w.old_parent != 0 {
                    self.orphans.push((id, w.old_parent));
                }
                if w.old_featured != 0 {
                    self.featured.push((id, w.old_featured));
                }
                self.report.comments.imported += w.batched.len() as u64;
                self.comments.extend(w.batched);
                self.comment_orphans.extend(w.batched_orphans);
                self.comments_of(id, w.comments).await?;
            }
            Err(e) => {
                let reason = format!("{} {} ({:?}): {e:#}", w.kind, w.old_id, w.title);
                self.tally(w.kind).fail(reason);
            }
        }
        self.tick();
        Ok(())
    }

    /// The post to write for an item, with the parent and featured image still to link
    /// (old ids) when they are not here yet.
    #[allow(clippy::type_complexity)]
    async fn prepare(
        &mut self,
        item: &Item,
    ) -> anyhow::Result<(Post, NewPostWrite, Option<Fetch>, i64, i64)> {
        let utc = jiff::tz::TimeZone::UTC;
        let floating_status = matches!(item.status.as_str(), "draft" | "pending");
        let (date, date_floating) = match parse_mysql_date(&item.post_date_gmt, &utc) {
            Some(d) => (d, false),
            None => (
                parse_mysql_date(&item.post_date, &self.tz).unwrap_or_else(now),
                floating_status,
            ),
        };
        let modified = parse_mysql_date(&item.post_modified_gmt, &utc)
            .or_else(|| parse_mysql_date(&item.post_modified, &self.tz))
            .unwrap_or(date);
        let author = match item.author_id {
            Some(old) => self.users.get(&old).copied(),
            None => self.logins.get(&item.creator.to_lowercase()).copied(),
        }
        .unwrap_or(self.fallback_author);
        let (parent, old_parent) = match item.post_parent {
            0 => (0, 0),
            old => match self.posts.get(&old) {
                Some(&p) => (p, 0),
                None => (0, old),
            },
        };
        let mut meta: Vec<(String, Vec<String>)> = vec![];
        let mut old_featured = 0;
        let mut featured = 0;
        let mut attached_file = String::new();
        for (key, value) in &item.meta {
            if key == "_thumbnail_id" {
                let old: i64 = value.trim().parse().unwrap_or(0);
                match self.posts.get(&old) {
                    Some(&id) => featured = id,
                    None => old_featured = old,
                }
                continue;
            }
            if key == "_wp_attached_file" {
                attached_file = value.clone();
            }
            if SKIPPED_META.contains(&key.as_str()) {
                continue;
            }
            let json = php_unserialize(value).to_string();
            match meta.iter_mut().find(|(k, _)| k == key) {
                Some((_, values)) => values.push(json),
                None => meta.push((key.clone(), vec![json])),
            }
        }
        let mut format = String::new();
        let mut terms: Vec<(String, Vec<i64>)> = vec![];
        for (taxonomy, slug, name) in &item.terms {
            if taxonomy == "post_format" {
                format = slug.strip_prefix("post-format-").unwrap_or(slug).to_owned();
                if format == "standard" {
                    format.clear();
                }
                continue;
            }
            if !matches!(taxonomy.as_str(), "category" | "post_tag") {
                continue;
            }
            // `process_posts()` creates a term the file did not list.
            let id = match self.term_by_slug(taxonomy, slug).await? {
                Some(id) => id,
                None => {
                    self.term(WxrTerm {
                        id: 0,
                        taxonomy: taxonomy.clone(),
                        slug: slug.clone(),
                        parent_slug: String::new(),
                        name: name.clone(),
                        description: String::new(),
                    })
                    .await?;
                    match self.term_by_slug(taxonomy, slug).await? {
                        Some(id) => id,
                        None => continue,
                    }
                }
            };
            match terms.iter_mut().find(|(t, _)| t == taxonomy) {
                Some((_, ids)) => ids.push(id),
                None => terms.push((taxonomy.clone(), vec![id])),
            }
        }
        let pt = crate::post_types::PostType::post();
        let pt = match item.post_type.as_str() {
            "post" => pt,
            "page" => crate::post_types::PostType::page(),
            "attachment" => crate::post_types::PostType::attachment(),
            other => self.site.post_type(other).cloned().unwrap_or(pt),
        };
        let slug = if item.post_type == REVISION {
            // `<parent>-revision-v1` (`-autosave-v1`) is named after its parent's id, and
            // never made unique (`wp_unique_post_slug()`).
            match item
                .post_name
                .strip_prefix(&format!("{}-", item.post_parent))
            {
                Some(rest) if parent != 0 => format!("{parent}-{rest}"),
                _ => item.post_name.clone(),
            }
        } else if item.post_name.is_empty() {
            item.post_name.clone()
        } else {
            crate::rest::posts::unique_slug(&self.site, &pt, &item.post_name, &item.status, 0)
                .await
                .map_err(|e| anyhow!("{}", e.message))?
        };
        let mut fetch = None;
        let mut mime_type = String::new();
        if item.post_type == "attachment" {
            let rel = if attached_file.is_empty() {
                self.old_uploads
                    .iter()
                    .find_map(|p| item.attachment_url.strip_prefix(p.as_str()))
                    .unwrap_or_else(|| item.attachment_url.rsplit('/').next().unwrap_or_default())
                    .to_owned()
            } else {
                attached_file.clone()
            };
            mime_type = crate::media::filetype(&rel)
                .map(|(_, m)| m.to_owned())
                .unwrap_or_default();
            fetch = Some(Fetch {
                url: item.attachment_url.clone(),
                rel,
            });
        }
        let post = Post {
            id: self.free_id("post", item.post_id).await?,
            post_type: item.post_type.clone(),
            status: item.status.clone(),
            author,
            title: item.title.clone(),
            content: self.rewrite_uploads(&item.content),
            excerpt: self.rewrite_uploads(&item.excerpt),
            slug,
            password: item.post_password.clone(),
            parent,
            menu_order: item.menu_order,
            comment_status: non_empty(&item.comment_status, "open"),
            ping_status: non_empty(&item.ping_status, "open"),
            date,
            date_floating,
            modified,
            pre_trash_status: None,
            mime_type,
            featured_media: featured,
            format,
            guid: self.rewrite_uploads(&item.guid),
        };
        let write = NewPostWrite {
            post: post.clone(),
            meta,
            terms,
            guid_id_prefix: None,
            import: Some(self.key("post", item.post_id)),
            comments: vec![],
        };
        Ok((post, write, fetch, old_parent, old_featured))
    }

    /// The row of a comment of the source (`post_id` set by the caller or the store).
    fn comment_row(&self, c: crate::wxr::read::Comment, id: i64, parent: i64) -> Comment {
        let utc = jiff::tz::TimeZone::UTC;
        Comment {
            id,
            post_id: 0,
            author_name: c.author,
            author_email: c.author_email,
            author_url: c.author_url,
            author_ip: c.author_ip,
            date: parse_mysql_date(&c.date_gmt, &utc)
                .or_else(|| parse_mysql_date(&c.date, &self.tz))
                .unwrap_or_else(now),
            content: c.content,
            approved: non_empty(&c.approved, "1"),
            agent: c.agent,
            comment_type: non_empty(&c.comment_type, "comment"),
            parent,
            user_id: self.users.get(&c.user_id).copied().unwrap_or(0),
            pre_trash_status: None,
            pre_post_trash_status: None,
        }
    }

    /// Splits a new post's comments: those whose id is free here are written with the post
    /// (one transaction, their ids known now); the others after it, one by one.
    async fn batch_comments(
        &self,
        comments: Vec<crate::wxr::read::Comment>,
    ) -> anyhow::Result<(
        Vec<(ImportKey, Comment)>,
        Vec<(i64, i64)>,
        Vec<crate::wxr::read::Comment>,
    )> {
        let mut batch = vec![];
        let mut orphans = vec![];
        let mut rest = vec![];
        let mut kept_here = std::collections::HashSet::new();
        for c in comments {
            let kept = self.free_id("comment", c.id).await?;
            if kept == 0 {
                rest.push(c);
                continue;
            }
            let parent = match c.parent {
                0 => 0,
                old if kept_here.contains(&old) => old,
                old => match self.comments.get(&old) {
                    Some(&p) => p,
                    None => {
                        orphans.push((kept, old));
                        0
                    }
                },
            };
            kept_here.insert(kept);
            let key = self.key("comment", c.id);
            batch.push((key, self.comment_row(c, kept, parent)));
        }
        Ok((batch, orphans, rest))
    }

    /// The comments of an imported post (those not imported by an earlier run), each with
    /// its `import_map` row in one transaction.
    async fn comments_of(
        &mut self,
        post_id: i64,
        comments: Vec<crate::wxr::read::Comment>,
    ) -> anyhow::Result<()> {
        for c in comments {
            if self.comments.contains_key(&c.id) {
                self.report.comments.skipped += 1;
                continue;
            }
            let (parent, orphan) = match c.parent {
                0 => (0, 0),
                old => match self.comments.get(&old) {
                    Some(&p) => (p, 0),
                    None => (0, old),
                },
            };
            let old_id = c.id;
            let kept = self.free_id("comment", old_id).await?;
            let mut comment = self.comment_row(c, kept, parent);
            comment.post_id = post_id;
            let id = self
                .site
                .store
                .insert_imported_comment(&self.key("comment", old_id), &comment)
                .await?;
            self.comments.insert(old_id, id);
            if orphan != 0 {
                self.comment_orphans.push((id, orphan));
            }
            self.report.comments.imported += 1;
        }
        Ok(())
    }

    /// Waits for the posts being written, then `backfill_parents()`,
    /// `remap_featured_images()`, comment parents and the sticky posts.
    pub async fn finish(mut self) -> anyhow::Result<Report> {
        self.flush().await?;
        if !self.opts.dry_run {
            // An interrupted run may have left these undone: they are recomputed from the
            // map for every post this source brought (cheap: ids only).
            for (new_id, old_parent) in std::mem::take(&mut self.orphans) {
                if let Some(&parent) = self.posts.get(&old_parent)
                    && let Some(mut p) = self.site.store.post_by_id(new_id).await?
                {
                    p.parent = parent;
                    self.site.store.update_post(&p).await?;
                }
            }
            for (new_id, old) in std::mem::take(&mut self.featured) {
                if let Some(&media) = self.posts.get(&old)
                    && let Some(mut p) = self.site.store.post_by_id(new_id).await?
                {
                    p.featured_media = media;
                    self.site.store.update_post(&p).await?;
                }
            }
            for (new_id, old) in std::mem::take(&mut self.comment_orphans) {
                if let Some(&parent) = self.comments.get(&old)
                    && let Some(mut c) = self.site.store.comment_by_id(new_id).await?
                {
                    c.parent = parent;
                    self.site.store.update_comment(&c).await?;
                }
            }
            self.site.store.sync_id_sequences().await?;
            self.site
                .store
                .set_option(
                    "sticky_posts",
                    &serde_json::to_string(&self.sticky).unwrap_or_else(|_| "[]".into()),
                )
                .await?;
        }
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        Ok(self.report)
    }

    /// Links left undone by an earlier, interrupted run: a post whose parent or featured
    /// image arrived only after it was written, and the run stopped before linking them.
    /// The item is read again on the re-run (it is skipped as imported), so its links are
    /// queued here from the item.
    pub fn relink(&mut self, item: &Item) {
        let Some(&id) = self.posts.get(&item.post_id) else {
            return;
        };
        if item.post_parent != 0 {
            self.orphans.push((id, item.post_parent));
        }
        if let Some((_, v)) = item.meta.iter().find(|(k, _)| k == "_thumbnail_id") {
            let old: i64 = v.trim().parse().unwrap_or(0);
            if old != 0 {
                self.featured.push((id, old));
            }
        }
        if item.is_sticky && item.post_type == "post" && !self.sticky.contains(&id) {
            self.sticky.push(id);
        }
        for c in &item.comments {
            if c.parent != 0
                && let Some(&cid) = self.comments.get(&c.id)
            {
                self.comment_orphans.push((cid, c.parent));
            }
        }
    }
}

/// `ferropress import wxr`: the file is parsed on a thread of its own, a bounded queue of
/// records ahead of the writes.
pub async fn import_wxr(mut importer: Importer, path: PathBuf) -> anyhow::Result<Report> {
    use crate::wxr::read::{Reader, Record};
    let file = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<Record>>(256);
    let parser = tokio::task::spawn_blocking(move || {
        let mut reader = Reader::new(std::io::BufReader::with_capacity(256 * 1024, file));
        loop {
            match reader.next_record() {
                Ok(Some(r)) => {
                    if tx.blocking_send(Ok(r)).is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let mut named = false;
    while let Some(record) = rx.recv().await {
        match record? {
            Record::BaseSiteUrl(url) => {
                if !named {
                    importer.set_source(&url).await?;
                    named = true;
                }
            }
            Record::BaseBlogUrl(url) => importer.add_old_base(&url),
            other => {
                if !named {
                    // A file without `base_site_url`: named after itself.
                    importer
                        .set_source(&format!("file:{}", path.display()))
                        .await?;
                    named = true;
                }
                match other {
                    Record::Author(a) => importer.author(a).await?,
                    Record::Term(t) => importer.term(t).await?,
                    Record::Item(i) => importer.item(i).await?,
                    Record::BaseSiteUrl(_) | Record::BaseBlogUrl(_) => {}
                }
            }
        }
    }
    parser.await?;
    importer.finish().await
}

fn non_empty(s: &str, default: &str) -> String {
    if s.is_empty() {
        default.to_owned()
    } else {
        s.to_owned()
    }
}

/// Brings an attachment's file into the media store under the same relative path (from
/// the local `--uploads` copy when it has it, else downloaded), then describes it as an
/// upload would (`wp_generate_attachment_metadata()`, sub-sizes made here).
async fn bring_file(
    site: &Site,
    client: &reqwest::Client,
    local: Option<&std::path::Path>,
    f: &Fetch,
    write: &mut NewPostWrite,
) -> anyhow::Result<()> {
    let store = &site.config.media;
    if !crate::media_store::safe_rel(&f.rel) {
        return Err(anyhow!("unsafe file path {:?}", f.rel));
    }
    let Some((_, mime)) = crate::media::filetype(&f.rel) else {
        return Err(anyhow!("file type of {:?} is not allowed", f.rel));
    };
    let from_local = local
        .and_then(|d| crate::media::safe_join(d, &f.rel))
        .filter(|p| p.is_file());
    let temp_dir = store.temp_dir();
    tokio::fs::create_dir_all(&temp_dir).await?;
    // Removed when done (a local store has moved it into place by then).
    let tmp = crate::media::TempUpload::adopt(
        temp_dir.join(format!("{}.import-part", uuid::Uuid::new_v4().simple())),
    );
    if let Some(src) = from_local {
        tokio::fs::copy(&src, &tmp.path)
            .await
            .with_context(|| format!("copying {}", src.display()))?;
    } else {
        if f.url.is_empty() {
            return Err(anyhow!("no file URL for {:?}", f.rel));
        }
        let resp = client
            .get(&f.url)
            .send()
            .await
            .with_context(|| format!("fetching {}", f.url))?;
        if !resp.status().is_success() {
            return Err(anyhow!("fetching {}: HTTP {}", f.url, resp.status()));
        }
        let mut file = tokio::fs::File::create(&tmp.path).await?;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk?).await?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file).await?;
    }
    store
        .put(&tmp.path, &f.rel)
        .await
        .with_context(|| format!("storing {:?} in {}", f.rel, store.describe()))?;
    let src = store.local_path(&f.rel).unwrap_or_else(|| tmp.path.clone());
    let budget = site.config.security.max_image_pixels;
    let metadata: Value = store
        .generate_metadata(&site.cpu, &src, &f.rel, mime, budget)
        .await
        .map_err(|e| anyhow!("{}", e.message))?;
    write.post.mime_type = mime.to_owned();
    write.meta.retain(|(k, _)| k != "_wp_attached_file");
    write.meta.push((
        "_wp_attached_file".into(),
        vec![Value::String(f.rel.clone()).to_string()],
    ));
    write
        .meta
        .push(("_wp_attachment_metadata".into(), vec![metadata.to_string()]));
    Ok(())
}
