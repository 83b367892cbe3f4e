-- Leases: the gateway running a job, until when (epoch seconds), and a pending cancel.
-- last_seq numbers the job's events.
ALTER TABLE jobs ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until REAL;
ALTER TABLE jobs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE jobs SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM events WHERE events.job_id = jobs.id);
