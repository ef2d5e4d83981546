"""Benchmarks, run by `make bench` (`python -m bench`), each printing ratios against a baseline from the same run."""
