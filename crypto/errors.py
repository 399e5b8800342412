class CryptoError(ValueError):
    """A key, signature, hex string or CID that cannot be used.

    One type for every malformed input, so callers turn it into a 4xx (or a dropped pubsub
    message) without knowing which library underneath complained.
    """
