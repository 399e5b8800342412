"""Where the chains' frontiers are kept (the ``SyncFrontiers`` port), so that catch-up resumes
after a restart and across Lambda runs. The only place catch-up reads or writes them."""

from node.network.frontier import Chain
from storage.ports.state import SyncFrontiers


class FrontierStore:
    """Chain frontiers by (peer, board), as the syncer's ``Chain`` records."""

    def __init__(self, frontiers: SyncFrontiers) -> None:
        self.frontiers = frontiers

    def saved(self) -> list[Chain]:
        """Every chain saved, finished or not."""
        return [Chain.from_json(text) for text in self.frontiers.all()]

    def load(self, peer: str, board: str) -> Chain:
        """The chain as saved, or a new one that nothing is known of."""
        saved = self.frontiers.get(board, peer)
        return Chain.from_json(saved) if saved else Chain(peer, board)

    def save(self, chain: Chain) -> None:
        self.frontiers.put(chain.board, chain.peer, chain.to_json())

    def forget(self, chain: Chain) -> None:
        """Drop what is known of the chain: saved as a chain nothing is known of (the port has
        no delete), so it is not resumed and its next head is walked whole."""
        self.save(Chain(chain.peer, chain.board))
