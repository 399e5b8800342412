class IpfsError(Exception):
    """The daemon answered, but with an error or with something we cannot read."""


class IpfsUnavailable(IpfsError):
    """The daemon could not be reached in time: connection refused, reset or timed out."""


class NoPubsubPeers(IpfsError):
    """Publish failed because no peer subscribes to the topic (js-ipfs ``InsufficientPeers``)."""


class InvalidCursor(ValueError):
    """A pagination cursor that this index did not hand out."""


class PubsubDisabled(IpfsError):
    """The daemon has pubsub switched off (Kubo's default): no retry can help until the
    operator enables it."""

    fix = "ipfs config --json Pubsub.Enabled true, then restart the daemon"


class IndexBusy(Exception):
    """The index could not take a write after retrying contention (DynamoDB transaction
    conflicts between concurrent Lambdas): the caller answers 503, the client retries."""
