-- Accounts, their IAM entities, and the credentials that act for them. The file is created
-- with mode 0600. IAM names are unique per account regardless of case, as in AWS; the
-- `*_lower` columns carry that rule.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS accounts (
    id         TEXT PRIMARY KEY,   -- 12 digits
    alias      TEXT UNIQUE,
    created_ms INTEGER NOT NULL
);

-- Long-term keys (root, IAM users) and temporary STS credentials (ASIA…).
-- principal: 'root' | 'user:<user id>' | 'role:<role id>'
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    account       TEXT NOT NULL REFERENCES accounts (id),
    principal     TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'Active',
    session_token TEXT,
    expires_ms    INTEGER,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_keys_by_account ON access_keys (account, principal);

-- Per-key facts that are not the key itself: the session a temporary key belongs to, and
-- when and where a key was last used.
CREATE TABLE IF NOT EXISTS key_sessions (
    access_key_id   TEXT PRIMARY KEY REFERENCES access_keys (access_key_id) ON DELETE CASCADE,
    session_name    TEXT,              -- role sessions
    mfa             INTEGER NOT NULL,  -- 1 when the session was made with an MFA code
    session_created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS key_last_used (
    access_key_id TEXT PRIMARY KEY,
    used_ms       INTEGER NOT NULL,
    service       TEXT NOT NULL,
    region        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS iam_users (
    user_id    TEXT PRIMARY KEY,        -- AIDA…
    account    TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path       TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '[]',
    created_ms INTEGER NOT NULL,
    password_last_used_ms INTEGER,
    UNIQUE (account, name_lower)
);

CREATE TABLE IF NOT EXISTS iam_groups (
    group_id   TEXT PRIMARY KEY,        -- AGPA…
    account    TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (account, name_lower)
);

CREATE TABLE IF NOT EXISTS iam_group_members (
    group_id TEXT NOT NULL REFERENCES iam_groups (group_id),
    user_id  TEXT NOT NULL REFERENCES iam_users (user_id),
    added_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS iam_group_members_by_user ON iam_group_members (user_id);

CREATE TABLE IF NOT EXISTS iam_roles (
    role_id      TEXT PRIMARY KEY,      -- AROA…
    account      TEXT NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    name_lower   TEXT NOT NULL,
    path         TEXT NOT NULL,
    trust_policy TEXT NOT NULL,
    description  TEXT,
    max_session_duration INTEGER NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER,
    last_used_region TEXT,
    UNIQUE (account, name_lower)
);

-- Inline policies. owner_kind: 'user' | 'group' | 'role'.
CREATE TABLE IF NOT EXISTS iam_inline_policies (
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name)
);

-- Customer managed policies and their versions.
CREATE TABLE IF NOT EXISTS iam_policies (
    policy_id    TEXT PRIMARY KEY,      -- ANPA…
    account      TEXT NOT NULL REFERENCES accounts (id),
    arn          TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    name_lower   TEXT NOT NULL,
    path         TEXT NOT NULL,
    description  TEXT,
    default_version TEXT NOT NULL,
    next_version INTEGER NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    UNIQUE (account, name_lower)
);
CREATE TABLE IF NOT EXISTS iam_policy_versions (
    policy_id  TEXT NOT NULL REFERENCES iam_policies (policy_id) ON DELETE CASCADE,
    version_id TEXT NOT NULL,           -- v1, v2, …
    document   TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

-- Managed policies (customer or AWS managed, by ARN) attached to users, groups and roles.
CREATE TABLE IF NOT EXISTS iam_attachments (
    account    TEXT NOT NULL,
    policy_arn TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    PRIMARY KEY (policy_arn, owner_kind, owner_id)
);
CREATE INDEX IF NOT EXISTS iam_attachments_by_owner ON iam_attachments (owner_kind, owner_id);

-- Console passwords: PBKDF2-HMAC-SHA256, never the password itself.
CREATE TABLE IF NOT EXISTS iam_login_profiles (
    user_id        TEXT PRIMARY KEY REFERENCES iam_users (user_id),
    salt           BLOB NOT NULL,
    hash           BLOB NOT NULL,
    reset_required INTEGER NOT NULL,
    created_ms     INTEGER NOT NULL
);

-- The root user's console password (`cairn accounts set-password`), as PBKDF2 like the above.
CREATE TABLE IF NOT EXISTS root_passwords (
    account    TEXT PRIMARY KEY REFERENCES accounts (id),
    salt       BLOB NOT NULL,
    hash       BLOB NOT NULL,
    set_ms     INTEGER NOT NULL
);

-- Virtual MFA devices; user_id is set once a device is enabled for a user, root once it is
-- enabled for the account's root user (never both). A database made before root could hold a
-- device gets the root column when it is opened (sqlite/mod.rs).
CREATE TABLE IF NOT EXISTS iam_mfa_devices (
    serial     TEXT PRIMARY KEY,        -- arn:aws:iam::ACCOUNT:mfa/PATH/NAME
    account    TEXT NOT NULL REFERENCES accounts (id),
    seed       BLOB NOT NULL,           -- the TOTP secret
    tags       TEXT NOT NULL DEFAULT '[]',
    created_ms INTEGER NOT NULL,
    user_id    TEXT REFERENCES iam_users (user_id),
    enabled_ms INTEGER,
    last_step  INTEGER,                 -- the newest TOTP time step accepted (no replays)
    root       INTEGER NOT NULL DEFAULT 0
);

-- Each account's latest credential report (GenerateCredentialReport), as generated.
CREATE TABLE IF NOT EXISTS credential_reports (
    account      TEXT PRIMARY KEY REFERENCES accounts (id),
    generated_ms INTEGER NOT NULL,
    content      BLOB NOT NULL          -- the CSV
);

-- Instance-wide secrets, e.g. the key that makes pagination tokens tamper-proof.
CREATE TABLE IF NOT EXISTS instance (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
