-- Jobs (serialized synthmill.v1.Job), their finished items, and their numbered events.
CREATE TABLE jobs (
    id text PRIMARY KEY,
    created double precision NOT NULL,
    state integer NOT NULL,
    job bytea NOT NULL
);
CREATE INDEX jobs_state ON jobs (state, created);
CREATE TABLE items (
    job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind text NOT NULL,
    idx integer NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (job_id, kind, idx)
);
CREATE TABLE events (
    job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    event bytea NOT NULL,
    PRIMARY KEY (job_id, seq)
);
