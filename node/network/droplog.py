"""Logging of dropped pubsub input: once per reason, then a summary at most once a minute, so a
peer flooding junk cannot flood the log too."""

import logging
import time

SUMMARY_SECONDS = 60.0


class DropLog:
    def __init__(self, log: logging.Logger, every: float = SUMMARY_SECONDS) -> None:
        self.log = log
        self.every = every
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def dropped(self, code: str, peer: str, detail: str) -> None:
        now = time.monotonic()
        last = self._last.get(code)
        if last is not None and now - last < self.every:
            self._suppressed[code] = self._suppressed.get(code, 0) + 1
            return
        self._last[code] = now
        more = self._suppressed.pop(code, 0)
        suffix = f" (and {more} more like it since the last report)" if more else ""
        self.log.warning("dropped message from %s: %s: %s%s", peer or "?", code, detail, suffix)
