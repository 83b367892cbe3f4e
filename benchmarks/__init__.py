"""synthmill benchmarks: the service against the same models called directly, as ratios taken in one run.

Each module runs alone (`python -m benchmarks.images --device cpu --model tiny-sd`) and writes one JSON
file into `benchmarks/results/`; `python -m benchmarks` (`make bench`) runs them all and prints a table.
Benchmarks are measurements, not tests: nothing here asserts a time.
"""
