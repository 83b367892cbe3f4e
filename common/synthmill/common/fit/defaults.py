"""The fit's defaults, importable without numpy (the CLI's parser shows them)."""

DEFAULT_MIN_COUNT = 5  # categories seen fewer times are dropped from a fit: a privacy rule
HOLDOUT_SHARE = 0.2  # the share of a sample's rows kept out of the fit, for the DCR figure
MAX_SAMPLE_BYTES = 256 * 2**20  # the largest sample read
FORMATS = ("csv", "jsonl", "parquet")
