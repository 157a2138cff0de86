-- Signed-in sessions of the web pages. The cookie carries a random id that is kept here only as
-- its SHA-256, beside the token it belongs to and its own form (CSRF) token. Times are unix
-- seconds from the server's clock, so every replica and store compares them alike.
CREATE TABLE sessions (
    id         BIGSERIAL PRIMARY KEY,
    id_sha256  TEXT NOT NULL UNIQUE,
    token_id   BIGINT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    client     TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
