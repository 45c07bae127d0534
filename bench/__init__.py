"""Repeatable benchmarks (bench/README.md); run from the repository root as
`python -m bench.<name>`."""
