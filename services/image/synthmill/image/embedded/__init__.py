"""Embedded tiny models for tests and demos: real architectures with seeded random weights, no downloads."""
