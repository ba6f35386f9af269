"""Benchmarks (``make bench``): figures go to ``docs/benchmarks.md`` with the machine and date."""
