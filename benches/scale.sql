-- Synthetic rows for the scale rows of benches/run.sh: 100,000 modules of 10 versions each
-- (1,000,000 versions) and one module with 10,000 versions, all naming one empty blob. Only
-- metadata is served from them; the rows are what the hot queries have to search.
BEGIN;
INSERT INTO blobs (sha256, size) VALUES (repeat('0', 64), 0) ON CONFLICT DO NOTHING;

INSERT INTO modules (path)
SELECT 'synth.example/m' || lpad(i::text, 6, '0') FROM generate_series(0, 99999) AS i;
INSERT INTO modules (path) VALUES ('synth.example/many');

INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, source)
SELECT m.id, v.version,
       convert_to('{"Version":"' || v.version || '","Time":"2024-01-02T03:04:05Z"}', 'UTF8'),
       convert_to('module ' || m.path || E'\n', 'UTF8'),
       0, repeat('0', 64), 'h1:synthetic', 'h1:synthetic', 'synthetic'
FROM modules m
CROSS JOIN LATERAL (SELECT 'v1.0.' || j AS version FROM generate_series(0, 9) AS j) v
WHERE m.path LIKE 'synth.example/m%' AND m.path <> 'synth.example/many';

INSERT INTO versions (module_id, version, info, go_mod, zip_size, zip_sha256, zip_h1, mod_h1, source)
SELECT m.id, 'v1.' || (j / 100) || '.' || (j % 100),
       convert_to('{"Version":"v1.' || (j / 100) || '.' || (j % 100) || '","Time":"2024-01-02T03:04:05Z"}', 'UTF8'),
       convert_to('module synth.example/many' || E'\n', 'UTF8'),
       0, repeat('0', 64), 'h1:synthetic', 'h1:synthetic', 'synthetic'
FROM modules m CROSS JOIN generate_series(0, 9999) AS j
WHERE m.path = 'synth.example/many';

-- Every version served a few times, and its module's sum: what the operations page ranks.
INSERT INTO version_usage (version_id, last_used_at, uses)
SELECT id, 1700000000 + id % 86400, (id * 7919) % 1000 FROM versions;
INSERT INTO module_usage (module_id, uses, last_used_at)
SELECT v.module_id, sum(u.uses), max(u.last_used_at)
FROM version_usage u JOIN versions v ON v.id = u.version_id GROUP BY v.module_id;
COMMIT;

VACUUM ANALYZE;
