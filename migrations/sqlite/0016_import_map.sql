-- What `ferropress import` has already brought over: for each source site (its address or
-- the WXR file's base site URL) and kind of object, the source id and the id it got here.
-- A re-run after an interruption skips what is recorded, so nothing is created twice; a
-- post's row is written in the same transaction as the post itself.
CREATE TABLE import_map (
    source  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    old_id  INTEGER NOT NULL,
    new_id  INTEGER NOT NULL,
    PRIMARY KEY (source, kind, old_id)
);
