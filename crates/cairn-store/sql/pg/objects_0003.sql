-- A bucket's other configurations (tags, CORS, lifecycle, ownership, public access block,
-- logging, Object Lock, …), by name, each as the S3 service stores it.
CREATE TABLE bucket_configs (
    bucket   TEXT NOT NULL,
    name     TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
);

-- An account's S3 settings (S3 Control: the account's public access block), by name.
CREATE TABLE account_configs (
    account  TEXT NOT NULL,
    name     TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account, name)
);
