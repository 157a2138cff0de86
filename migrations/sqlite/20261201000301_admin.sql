-- Publishing and administration: the same shape as the PostgreSQL tables.
CREATE TABLE hidden_versions (
    version_id INTEGER PRIMARY KEY REFERENCES versions (id),
    reason     TEXT NOT NULL,
    hidden_by  TEXT NOT NULL,
    hidden_at  INTEGER NOT NULL
);

CREATE TABLE version_usage (
    version_id   INTEGER PRIMARY KEY REFERENCES versions (id),
    last_used_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    module  TEXT NOT NULL,
    version TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_module ON audit_log (module, version);
