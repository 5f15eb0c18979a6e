-- Post meta (wp_postmeta): values stored as JSON text, several rows per key for
-- non-single keys, kept in insertion order by id.
CREATE TABLE postmeta (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id     INTEGER NOT NULL,
    meta_key    TEXT NOT NULL,
    meta_value  TEXT NOT NULL
);

CREATE INDEX postmeta_post_key ON postmeta (post_id, meta_key);
