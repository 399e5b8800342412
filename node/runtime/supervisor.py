"""Keeps the node's own local daemon alive: when the daemon that ``serve`` started exits, the
node says so (log and ``/api/status``) and starts it again, with backoff if it keeps dying.
Only the daemon this process started is supervised; an operator's own Kubo is theirs."""

import asyncio
import logging
from typing import Any

from node.runtime.local_ipfs import LocalDaemonError, LocalIpfsDaemon
from node.toolkit.retry import backoff_ms
from node.toolkit.worker import Next, StepWorker

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


class DaemonSupervisor(StepWorker):
    name = "local daemon supervisor"

    def __init__(self, daemon: LocalIpfsDaemon, check_seconds: float = CHECK_SECONDS) -> None:
        self.daemon = daemon
        self.check_seconds = check_seconds
        self.state = "running"
        self.restarts = 0
        self.last_exit_code: int | None = None
        self._failures = 0

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.daemon.kind,
            "state": self.state,
            "restarts": self.restarts,
            "lastExitCode": self.last_exit_code,
        }

    async def step(self) -> Next:
        """Start the daemon again if it exited, after a backoff if it keeps dying."""
        if self.daemon.running():
            self._failures = 0
            return Next.IDLE
        process = self.daemon.process
        self.last_exit_code = process.returncode if process is not None else None
        self.state = "restarting"
        delay = backoff_ms(self._failures) / 1000
        log.error(
            "the local %s daemon exited (code %s); see %s; restarting it in %.1fs",
            self.daemon.name,
            self.last_exit_code,
            self.daemon.log_path,
            delay,
        )
        await asyncio.sleep(delay)
        try:
            await asyncio.to_thread(self.daemon.start)
        except LocalDaemonError as exc:
            self._failures += 1
            log.error("the local %s daemon did not start again: %s", self.daemon.name, exc)
            return Next.IDLE
        self.restarts += 1
        self.state = "running"
        log.info("the local %s daemon runs again (PID %s)", self.daemon.name, self.daemon.pid)
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self.check_seconds)
