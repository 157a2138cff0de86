-- Modules and their stored versions. A version row and its zip chunks are written in one
-- transaction, so a reader sees a version whole or not at all.
CREATE TABLE modules (
    id         BIGSERIAL PRIMARY KEY,
    path       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE versions (
    id          BIGSERIAL PRIMARY KEY,
    module_id   BIGINT NOT NULL REFERENCES modules (id),
    version     TEXT NOT NULL,
    info        BYTEA NOT NULL,
    go_mod      BYTEA NOT NULL,
    zip_size    BIGINT NOT NULL,
    zip_sha256  TEXT NOT NULL,
    zip_h1      TEXT NOT NULL,
    mod_h1      TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    source      TEXT NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (module_id, version)
);

-- Zip bytes in bounded rows: a bytea value cannot be streamed, a row of one chunk can.
CREATE TABLE zip_chunks (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    seq        INTEGER NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (version_id, seq)
);
-- Zips are already compressed: skip TOAST compression.
ALTER TABLE zip_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- A stored version never changes: refuse updates at the database too, whatever the code does.
CREATE FUNCTION agora_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stored module versions are immutable (% on %)', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
    FOR EACH ROW EXECUTE FUNCTION agora_immutable();
CREATE TRIGGER zip_chunks_immutable BEFORE UPDATE ON zip_chunks
    FOR EACH ROW EXECUTE FUNCTION agora_immutable();
