"""``networkHealth``: a word computed from what the node can observe, never a constant.

- ``offline``: the daemon does not answer (nothing can be pinned or announced).
- ``pubsub_disabled``: the daemon answers but has pubsub switched off (Kubo's default), so
  nothing is heard or announced; ``ipfs config --json Pubsub.Enabled true`` fixes it.
- ``degraded``: the daemon answers but messages are waiting in the outbox, or a board's
  subscription is down (on Lambda, boards are ``scheduled``: heard in the sync window), or
  the pinning service (PIN_SERVICE_URL) is unreachable, refuses the token or has a backlog
  past its limit (``pinService.health`` says which).
- ``isolated``: everything works locally but no board peer is connected.
- ``fair``: one connected board peer (a single point of failure for replication).
- ``good``: two connected board peers.
- ``excellent``: three or more.

Board peers are the configured ``PEERS`` and peers seen on a board topic, not every
connection of the daemon (a public Kubo has hundreds).
"""


def network_health(
    daemon_reachable: bool,
    connected_peers: int,
    outbox_backlog: int,
    subscriptions_ok: bool,
    pubsub_disabled: bool = False,
    pin_service_ok: bool = True,
) -> str:
    if not daemon_reachable:
        return "offline"
    if pubsub_disabled:
        return "pubsub_disabled"
    if outbox_backlog > 0 or not subscriptions_ok or not pin_service_ok:
        return "degraded"
    if connected_peers == 0:
        return "isolated"
    if connected_peers == 1:
        return "fair"
    if connected_peers == 2:
        return "good"
    return "excellent"
