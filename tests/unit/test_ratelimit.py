"""The node's own moving-window rate limiter (node/guards/rate_limits.py): the ``limits``
notation, a moving window per key, several budgets counted all or none, a Retry-After from the
oldest event in the window, and idle keys forgotten."""

import pytest

from node.guards.rate_limits import Rate, RateLimited, RateLimiter, parse_rates


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "text, rates",
    [
        ("30/minute;300/hour", [Rate(30, 60), Rate(300, 3600)]),
        ("10 per hour", [Rate(10, 3600)]),
        ("5/10 minutes", [Rate(5, 600)]),
        ("1/Second, 3/DAY | 2 per 3 hours", [Rate(1, 1), Rate(3, 86_400), Rate(2, 10_800)]),
        ("1/month;1/year", [Rate(1, 30 * 86_400), Rate(1, 365 * 86_400)]),
    ],
)
def test_the_limits_notation_parses(text, rates):
    assert parse_rates(text) == rates


@pytest.mark.parametrize("text", ["lots", "", "/minute", "30/minutex", "3/minute;", "3/fortnight"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_rates(text)


def test_a_moving_window_per_key():
    clock = Clock()
    limiter = RateLimiter({"address": "3/minute"}, clock=clock)
    for _ in range(3):
        limiter.hit(("address", "a"))
        clock.now += 10
    with pytest.raises(RateLimited) as refused:
        limiter.hit(("address", "a"))
    assert refused.value.scope == "address" and refused.value.retry_after == pytest.approx(30)
    limiter.hit(("address", "b"))  # another key: its own budget
    clock.now += 30  # the first event leaves the window, one more fits
    limiter.hit(("address", "a"))
    with pytest.raises(RateLimited):
        limiter.hit(("address", "a"))


def test_budgets_are_counted_all_or_none():
    clock = Clock()
    limiter = RateLimiter({"address": "2/minute", "author": "1/minute"}, clock=clock)
    limiter.hit(("address", "a"), ("author", "k"))
    with pytest.raises(RateLimited) as refused:
        limiter.hit(("address", "a"), ("author", "k"))
    assert refused.value.scope == "author"
    limiter.hit(("address", "a"), ("author", "other"))  # the refused hit used no address budget
    with pytest.raises(RateLimited):
        limiter.hit(("address", "a"), ("author", "third"))


def test_the_longer_window_holds_after_the_shorter_one_frees():
    clock = Clock()
    limiter = RateLimiter({"peer": "2/second;3/minute"}, clock=clock)
    for _ in range(3):
        limiter.hit(("peer", "p"))
        clock.now += 1
    with pytest.raises(RateLimited) as refused:
        limiter.hit(("peer", "p"))
    assert refused.value.retry_after == pytest.approx(57)


def test_idle_keys_are_forgotten_and_off_limits_nothing():
    clock = Clock()
    limiter = RateLimiter({"reads": "5/second;10/minute"}, clock=clock)
    for n in range(100):
        limiter.hit(("reads", f"client-{n}"))
    assert limiter.keys() == 100
    clock.now += 61
    limiter.hit(("reads", "new"))
    assert limiter.keys() == 1
    off = RateLimiter({"reads": "1/minute"}, enabled=False)
    for _ in range(10):
        off.hit(("reads", "a"))
