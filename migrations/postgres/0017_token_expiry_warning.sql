-- The `token.expiring` event (issue 18), sent once per token 7 days before it expires:
-- `expiry_warned` is set by whichever instance claims the warning, and reset when the
-- expiry changes.
ALTER TABLE application_password ADD COLUMN expiry_warned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX application_password_expiring ON application_password (expires)
    WHERE expires IS NOT NULL AND expiry_warned = 0;
