-- Token governance (issue 18): expiry, scopes and rotation of Application Passwords.
-- `expires`: Unix time after which the token is refused (NULL: never, as WordPress).
-- `scopes`: space-separated scopes (`read`, `posts:write`, ...); NULL: unrestricted.
-- `prev_password_hash`/`prev_valid_until`: the secret replaced by a rotation with a grace
-- period, accepted until that time.
ALTER TABLE application_password ADD COLUMN expires BIGINT;
ALTER TABLE application_password ADD COLUMN scopes TEXT;
ALTER TABLE application_password ADD COLUMN prev_password_hash TEXT;
ALTER TABLE application_password ADD COLUMN prev_valid_until BIGINT;
CREATE INDEX application_password_prev_hash ON application_password (prev_password_hash)
    WHERE prev_password_hash IS NOT NULL;
-- The idle sweep reads tokens by last use (or creation, when never used).
CREATE INDEX application_password_idle ON application_password ((coalesce(last_used, created)));
