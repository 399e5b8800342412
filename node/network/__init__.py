"""The p2p network: the pubsub listener and ingest, replicas, head manifests and catch-up,
peers and reputation, bootstrap dialling, mesh healing and the daemon monitor."""
