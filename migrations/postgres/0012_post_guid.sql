-- `guid` as WordPress stores it: set once when the post is created (`get_permalink()` at
-- that moment for posts, the file URL for attachments) and never changed afterwards.
-- Rows made before this migration keep '' and are shown with the computed value.
ALTER TABLE post ADD COLUMN guid TEXT NOT NULL DEFAULT '';
