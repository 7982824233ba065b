-- The S3 store's metadata on PostgreSQL: buckets, object versions, multipart uploads and their
-- parts. Bodies are kept apart (`crate::objects::Bodies`), each written before the row that
-- names it. Keys compare and sort in the "C" collation: byte order, as S3 lists them.
CREATE TABLE buckets (
    name        TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    policy      TEXT,            -- bucket policy JSON, as put
    versioning  TEXT,            -- NULL (never enabled), 'Enabled' or 'Suspended'
    encryption  TEXT             -- default encryption configuration XML, as put
);

-- Every object version. Listing reads the latest version of each key, in byte order of the key.
CREATE TABLE objects (
    bucket         TEXT NOT NULL,
    key            TEXT COLLATE "C" NOT NULL,
    version_id     TEXT NOT NULL,    -- 'null' for objects written while versioning was off
    seq            BIGINT NOT NULL,  -- write order, newest highest (from object_seq)
    is_latest      BOOLEAN NOT NULL,
    delete_marker  BOOLEAN NOT NULL DEFAULT FALSE,
    size           BIGINT NOT NULL,
    etag           TEXT NOT NULL,    -- quoted, as S3 returns it
    content_type   TEXT,
    metadata       TEXT NOT NULL DEFAULT '{}',  -- JSON: user metadata and stored system headers
    blob           TEXT,             -- the body's name; NULL for delete markers
    sse            TEXT,             -- 'AES256' or 'aws:kms'
    created_ms     BIGINT NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
);
CREATE INDEX objects_latest ON objects (bucket, key) WHERE is_latest;

-- Only orders a key's versions (which becomes the latest when the newest goes); writes to one
-- key are serialised by a lock, so a plain sequence is enough.
CREATE SEQUENCE object_seq;

CREATE TABLE uploads (
    upload_id     TEXT PRIMARY KEY,
    bucket        TEXT NOT NULL,
    key           TEXT COLLATE "C" NOT NULL,
    content_type  TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}',
    sse           TEXT,
    created_ms    BIGINT NOT NULL
);
CREATE INDEX uploads_by_bucket ON uploads (bucket);

CREATE TABLE parts (
    upload_id    TEXT NOT NULL,
    part_number  BIGINT NOT NULL,
    size         BIGINT NOT NULL,
    etag         TEXT NOT NULL,
    blob         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
