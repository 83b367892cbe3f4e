"""Fitting a schema to a sample, and judging generated rows against it (numpy and scipy, torch-free).

`sample.read_sample` parses csv, jsonl or parquet; `fitter.fit` gives a schema in the ordinary
syntax (with `empirical` laws, `{by, cases}` and a Gaussian `copula`); `judge` scores rows made from
it with SDMetrics' definitions (`quality`) and measures how close they come to the sample's records
(`privacy`). This package file imports nothing, so `defaults` stays importable without numpy.
"""
