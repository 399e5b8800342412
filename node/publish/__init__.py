"""Publishing a message: the pipeline (accept, deliver), the outbox that retries delivery,
and the idempotency of token posts."""
