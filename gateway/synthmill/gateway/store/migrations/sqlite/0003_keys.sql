-- API keys (serialized synthmill.v1.ApiKey, found by the SHA-256 of their secret), each job's
-- owner (a key's name; '' when the gateway runs open), and each owner's rows and images per day.
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_owner ON jobs (owner, state);
CREATE TABLE api_keys (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    key BLOB NOT NULL
);
CREATE TABLE usage (
    owner TEXT NOT NULL,
    day TEXT NOT NULL,
    rows INTEGER NOT NULL,
    images INTEGER NOT NULL,
    PRIMARY KEY (owner, day)
);
