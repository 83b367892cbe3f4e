"""What one run of a job shares with every kind: its context, row making, image rendering, retries
and judging records."""
