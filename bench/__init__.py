"""RegimenGuard benchmark suite: `make bench` runs `python -m bench.run` (see README.md)."""
