-- Login sessions of the admin screens (WordPress's `session_tokens` user meta): only the
-- SHA-256 verifier of the token the cookie carries is stored, so a copy of the database
-- cannot be replayed as a cookie; deleting the row logs the session out.
CREATE TABLE session_token (
    verifier    TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
    expiration  INTEGER NOT NULL,
    login       INTEGER NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    -- A fingerprint of the user's password hash when the session began: a new password ends
    -- every session, as WordPress's `pass_frag` in the cookie's HMAC does.
    pass_frag   TEXT NOT NULL DEFAULT ''
);

CREATE INDEX session_token_user ON session_token (user_id);
CREATE INDEX session_token_expiration ON session_token (expiration);
