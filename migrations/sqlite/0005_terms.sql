-- Terms of the category and post_tag taxonomies (wp_terms + wp_term_taxonomy) and their
-- assignment to posts (wp_term_relationships). Counts are computed, not stored.
CREATE TABLE term (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    taxonomy    TEXT NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    parent      INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX term_taxonomy_slug ON term (taxonomy, slug);

CREATE TABLE term_relationship (
    post_id  INTEGER NOT NULL,
    term_id  INTEGER NOT NULL,
    PRIMARY KEY (post_id, term_id)
);

CREATE INDEX term_relationship_term ON term_relationship (term_id);

-- The default category (`default_category` option 1), as a fresh WordPress has it.
INSERT INTO term (id, taxonomy, name, slug) VALUES (1, 'category', 'Uncategorized', 'uncategorized');
