-- Attachments (media): WordPress's post_mime_type column, and the featured image of a post
-- (WordPress keeps it in the `_thumbnail_id` meta; a column lets it be read with the post).
-- As migrations/postgres/0004_attachments.sql.
ALTER TABLE post ADD COLUMN mime_type TEXT NOT NULL DEFAULT '';
ALTER TABLE post ADD COLUMN featured_media INTEGER NOT NULL DEFAULT 0;

CREATE INDEX post_type_mime ON post (post_type, mime_type);
CREATE INDEX post_parent ON post (parent);
