-- oauth-store-postgres: the token table and its schema version.
-- Run once as a role that may create tables; the application's role
-- needs SELECT, INSERT and UPDATE on the token table, and SELECT on
-- the schema-version table.
BEGIN;

CREATE TABLE IF NOT EXISTS "oauth_store_schema" (
    table_name  text PRIMARY KEY,
    version     integer NOT NULL,
    migrated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS "oauth_tokens" (
    provider         text COLLATE "C" NOT NULL,
    account          text COLLATE "C" NOT NULL,
    tokens           jsonb,
    version          bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
    lease_owner      text,
    lease_expires_at timestamptz,
    fence            bigint NOT NULL DEFAULT 0 CHECK (fence >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, account)
);

INSERT INTO "oauth_store_schema" (table_name, version) VALUES ('oauth_tokens', 1)
ON CONFLICT (table_name) DO UPDATE
SET version = GREATEST("oauth_store_schema".version, EXCLUDED.version), migrated_at = now();

COMMIT;
