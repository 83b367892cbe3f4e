"""The durable job store: jobs, items, events, leases and keys, on SQLite or PostgreSQL."""
