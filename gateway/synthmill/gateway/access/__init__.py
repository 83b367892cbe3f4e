"""Who may do what: API keys, the caller of each RPC, per-key limits and the audit log."""
