"""Benchmarks (issue 7): each script runs as `python -m bench.<name>` and prints a ratio to an anchor."""
