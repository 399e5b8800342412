"""``/api/peers`` addresses: the peer id is appended once, whether or not the daemon already
lists the address with it (peers dialled through ``PEERS``)."""

import pytest

from node.network.bootstrap import with_peer_id

PEER = "12D3KooWPeer"


@pytest.mark.parametrize(
    "address",
    ["/ip4/127.0.0.1/tcp/4001", f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER}", "/ip4/127.0.0.1/tcp/4001/"],
)
def test_the_peer_id_appears_once(address):
    assert with_peer_id(address, PEER) == f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER}"


def test_a_relay_address_keeps_its_relay_and_gets_the_peer(address="/ip4/1.2.3.4/tcp/1/p2p/R"):
    assert with_peer_id(f"{address}/p2p-circuit", PEER) == f"{address}/p2p-circuit/p2p/{PEER}"
