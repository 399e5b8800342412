"""``networkHealth``: a word computed from what the node can observe, never a constant.

- ``offline``: the daemon does not answer (nothing can be pinned or announced).
- ``degraded``: the daemon answers but messages are waiting in the outbox, or a board's
  subscription is down (on Lambda, boards are ``scheduled``: heard in the sync window).
- ``isolated``: everything works locally but no peer is connected.
- ``fair``: one connected peer (a single point of failure for replication).
- ``good``: two connected peers.
- ``excellent``: three or more.
"""


def network_health(
    daemon_reachable: bool, connected_peers: int, outbox_backlog: int, subscriptions_ok: bool
) -> str:
    if not daemon_reachable:
        return "offline"
    if outbox_backlog > 0 or not subscriptions_ok:
        return "degraded"
    if connected_peers == 0:
        return "isolated"
    if connected_peers == 1:
        return "fair"
    if connected_peers == 2:
        return "good"
    return "excellent"
