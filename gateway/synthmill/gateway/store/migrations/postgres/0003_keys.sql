-- API keys (serialized synthmill.v1.ApiKey, found by the SHA-256 of their secret), each job's
-- owner (a key's name; '' when the gateway runs open), and each owner's rows and images per day.
ALTER TABLE jobs ADD COLUMN owner text NOT NULL DEFAULT '';
CREATE INDEX jobs_owner ON jobs (owner, state);
CREATE TABLE api_keys (
    name text PRIMARY KEY,
    hash text NOT NULL UNIQUE,
    created double precision NOT NULL,
    key bytea NOT NULL
);
CREATE TABLE usage (
    owner text NOT NULL,
    day text NOT NULL,
    rows bigint NOT NULL,
    images bigint NOT NULL,
    PRIMARY KEY (owner, day)
);
