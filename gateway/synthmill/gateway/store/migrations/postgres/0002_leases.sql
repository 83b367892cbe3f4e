-- Leases: the gateway running a job, until when (epoch seconds, by the database's clock, so
-- gateways with skewed clocks agree), and a pending cancel. last_seq numbers the job's events.
ALTER TABLE jobs ADD COLUMN last_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_owner text;
ALTER TABLE jobs ADD COLUMN lease_until double precision;
ALTER TABLE jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
-- Claims scan only jobs that may still run.
CREATE INDEX jobs_active ON jobs (created, id) WHERE state IN (1, 2);
