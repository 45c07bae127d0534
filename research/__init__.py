"""One-off research scripts, each beside its dated results (research/README.md); run from
the repository root as `python -m research.<name>`."""
