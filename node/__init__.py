"""The OnusOne node: HTTP API, broadcast pipeline, pubsub listener, sync and CLI."""

__version__ = "0.1.0"
