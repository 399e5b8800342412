"""Benchmarks: the node against a baseline measured in the same run on the same machine."""
