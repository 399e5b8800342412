"""What nodes say to each other and keep: the envelope and its strict JSON, announcements on
the board topics, and head manifests (docs/PROTOCOL.md)."""
