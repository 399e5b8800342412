"""Where the chains' frontiers are kept: the index's meta, so that catch-up resumes after a
restart and across Lambda runs. The only place catch-up reads or writes them."""

from node.network.frontier import META_PREFIX, Chain, meta_key
from storage.index import MessageIndex


class FrontierStore:
    """Chain frontiers by (peer, board)."""

    def __init__(self, index: MessageIndex) -> None:
        self.index = index

    def saved(self) -> list[Chain]:
        """Every chain saved, finished or not."""
        return [Chain.from_json(text) for text in self.index.meta_scan(META_PREFIX).values()]

    def load(self, peer: str, board: str) -> Chain:
        """The chain as saved, or a new one that nothing is known of."""
        saved = self.index.meta_get(meta_key(board, peer))
        return Chain.from_json(saved) if saved else Chain(peer, board)

    def save(self, chain: Chain) -> None:
        self.index.meta_set(meta_key(chain.board, chain.peer), chain.to_json())

    def forget(self, chain: Chain) -> None:
        """Drop what is known of the chain: saved as a chain nothing is known of (the index's
        meta has no delete), so it is not resumed and its next head is walked whole."""
        self.save(Chain(chain.peer, chain.board))
