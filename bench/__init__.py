"""Benchmarks, run by hand; results in bench/README.md."""
