-- Folded copies of the text that searches match and sorts compare (crate::search::fold:
-- case and accents removed, as WordPress's utf8mb4_unicode_520_ci compares). Written by the
-- store with every write of the original; rows older than this migration are filled in by
-- the store when it opens (the folding is Rust code, the same for both engines).
ALTER TABLE post ADD COLUMN title_fold TEXT;
ALTER TABLE post ADD COLUMN excerpt_fold TEXT;
ALTER TABLE post ADD COLUMN content_fold TEXT;
ALTER TABLE term ADD COLUMN name_fold TEXT;
ALTER TABLE "user" ADD COLUMN display_name_fold TEXT;
