-- The embedded store: the same shape as the PostgreSQL one.
CREATE TABLE modules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    path       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id   INTEGER NOT NULL REFERENCES modules (id),
    version     TEXT NOT NULL,
    info        BLOB NOT NULL,
    go_mod      BLOB NOT NULL,
    zip_size    INTEGER NOT NULL,
    zip_sha256  TEXT NOT NULL,
    zip_h1      TEXT NOT NULL,
    mod_h1      TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    source      TEXT NOT NULL,
    fetched_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (module_id, version)
);

CREATE TABLE zip_chunks (
    version_id INTEGER NOT NULL REFERENCES versions (id),
    seq        INTEGER NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (version_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
BEGIN
    SELECT RAISE(ABORT, 'stored module versions are immutable');
END;
CREATE TRIGGER zip_chunks_immutable BEFORE UPDATE ON zip_chunks
BEGIN
    SELECT RAISE(ABORT, 'stored module versions are immutable');
END;
