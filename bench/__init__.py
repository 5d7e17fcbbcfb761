"""Benchmarks: each script runs as `python -m bench.<name>` and prints a ratio to an anchor.

Also the helpers the tests share with the benchmarks (so the dependency runs tests -> bench, never
back): `bench.client` (request bodies and calls), `bench.person` (the real-person frames) and
`bench.processes` (a real `a3cp serve` process).
"""
