"""The node's parts wired together once, from settings; the app and the CLI receive this."""

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from crypto import NodeKey
from node.guards.history_limit import HistoryLimit
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
from node.protocol.announcement import topic_for
from node.publish.outbox import OutboxWorker
from node.publish.pipeline import BroadcastPipeline
from node.publish.service import PublishService
from node.remote_pins.backfill import RemotePinBackfill
from node.remote_pins.worker import RemotePinner
from node.runtime.keys import load_node_key
from node.runtime.secrets import pin_service_token, with_secrets
from node.runtime.supervisor import DaemonSupervisor
from node.settings import Limits, Settings
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient
from storage.ports.store import Store

log = logging.getLogger(__name__)


def rate_limiter(limits: Limits) -> RateLimiter:
    return RateLimiter(
        {
            "address": limits.rate_address,
            "author": limits.rate_author,
            "token": limits.rate_token,
            "reads": limits.rate_reads,
            "peer": limits.rate_peer,
            "peer_author": limits.rate_peer_author,
        },
        enabled=limits.rate_limits,
    )


def open_store(settings: Settings) -> Store:
    if settings.store == "dynamodb":
        from storage.dynamodb.store import DynamoStore

        assert settings.dynamodb_table
        return DynamoStore(settings.dynamodb_table)
    from storage.sqlite.store import SqliteStore

    return SqliteStore(settings.data_dir / "index.sqlite3")


def peers_line(addresses: list[str]) -> str | None:
    """The ``PEERS=`` value another node needs to dial this node's daemon: its swarm addresses
    over TCP, routable ones first."""
    tcp = [a for a in addresses if "/tcp/" in a and "/p2p/" in a and "/ws" not in a]
    tcp.sort(key=lambda a: ("/127.0.0.1/" in a or "/::1/" in a, a))
    return tcp[0] if tcp else None


def log_peers_line(monitor: DaemonMonitor) -> None:
    info = monitor.last.info
    line = peers_line(info.addresses) if info is not None else None
    if line:
        log.info("to connect another node to this one, start it with PEERS=%s", line)


