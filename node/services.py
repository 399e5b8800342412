"""The node's parts wired together once, from settings; the app and the CLI receive this."""

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from crypto import NodeKey
from node.events import MessageBus
from node.keys import load_node_key
from node.monitor import DaemonMonitor
from node.outbox import OutboxWorker
from node.pipeline import BroadcastPipeline
from node.settings import Settings
from storage.index import MessageIndex
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)


def open_index(settings: Settings) -> MessageIndex:
    if settings.store == "dynamodb":
        from storage.dynamodb_index import DynamoMessageIndex

        assert settings.dynamodb_table
        return DynamoMessageIndex(settings.dynamodb_table)
    from storage.sqlite_index import SqliteMessageIndex

    return SqliteMessageIndex(settings.data_dir / "index.sqlite3")


@dataclass
class NodeServices:
    settings: Settings
    key: NodeKey
    index: MessageIndex
    ipfs: IpfsClient
    bus: MessageBus
    pipeline: BroadcastPipeline
    monitor: DaemonMonitor
    outbox: OutboxWorker
    started_at: float = field(default_factory=time.time)
    subscription_states: Callable[[], dict[str, str]] = dict
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> "NodeServices":
        key = load_node_key(settings)
        index = open_index(settings)
        ipfs = IpfsClient(settings.ipfs_api, settings.ipfs_api_auth)
        bus = MessageBus()
        pipeline = BroadcastPipeline(index, ipfs, bus)
        monitor = DaemonMonitor(ipfs)
        outbox = OutboxWorker(pipeline)
        monitor.on_reachable.append(outbox.wake)
        return cls(settings, key, index, ipfs, bus, pipeline, monitor, outbox)

    def background_jobs(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """Loops that run for the life of a long-running node (not on Lambda)."""
        return [self.outbox.run, self._watch_daemon]

    async def _watch_daemon(self, interval: float = 2.0) -> None:
        while True:
            await self.monitor.refresh()
            await asyncio.sleep(interval)

    def start(self) -> None:
        for job in self.background_jobs():
            self._tasks.append(asyncio.create_task(job(), name=job.__name__))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.ipfs.aclose()
        self.index.close()
        for callback in self.on_stop:
            await asyncio.to_thread(callback)
