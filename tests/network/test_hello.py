"""A node that (re)subscribes says hello; the others announce their heads at once, so catch-up
does not wait for their next HEAD_INTERVAL."""

import time

from tests.network.test_line import offline, post, sources
from tests.support.network import message_cids, start_network
from tests.support.processes import wait_until

SLOW_HEADS = {"HEAD_INTERVAL": "3600"}


def test_restarted_node_catches_up_long_before_the_head_interval(tmp_path, user_key):
    network = start_network(
        tmp_path, ["a", "b"], [("a", "b")], node_env={"a": SLOW_HEADS, "b": SLOW_HEADS}
    )
    try:
        a, b = network.nodes["a"], network.nodes["b"]
        with offline(network, "b", "a") as away:
            posted = {post(a, user_key, f"while B slept #{i}").to_bytes() for i in range(15)}
            away.restart(posted)
            started = time.monotonic()
            # With HEAD_INTERVAL=3600 A announces no head in this window unless B's hello asks.
            wait_until(
                lambda: posted <= message_cids(b), timeout=30, interval=0.2, what="B catch-up"
            )
            took = time.monotonic() - started
            print(f"\ncatch-up after restart with HEAD_INTERVAL=3600: {took:.2f}s")
            by_sync = away.only_by_sync(posted)
            assert by_sync and sources(b, by_sync) == {"sync"}
    finally:
        network.stop()
