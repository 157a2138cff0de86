-- Responses of the checksum databases agora proxies (lookups and tiles are immutable; `latest`
-- is replaced), kept so clients can verify while the upstream is unreachable.
CREATE TABLE sumdb_cache (
    name       TEXT NOT NULL,
    path       TEXT NOT NULL,
    body       BYTEA NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, path)
);

-- Client tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at    TIMESTAMPTZ
);
-- One active token per name; a revoked name may be reused.
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
