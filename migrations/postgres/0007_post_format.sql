-- The post format (WordPress keeps it as a term of the `post_format` taxonomy; a post has at
-- most one). Empty means `standard`, which WordPress stores as no term at all.
ALTER TABLE post ADD COLUMN post_format TEXT NOT NULL DEFAULT '';
