"""Helpers every wing uses: the in-process event bus, counters for /metrics, and retry
(backoff and the idle step of a retry loop)."""
