-- Paged listings: a keyset on (created, id), for everyone's jobs or one owner's, and the job's kind
-- to filter on (NULL: not yet read from the stored job; the gateway fills it in at start).
-- Retention: when the job ended (epoch seconds; NULL while it may still run) and whether its events
-- were compacted to the final one. Store locks: named, held by one gateway until a time (the
-- retention sweeper's).
ALTER TABLE jobs ADD COLUMN kind text;
ALTER TABLE jobs ADD COLUMN ended double precision;
ALTER TABLE jobs ADD COLUMN compacted boolean NOT NULL DEFAULT false;
CREATE INDEX jobs_created ON jobs (created, id);
CREATE INDEX jobs_owner_created ON jobs (owner, created, id);
CREATE INDEX jobs_ended ON jobs (ended) WHERE ended IS NOT NULL;
CREATE TABLE store_locks (
    name text PRIMARY KEY,
    owner text NOT NULL,
    until double precision NOT NULL
);
