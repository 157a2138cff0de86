-- How often versions are served: the same shape as the PostgreSQL tables.
ALTER TABLE version_usage ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;

CREATE TABLE module_usage (
    module_id    INTEGER PRIMARY KEY REFERENCES modules (id),
    uses         INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);
CREATE INDEX module_usage_uses ON module_usage (uses DESC);
CREATE INDEX module_usage_last_used ON module_usage (last_used_at DESC);

INSERT INTO module_usage (module_id, uses, last_used_at)
SELECT v.module_id, 0, max(u.last_used_at)
FROM version_usage u JOIN versions v ON v.id = u.version_id
GROUP BY v.module_id;
