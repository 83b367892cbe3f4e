"""The text inference server: schema-constrained rows and prompt writing with a causal LLM."""
