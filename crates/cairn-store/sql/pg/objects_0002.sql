-- ListObjectVersions reads versions in key order, newest first within a key.
CREATE INDEX objects_versions ON objects (bucket, key, seq DESC);
