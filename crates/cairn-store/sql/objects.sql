-- The embedded S3 store's metadata. Object bodies are files under s3/blobs/, named by a random
-- id, written atomically (temporary file, fsync, rename) before their row is committed.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
-- Not locking_mode = EXCLUSIVE: a second connection reads committed state while calls' writes
-- wait in an open transaction for their records (see cairn_store::db).

CREATE TABLE IF NOT EXISTS buckets (
    name       TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    policy     TEXT,            -- bucket policy JSON, as put
    versioning TEXT,            -- NULL (never enabled), 'Enabled' or 'Suspended'
    encryption TEXT             -- default encryption configuration XML, as put
);

-- A bucket's other configurations (tags, CORS, lifecycle, ownership, public access block,
-- logging, Object Lock, …), by name, each as the S3 service stores it.
CREATE TABLE IF NOT EXISTS bucket_configs (
    bucket   TEXT NOT NULL,
    name     TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
);

-- An account's S3 settings (S3 Control: the account's public access block), by name.
CREATE TABLE IF NOT EXISTS account_configs (
    account  TEXT NOT NULL,
    name     TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account, name)
);

-- Every object version. Listing reads the latest version of each key, in byte order of the key.
CREATE TABLE IF NOT EXISTS objects (
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    version_id    TEXT NOT NULL,    -- 'null' for objects written while versioning was off
    seq           INTEGER NOT NULL, -- write order, newest highest
    is_latest     INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,    -- quoted, as S3 returns it
    content_type  TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}',  -- JSON: user metadata and stored system headers
    blob          TEXT,             -- file under s3/blobs/, 'd:<id>' in bodies, 's:…' in small.db; NULL for delete markers
    sse           TEXT,             -- 'AES256' or 'aws:kms'
    created_ms    INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
);
CREATE INDEX IF NOT EXISTS objects_latest ON objects (bucket, key) WHERE is_latest = 1;
-- ListObjectVersions reads versions in key order, newest first within a key.
CREATE INDEX IF NOT EXISTS objects_versions ON objects (bucket, key, seq DESC);

CREATE TABLE IF NOT EXISTS uploads (
    upload_id    TEXT PRIMARY KEY,
    bucket       TEXT NOT NULL,
    key          TEXT NOT NULL,
    content_type TEXT,
    metadata     TEXT NOT NULL DEFAULT '{}',
    sse          TEXT,
    created_ms   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS parts (
    upload_id   TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    etag        TEXT NOT NULL,
    blob        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

-- Bodies of at most 64 KiB, sealed, written in the same transaction as the row that names them
-- ('d:<id>'): committed, rolled back and synced with it, and many PUTs' bodies share one commit.
CREATE TABLE IF NOT EXISTS bodies (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    data  BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
