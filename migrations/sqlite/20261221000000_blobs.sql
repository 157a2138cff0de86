-- Zips become content-addressed blobs (see the PostgreSQL migration of the same name).
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) WITHOUT ROWID;

CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
) WITHOUT ROWID;

CREATE TRIGGER blobs_immutable BEFORE UPDATE ON blobs
BEGIN
    SELECT RAISE(ABORT, 'stored module versions are immutable');
END;
CREATE TRIGGER blob_chunks_immutable BEFORE UPDATE ON blob_chunks
BEGIN
    SELECT RAISE(ABORT, 'stored module versions are immutable');
END;

INSERT OR IGNORE INTO blobs (sha256, size) SELECT zip_sha256, zip_size FROM versions;
INSERT OR IGNORE INTO blob_chunks (sha256, seq, data)
    SELECT v.zip_sha256, c.seq, c.data FROM zip_chunks c JOIN versions v ON v.id = c.version_id;
DROP TRIGGER zip_chunks_immutable;
DROP TABLE zip_chunks;
ALTER TABLE versions DROP COLUMN chunk_count;
