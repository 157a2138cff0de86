-- Tokens may be limited to module patterns (GOPRIVATE-style globs) for publishing; empty means
-- whatever admin.publish_patterns allows.
ALTER TABLE tokens ADD COLUMN patterns TEXT NOT NULL DEFAULT '';
