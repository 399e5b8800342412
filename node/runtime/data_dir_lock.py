"""One node per ``DATA_DIR``: a second ``serve`` on the same directory would share its index and
its local daemon's repo, and, before this lock, killed the first node's daemon.

The lock is an ``flock`` on ``DATA_DIR/node.lock`` holding the owner's PID: the kernel releases
it when the owner dies, however it dies, so there is never a stale lock to remove by hand.
"""

import fcntl
import os
from pathlib import Path
from typing import IO


class DataDirInUse(RuntimeError):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "node.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> "DataDirLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirInUse(
                f"DATA_DIR {self.path.parent} is in use by another node (PID {owner}): stop that"
                " node, or give this one its own DATA_DIR"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
