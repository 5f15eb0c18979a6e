-- Users, their Application Passwords, posts and site options.
-- Instants are INTEGER unix seconds (UTC); site-local dates are derived with the site timezone.

CREATE TABLE user (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- WordPress's MySQL collation makes logins and emails case-insensitive.
    login         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    nicename      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    nickname      TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    url           TEXT NOT NULL DEFAULT '',
    locale        TEXT NOT NULL DEFAULT '',
    -- Space-separated role names (WordPress allows several roles per user).
    roles         TEXT NOT NULL,
    -- argon2id PHC string (or an imported WordPress hash).
    pass_hash     TEXT NOT NULL,
    registered    INTEGER NOT NULL
);

CREATE TABLE application_password (
    uuid             TEXT PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    app_id           TEXT NOT NULL DEFAULT '',
    name             TEXT NOT NULL,
    -- wp_fast_hash() of the token: deterministic, so it is the lookup key.
    password_hash    TEXT NOT NULL UNIQUE,
    created          INTEGER NOT NULL,
    last_used        INTEGER,
    last_ip          TEXT,
    last_user_agent  TEXT,
    UNIQUE (user_id, name)
);

CREATE TABLE post (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    post_type       TEXT NOT NULL,
    status          TEXT NOT NULL,
    author          INTEGER NOT NULL DEFAULT 0,
    title           TEXT NOT NULL DEFAULT '',
    content         TEXT NOT NULL DEFAULT '',
    excerpt         TEXT NOT NULL DEFAULT '',
    slug            TEXT NOT NULL DEFAULT '',
    password        TEXT NOT NULL DEFAULT '',
    parent          INTEGER NOT NULL DEFAULT 0,
    menu_order      INTEGER NOT NULL DEFAULT 0,
    comment_status  TEXT NOT NULL DEFAULT 'open',
    ping_status     TEXT NOT NULL DEFAULT 'open',
    -- post_date as an instant; date_floating = 1 mirrors post_date_gmt '0000-00-00 00:00:00'.
    date            INTEGER NOT NULL,
    date_floating   INTEGER NOT NULL DEFAULT 0,
    modified        INTEGER NOT NULL,
    -- Status before trashing (_wp_trash_meta_status).
    pre_trash_status TEXT
);

CREATE INDEX post_type_status_date ON post (post_type, status, date DESC, id DESC);
CREATE INDEX post_author ON post (author);
CREATE INDEX post_slug ON post (post_type, slug);

CREATE TABLE option (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

INSERT INTO option (name, value) VALUES
    ('blogname', 'ferropress'),
    ('blogdescription', 'Just another WordPress site'),
    ('timezone_string', ''),
    ('gmt_offset', '0');
