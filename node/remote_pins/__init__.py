"""Replicated pinning at an IPFS Pinning Service: the worker that pins and unpins there, the
backfill of what was published before, and the status shown for it."""
