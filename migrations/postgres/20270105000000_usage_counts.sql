-- How often versions are served, beside when: the operations page lists the most used modules.
-- Counts are per version (retention may want them) and summed per module in their own table,
-- so the top of the list is read from an index instead of aggregating every usage row.
ALTER TABLE version_usage ADD COLUMN uses BIGINT NOT NULL DEFAULT 0;

CREATE TABLE module_usage (
    module_id    BIGINT PRIMARY KEY REFERENCES modules (id),
    uses         BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX module_usage_uses ON module_usage (uses DESC);
CREATE INDEX module_usage_last_used ON module_usage (last_used_at DESC);

-- Uses before this migration were not counted; their times carry over.
INSERT INTO module_usage (module_id, uses, last_used_at)
SELECT v.module_id, 0, max(u.last_used_at)
FROM version_usage u JOIN versions v ON v.id = u.version_id
GROUP BY v.module_id;
