"""The tests: `python -m pytest -q` from the repository root. `tests/harness` holds what
they share with the benchmarks and scripts."""
