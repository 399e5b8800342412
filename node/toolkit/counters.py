"""In-process counters of what the node refused, dropped and throttled.

Any module may define one (``counter(name, help, labels)``) and count on it; ``/metrics``
(``node/http/metrics.py``, serve mode) exposes every one defined, so this module needs no
metrics library and costs nothing on Lambda. Label values must come from a bounded set (reason
codes, scopes), never from peer ids or addresses.
"""

from dataclasses import dataclass, field


@dataclass
class Counter:
    name: str
    help: str
    labels: tuple[str, ...] = ()
    values: dict[tuple[str, ...], float] = field(default_factory=dict)

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        self.values[label_values] = self.values.get(label_values, 0.0) + amount

    def get(self, *label_values: str) -> float:
        return self.values.get(label_values, 0.0)


REGISTRY: dict[str, Counter] = {}


def counter(name: str, help: str, labels: tuple[str, ...] = ()) -> Counter:
    """The counter ``name``, defined on first use (modules may share one)."""
    return REGISTRY.setdefault(name, Counter(name, help, labels))


POSTS = counter(
    "onusone_posts_total",
    "HTTP posts by result: accepted, duplicate, queued, or the refusal's error code",
    ("result",),
)
RATE_LIMITED = counter(
    "onusone_rate_limited_total",
    "requests and pubsub messages refused by a rate limit, by budget",
    ("scope",),
)
PUBSUB_DROPS = counter(
    "onusone_pubsub_drops_total", "pubsub messages dropped, by reason code", ("reason",)
)
