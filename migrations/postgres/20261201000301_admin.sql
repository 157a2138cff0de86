-- Publishing and administration. Version rows stay immutable: hiding, usage and the audit trail
-- live in their own tables.

-- A hidden version answers 410 with its reason and is left out of lists and the catalog.
CREATE TABLE hidden_versions (
    version_id BIGINT PRIMARY KEY REFERENCES versions (id),
    reason     TEXT NOT NULL,
    hidden_by  TEXT NOT NULL,
    hidden_at  BIGINT NOT NULL
);

-- When a version was last served (unix seconds), written in throttled batches.
CREATE TABLE version_usage (
    version_id   BIGINT PRIMARY KEY REFERENCES versions (id),
    last_used_at BIGINT NOT NULL
);

-- Who did what, when: publish, hide, expire, import.
CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    module  TEXT NOT NULL,
    version TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_module ON audit_log (module, version);
