"""Adapters to the outside: the IPFS daemon and the message index (SQLite or DynamoDB)."""
