"""Fitting a schema to a sample, and judging generated rows against it (numpy and scipy, torch-free).

`read_sample` parses csv, jsonl or parquet; `fit` gives a schema in the ordinary syntax (with
`empirical` laws, `{by, cases}` and a Gaussian `copula`); `synthmill.common.fit.quality` scores rows
made from it with SDMetrics' definitions, and `synthmill.common.fit.privacy` measures how close they
come to the sample's records.
"""

from synthmill.common.fit.fitter import DEFAULT_MIN_COUNT, FitOptions, Fitted, fit
from synthmill.common.fit.sample import FORMATS, MAX_SAMPLE_BYTES, Sample, format_of, read_sample

__all__ = [
    "DEFAULT_MIN_COUNT",
    "FORMATS",
    "MAX_SAMPLE_BYTES",
    "FitOptions",
    "Fitted",
    "Sample",
    "fit",
    "format_of",
    "read_sample",
]
