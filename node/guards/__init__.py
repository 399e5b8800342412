"""What keeps the node within its means: rate limits, the storage budget, and the per-author
limit on history taken in by catch-up."""