@dataclass
class NodeServices:
    settings: Settings
    key: NodeKey
    store: Store
    ipfs: IpfsClient
    bus: MessageBus
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
    supervisor: DaemonSupervisor | None = None
    remote_pins: RemotePinner | None = None
    remote_backfill: RemotePinBackfill | None = None
    started_at: float = field(default_factory=time.time)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> "NodeServices":
        settings = with_secrets(settings)
        key = load_node_key(settings)
        store = open_store(settings)
        ipfs = IpfsClient(settings.ipfs_api, settings.ipfs_api_auth)
        bus = MessageBus()
        pipeline = BroadcastPipeline(store.messages, store.outbox, ipfs, bus)
        monitor = DaemonMonitor(ipfs, [topic_for(board) for board in settings.boards])
        outbox = OutboxWorker(pipeline, store.outbox)
        monitor.on_reachable.append(outbox.wake)
        monitor.on_reachable.append(lambda: log_peers_line(monitor))
        peerbook = PeerBook(store.peers, max_peers=settings.limits.peer_table)
        replicator = Replicator(store.messages, ipfs, max_queue=settings.limits.replication_queue)
        limiter = rate_limiter(settings.limits)
        budget = StorageBudget(
            lambda: monitor.repo_bytes + store.size_bytes(),
            settings.data_dir if settings.store == "sqlite" else None,
            settings.limits.storage_budget_mb,
            settings.limits.min_free_disk_mb,
        )
        ingest = Ingestor(
            store.messages,
            bus,
            peerbook,
            replicator,
            boards=settings.boards,
            limiter=limiter,
            budget=budget,
        )
        syncer = HeadSyncer(
            ipfs,
            ingest,
            peerbook,
            store.frontiers,
            settings.sync_depth,
            rate=settings.sync_rate,
            horizon_days=settings.sync_horizon_days,
            head_interval=settings.head_interval,
            history=HistoryLimit(settings.limits.rate_sync_author, settings.limits.rate_limits),
        )
        ingest.on_head = syncer.offer
        mesh = MeshDoctor(ipfs, settings.boards, settings.peers)
        pipeline.on_no_peers = mesh.suspect
        heads = HeadPublisher(
            store.messages,
            store.heads,
            ipfs,
            key,
            settings.boards,
            bus,
            settings.head_interval,
            mesh.suspect,
        )
        ingest.on_hello = heads.answer_hello
        listener = PubsubListener(ipfs, settings.boards, ingest)
        bootstrap = BootstrapDialer(ipfs, settings.peers)
        publisher = PublishService(
            messages=store.messages,
            claims=store.claims,
            pipeline=pipeline,
            outbox=outbox,
            limiter=limiter,
            budget=budget,
            key=key,
            boards=settings.boards,
            api_tokens=settings.api_tokens,
        )
        services = cls(
            settings,
            key,
            store,
            ipfs,
            bus,
            pipeline,
            monitor,
            outbox,
            peerbook,
            replicator,
            ingest,
            syncer,
            heads,
            listener,
            mesh,
            bootstrap,
            limiter,
            budget,
            publisher,
        )
        if settings.pin_service_url:
            services.remote_pins = pinner = services._remote_pinner(settings)
            services.remote_backfill = RemotePinBackfill(
                store.messages,
                store.backfill,
                pinner,
                settings.boards,
                heads.walk_chain,
                replicas=settings.pin_service_replicas,
                rate=settings.pin_service_backfill_rate,
            )
        return services

    @property
    def running(self) -> bool:
        """True while the background loops run (``serve``); False on Lambda."""
        return bool(self._tasks)

    def _remote_pinner(self, settings: Settings) -> RemotePinner:
        """Pins at PIN_SERVICE_URL what this node publishes (and replicas, if asked), with our
        daemon's addresses as origins so the service's daemons fetch from it directly."""
        from storage.pinning_service import PinningServiceClient

        assert settings.pin_service_url
        client = PinningServiceClient(settings.pin_service_url, pin_service_token(settings))

        async def origins() -> list[str]:
            info = (await self.monitor.snapshot()).info
            return [a for a in info.addresses if "/p2p/" in a] if info else []

        pinner = RemotePinner(
            self.store.remote_pins,
            self.store.pin_service,
            client,
            name=settings.pin_service_name,
            meta={"app": "onusone", "node": self.key.public_hex},
            origins=origins,
            connect=self.ipfs.swarm_connect,
        )
        self.pipeline.on_pinned = lambda cid: pinner.request(cid, "message")
        if settings.pin_service_replicas:
            self.replicator.on_pinned = lambda cid: pinner.request(cid, "replica")
        self.heads.on_page_stored = lambda cid: pinner.request(str(cid), "manifest")
        self.heads.on_page_released = lambda cid: pinner.release(str(cid))
        return pinner

    def subscription_states(self) -> dict[str, str]:
        """Per board. Without background loops (Lambda) no subscription stays open: the boards
        are heard in the scheduled sync window, which status shows as ``scheduled``."""
        if not self.running:
            return {board: "scheduled" for board in self.settings.boards}
        return self.listener.states()

    def background_jobs(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """Loops that run for the life of a long-running node (not on Lambda, which runs
        ``node.runtime.scheduled.catch_up`` from its schedule instead)."""
        jobs = [
            self.outbox.run,
            self._watch_daemon,
            self.listener.run,
            self.replicator.run,
            self.peerbook.run,
            self.heads.run,
            self.mesh.run,
        ]
        if self.settings.peers:
            jobs.append(self.bootstrap.run)
        if self.supervisor is not None:
            jobs.append(self.supervisor.run)
        if self.remote_pins is not None:
            jobs.append(self.remote_pins.run)
        if self.remote_backfill is not None:
            jobs.append(self.remote_backfill.run)
        return jobs

    async def _watch_daemon(self, interval: float = 1.0) -> None:
        while True:
            await self.monitor.refresh()
            await asyncio.sleep(interval)

    def start(self) -> None:
        self.syncer.resume()
        for job in self.background_jobs():
            self._tasks.append(asyncio.create_task(job(), name=job.__name__))

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
