-- Accounts, their IAM entities, and the credentials that act for them, on PostgreSQL (the
-- same contract as sql/identity.sql). IAM names are unique per account regardless of case,
-- as in AWS; the `*_lower` columns carry that rule. Text that lists are sorted by is
-- COLLATE "C": byte order, as SQLite sorts, whatever the database's locale (ids that foreign
-- keys refer to keep the default collation and are sorted with COLLATE "C" in the query).
--
-- Secrets the embedded store keeps in a file only its owner may read are sealed here
-- (AES-256-GCM under the deployment's master key, `*_sealed`): a shared database has no
-- such file mode. Passwords are PBKDF2 hashes, as there.

-- Moves on in the same transaction as every IAM change (see identity/pg/mod.rs).
CREATE TABLE identity_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO identity_generation (id, value) VALUES (1, 1);

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,   -- 12 digits
    alias      TEXT UNIQUE,
    created_ms BIGINT NOT NULL
);

-- Long-term keys (root, IAM users) and temporary STS credentials (ASIA…).
-- principal: 'root' | 'user:<user id>' | 'role:<role id>'
CREATE TABLE access_keys (
    access_key_id        TEXT PRIMARY KEY,
    secret_sealed        BYTEA NOT NULL,
    account              TEXT NOT NULL REFERENCES accounts (id),
    principal            TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'Active',
    session_token_sealed BYTEA,            -- NULL for long-term keys
    expires_ms           BIGINT,
    created_ms           BIGINT NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys (account, principal);
CREATE INDEX access_keys_by_principal ON access_keys (principal);

-- Per-key facts that are not the key itself: the session a temporary key belongs to, and
-- when and where a key was last used.
CREATE TABLE key_sessions (
    access_key_id      TEXT PRIMARY KEY REFERENCES access_keys (access_key_id) ON DELETE CASCADE,
    session_name       TEXT,              -- role sessions
    mfa                BOOLEAN NOT NULL,  -- the session was made with an MFA code
    session_created_ms BIGINT NOT NULL
);
CREATE TABLE key_last_used (
    access_key_id TEXT PRIMARY KEY,
    used_ms       BIGINT NOT NULL,
    service       TEXT NOT NULL,
    region        TEXT NOT NULL
);

CREATE TABLE iam_users (
    user_id    TEXT PRIMARY KEY,        -- AIDA…
    account    TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path       TEXT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '[]',
    created_ms BIGINT NOT NULL,
    password_last_used_ms BIGINT,
    UNIQUE (account, name_lower)
);

CREATE TABLE iam_groups (
    group_id   TEXT PRIMARY KEY,        -- AGPA…
    account    TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account, name_lower)
);

CREATE TABLE iam_group_members (
    group_id TEXT NOT NULL REFERENCES iam_groups (group_id),
    user_id  TEXT NOT NULL REFERENCES iam_users (user_id),
    added_ms BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_by_user ON iam_group_members (user_id);

CREATE TABLE iam_roles (
    role_id      TEXT PRIMARY KEY,      -- AROA…
    account      TEXT NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    name_lower   TEXT COLLATE "C" NOT NULL,
    path         TEXT NOT NULL,
    trust_policy TEXT NOT NULL,
    description  TEXT,
    max_session_duration BIGINT NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    created_ms   BIGINT NOT NULL,
    last_used_ms BIGINT,
    last_used_region TEXT,
    UNIQUE (account, name_lower)
);

-- Inline policies. owner_kind: 'user' | 'group' | 'role'.
CREATE TABLE iam_inline_policies (
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name)
);

-- Customer managed policies and their versions.
CREATE TABLE iam_policies (
    policy_id    TEXT PRIMARY KEY,      -- ANPA…
    account      TEXT NOT NULL REFERENCES accounts (id),
    arn          TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    name_lower   TEXT COLLATE "C" NOT NULL,
    path         TEXT NOT NULL,
    description  TEXT,
    default_version TEXT NOT NULL,
    next_version BIGINT NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    UNIQUE (account, name_lower)
);
CREATE TABLE iam_policy_versions (
    policy_id  TEXT NOT NULL REFERENCES iam_policies (policy_id) ON DELETE CASCADE,
    version_id TEXT NOT NULL,           -- v1, v2, …
    document   TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

-- Managed policies (customer or AWS managed, by ARN) attached to users, groups and roles.
CREATE TABLE iam_attachments (
    account    TEXT NOT NULL,
    policy_arn TEXT COLLATE "C" NOT NULL,
    owner_kind TEXT COLLATE "C" NOT NULL,
    owner_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (policy_arn, owner_kind, owner_id)
);
CREATE INDEX iam_attachments_by_owner ON iam_attachments (owner_kind, owner_id);

-- Console passwords: PBKDF2-HMAC-SHA256, never the password itself.
CREATE TABLE iam_login_profiles (
    user_id        TEXT PRIMARY KEY REFERENCES iam_users (user_id),
    salt           BYTEA NOT NULL,
    hash           BYTEA NOT NULL,
    reset_required BOOLEAN NOT NULL,
    created_ms     BIGINT NOT NULL
);

-- The root user's console password (`cairn accounts set-password`), as PBKDF2 like the above.
CREATE TABLE root_passwords (
    account    TEXT PRIMARY KEY REFERENCES accounts (id),
    salt       BYTEA NOT NULL,
    hash       BYTEA NOT NULL,
    set_ms     BIGINT NOT NULL
);

-- Virtual MFA devices; user_id is set once a device is enabled for a user.
CREATE TABLE iam_mfa_devices (
    serial      TEXT COLLATE "C" PRIMARY KEY,  -- arn:aws:iam::ACCOUNT:mfa/PATH/NAME
    account     TEXT NOT NULL REFERENCES accounts (id),
    seed_sealed BYTEA NOT NULL,                -- the TOTP secret
    tags        TEXT NOT NULL DEFAULT '[]',
    created_ms  BIGINT NOT NULL,
    user_id     TEXT REFERENCES iam_users (user_id),
    enabled_ms  BIGINT,
    last_step   BIGINT                         -- the newest TOTP time step accepted (no replays)
);
CREATE INDEX iam_mfa_devices_by_account ON iam_mfa_devices (account, serial);

-- Instance-wide secrets, e.g. the key that makes pagination tokens tamper-proof; one for
-- every node of a deployment.
CREATE TABLE instance (
    name         TEXT PRIMARY KEY,
    value_sealed BYTEA NOT NULL
);
