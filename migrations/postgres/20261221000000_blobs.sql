-- Zips become content-addressed blobs, the database's BlobStore: their chunks are keyed by the
-- zip's sha256 and committed before the version row that names them (a crash in between leaves an
-- orphan blob, never a row without its zip), and another backend (object storage) can hold them
-- instead. Existing chunks are copied over, then the old table goes.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Bytes in bounded rows: a bytea value cannot be streamed, a row of one chunk can.
CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    data   BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);
-- Zips are already compressed: skip TOAST compression.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TRIGGER blobs_immutable BEFORE UPDATE ON blobs
    FOR EACH ROW EXECUTE FUNCTION agora_immutable();
CREATE TRIGGER blob_chunks_immutable BEFORE UPDATE ON blob_chunks
    FOR EACH ROW EXECUTE FUNCTION agora_immutable();

INSERT INTO blobs (sha256, size)
    SELECT DISTINCT ON (zip_sha256) zip_sha256, zip_size FROM versions;
INSERT INTO blob_chunks (sha256, seq, data)
    SELECT v.zip_sha256, c.seq, c.data FROM zip_chunks c JOIN versions v ON v.id = c.version_id
    ON CONFLICT DO NOTHING;
DROP TABLE zip_chunks;
ALTER TABLE versions DROP COLUMN chunk_count;
