"""Refuse new messages before the disk, or the operator's budget, runs out.

Used bytes are the IPFS repo plus the index (what ``storageUsed`` shows); free bytes are those of
the filesystem holding ``DATA_DIR`` (SQLite only: on Lambda the index is DynamoDB). A node that
is full still serves what it has and still answers; it only stops taking new posts (507
``storage_full``) and new pubsub messages (dropped, counted as ``storage_full``, which is not
the sender's fault and so not held against it).
"""

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from node.errors import NodeError

MB = 1_000_000
CHECK_SECONDS = 1.0


class StorageFull(NodeError):
    """``str(exc)`` says why, for the 507 detail and ``/api/status``."""

    status = 507
    code = "storage_full"


class StorageBudget:
    def __init__(
        self,
        used_bytes: Callable[[], int],
        disk_path: Path | None,
        budget_mb: float,
        min_free_disk_mb: float,
    ) -> None:
        self.used_bytes = used_bytes
        self.disk_path = disk_path
        self.budget_mb = budget_mb
        self.min_free_disk_mb = min_free_disk_mb
        self._checked = (-CHECK_SECONDS, None)

    def _reason(self) -> str | None:
        used_mb = self.used_bytes() / MB
        if self.budget_mb and used_mb >= self.budget_mb:
            return (
                f"the node's storage budget is used up ({used_mb:.2f} of"
                f" {self.budget_mb:g} MB, STORAGE_BUDGET_MB)"
            )
        if self.disk_path is not None and self.disk_path.exists():
            free_mb = shutil.disk_usage(self.disk_path).free / MB
            if free_mb < self.min_free_disk_mb:
                return (
                    f"the disk is nearly full ({free_mb:.0f} MB free, the node keeps"
                    f" {self.min_free_disk_mb:.0f} MB, MIN_FREE_DISK_MB)"
                )
        return None

    def full(self) -> str | None:
        """Why no new message fits, or None; checked at most every ``CHECK_SECONDS``."""
        checked_at, reason = self._checked
        if time.monotonic() - checked_at >= CHECK_SECONDS:
            reason = self._reason()
            self._checked = (time.monotonic(), reason)
        return reason

    def check(self) -> None:
        reason = self.full()
        if reason is not None:
            raise StorageFull(reason)
