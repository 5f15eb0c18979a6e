-- Comments (wp_comments). `date` is the instant (comment_date_gmt); the site-local
-- comment_date is derived with the site timezone, as for posts. `approved` keeps
-- WordPress's comment_approved values: '1', '0', 'spam', 'trash', 'post-trashed'.
CREATE TABLE comment (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id       INTEGER NOT NULL DEFAULT 0,
    author_name   TEXT NOT NULL DEFAULT '',
    author_email  TEXT NOT NULL DEFAULT '',
    author_url    TEXT NOT NULL DEFAULT '',
    author_ip     TEXT NOT NULL DEFAULT '',
    date          INTEGER NOT NULL,
    content       TEXT NOT NULL DEFAULT '',
    approved      TEXT NOT NULL DEFAULT '1',
    agent         TEXT NOT NULL DEFAULT '',
    comment_type  TEXT NOT NULL DEFAULT 'comment',
    parent        INTEGER NOT NULL DEFAULT 0,
    user_id       INTEGER NOT NULL DEFAULT 0,
    -- Status before trashing or marking as spam (_wp_trash_meta_status).
    pre_trash_status TEXT,
    -- Status before its post was trashed (the post's _wp_trash_meta_comments_status).
    pre_post_trash_status TEXT
);

CREATE INDEX comment_post_approved_date ON comment (post_id, approved, date, id);
CREATE INDEX comment_approved_date ON comment (approved, date, id);
CREATE INDEX comment_parent ON comment (parent);
CREATE INDEX comment_user_id ON comment (user_id);
CREATE INDEX comment_author_email ON comment (author_email);
