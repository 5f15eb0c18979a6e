-- The audit log (issue 18): append-only and hash-chained. Each row's `hash` is SHA-256 of the
-- previous row's hash and the row's canonical content (`audit::chain_hash`); ids are assigned
-- by the single writer as the previous id + 1, so a removed, inserted or altered row breaks
-- the chain. No foreign keys: entries outlive the users and tokens they name.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    event       TEXT NOT NULL,
    user_id     BIGINT NOT NULL DEFAULT 0,
    actor_id    BIGINT NOT NULL DEFAULT 0,
    token       TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- Where the kept chain starts once retention pruned older rows: the last pruned row's id and
-- hash, so the remaining rows still verify.
CREATE TABLE audit_anchor (
    one     BIGINT PRIMARY KEY CHECK (one = 1),
    last_id BIGINT NOT NULL,
    hash    TEXT NOT NULL
);

-- Webhook deliveries waiting (written in the audit row's transaction): at least once, across
-- restarts. `next_at` is also the lease of an instance delivering it.
CREATE TABLE webhook_outbox (
    id          BIGSERIAL PRIMARY KEY,
    hook        TEXT NOT NULL,
    audit_id    BIGINT NOT NULL,
    event       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at);

-- IP networks (/24, /64) and user agents each token was seen from: a first sighting is a
-- `token.new_ip` / `token.new_user_agent` audit event.
CREATE TABLE application_password_seen (
    uuid        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    PRIMARY KEY (uuid, kind, value)
);
