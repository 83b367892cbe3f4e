-- Paged listings: a keyset on (created, id), for everyone's jobs or one owner's, and the job's kind
-- to filter on (NULL: not yet read from the stored job; the gateway fills it in at start).
-- Retention: when the job ended (epoch seconds; NULL while it may still run) and whether its events
-- were compacted to the final one. Store locks: named, held by one gateway until a time (the
-- retention sweeper's).
ALTER TABLE jobs ADD COLUMN kind TEXT;
ALTER TABLE jobs ADD COLUMN ended REAL;
ALTER TABLE jobs ADD COLUMN compacted BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX jobs_created ON jobs (created, id);
CREATE INDEX jobs_owner_created ON jobs (owner, created, id);
CREATE INDEX jobs_ended ON jobs (ended) WHERE ended IS NOT NULL;
CREATE TABLE store_locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);
