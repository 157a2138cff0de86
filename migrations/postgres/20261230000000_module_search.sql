-- Module search on the web pages finds paths by any part of them: a trigram index answers
-- `path LIKE '%text%'` without reading every path. pg_trgm ships with PostgreSQL and is a
-- trusted extension (the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX modules_path_trgm ON modules USING gin (path gin_trgm_ops);
