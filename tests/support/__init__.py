"""Real daemons and node processes for the tests, reused by benchmarks (``bench/``)."""
