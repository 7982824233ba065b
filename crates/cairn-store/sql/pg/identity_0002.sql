-- The root user's virtual MFA devices (assigned from the console, as in AWS), and each
-- account's latest credential report.

-- Set once a device is enabled for the account's root user (user_id stays NULL then).
ALTER TABLE iam_mfa_devices ADD COLUMN root BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE credential_reports (
    account      TEXT PRIMARY KEY REFERENCES accounts (id),
    generated_ms BIGINT NOT NULL,
    content      BYTEA NOT NULL             -- the CSV
);
