"""The node's parts wired together once, from settings; the app and the CLI receive this."""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crypto import NodeKey
from node.guards.rate_limits import RateLimiter
from node.guards.storage_budget import StorageBudget
from node.network.bootstrap import BootstrapDialer
from node.network.heads import HeadPublisher
from node.network.ingest import Ingestor
from node.network.listener import PubsubListener
from node.network.mesh import MeshDoctor
from node.network.monitor import DaemonMonitor
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.network.sync import HeadSyncer
from node.publish.outbox import OutboxWorker
from node.publish.pipeline import BroadcastPipeline
from node.publish.service import PublishService
from node.remote_pins.backfill import RemotePinBackfill
from node.remote_pins.worker import RemotePinner
from node.runtime.builders import build_core, build_network, build_remote_pinning
from node.runtime.secrets import with_secrets
from node.runtime.supervisor import DaemonSupervisor
from node.settings import Settings
from node.toolkit.event_bus import EventBus
from node.toolkit.events import MessageBus
from node.toolkit.worker import Worker, run_forever
from storage.ipfs import IpfsClient
from storage.ports.store import Store


@dataclass
class NodeServices:
    """``background``: whether this process runs the background workers (``serve``) or a
    schedule does their work in one-pass runs (Lambda, ``node.runtime.scheduled``); decided
    when the services are built, and what status reports depend on."""

    settings: Settings
    key: NodeKey
    store: Store
    ipfs: IpfsClient
    bus: MessageBus
    events: EventBus
    pipeline: BroadcastPipeline
    monitor: DaemonMonitor
    outbox: OutboxWorker
    peerbook: PeerBook
    replicator: Replicator
    ingest: Ingestor
    syncer: HeadSyncer
    heads: HeadPublisher
    listener: PubsubListener
    mesh: MeshDoctor
    bootstrap: BootstrapDialer
    limiter: RateLimiter
    budget: StorageBudget
    publisher: PublishService
    background: bool = True
    supervisor: DaemonSupervisor | None = None
    remote_pins: RemotePinner | None = None
    remote_backfill: RemotePinBackfill | None = None
    on_stop: Sequence[Callable[[], None]] = ()
    started_at: float = field(default_factory=time.time)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        background: bool = True,
        supervisor: DaemonSupervisor | None = None,
        on_stop: Sequence[Callable[[], None]] = (),
    ) -> "NodeServices":
        """``supervisor``: the one of the local daemon ``serve`` started, if it did;
        ``on_stop``: called in order, in a thread, once everything else is stopped."""
        settings = with_secrets(settings)
        core = build_core(settings)
        network = build_network(settings, core)
        remote = build_remote_pinning(settings, core, network) if settings.pin_service_url else None
        return cls(
            settings,
            core.key,
            core.store,
            core.ipfs,
            core.bus,
            core.events,
            core.pipeline,
            core.monitor,
            core.outbox,
            network.peerbook,
            network.replicator,
            network.ingest,
            network.syncer,
            network.heads,
            network.listener,
            network.mesh,
            network.bootstrap,
            core.limiter,
            core.budget,
            core.publisher,
            background=background,
            supervisor=supervisor,
            remote_pins=remote.pinner if remote else None,
            remote_backfill=remote.backfill if remote else None,
            on_stop=tuple(on_stop),
        )

    def subscription_states(self) -> dict[str, str]:
        """Per board. Without background workers (Lambda) no subscription stays open: the
        boards are heard in the scheduled sync window, which status shows as ``scheduled``."""
        if not self.background:
            return {board: "scheduled" for board in self.settings.boards}
        return self.listener.states()

    def workers(self) -> list[Worker]:
        """What a long-running node steps for its whole life (on Lambda the schedule asks
        the same parts for one pass each instead)."""
        workers: list[Worker] = [
            self.outbox,
            self.monitor,
            self.peerbook,
            self.heads,
            self.mesh,
        ]
        if self.settings.peers:
            workers.append(self.bootstrap)
        if self.supervisor is not None:
            workers.append(self.supervisor)
        if self.remote_pins is not None:
            workers.append(self.remote_pins)
        if self.remote_backfill is not None:
            workers.append(self.remote_backfill)
        return workers

    def start(self) -> None:
        """Start the workers, the subscriptions (one loop per board) and the replicator (a
        loop per concurrent pin), for the life of the process."""
        self.syncer.resume()
        jobs = [("subscriptions", self.listener.run()), ("replicas", self.replicator.run())]
        jobs += [(worker.name, run_forever(worker)) for worker in self.workers()]
        for name, job in jobs:
            self._tasks.append(asyncio.create_task(job, name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.ingest.flush()
        await self.peerbook.flush()
        await self.ipfs.aclose()
        if self.remote_pins is not None:
            await self.remote_pins.aclose()
        self.store.close()
        for callback in self.on_stop:
            await asyncio.to_thread(callback)
