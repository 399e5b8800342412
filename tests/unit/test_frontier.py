"""A chain's frontier survives its round trip as saved text (the ``SyncFrontiers`` port), also
as earlier releases saved it (with a ``failure`` text nothing read)."""

import json

from node.network.frontier import Chain, Gap


def test_a_frontier_round_trips():
    chain = Chain("peer", "general", "key", "head", 5, "top", 3, None, [Gap("next", 2, "top", 3)])
    assert Chain.from_json(chain.to_json()) == chain


def test_a_frontier_saved_by_an_earlier_release_is_read():
    saved = json.loads(Chain("peer", "general", gaps=[Gap("next", 2)]).to_json())
    saved["failure"] = "bad_manifest: a sealed page is not full (a chain of tiny pages)"
    chain = Chain.from_json(json.dumps(saved))
    assert chain.key == ("peer", "general") and chain.gaps == [Gap("next", 2)]
    assert "failure" not in json.loads(chain.to_json())
