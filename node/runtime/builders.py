"""The node's wings, each built complete: every part receives its collaborators in its
constructor, and where several parts react to one happening, the part where it happens
publishes a typed event (``node.domain_events``) on the ``EventBus`` and the builder of the
reacting wing subscribes to it here. ``NodeServices.from_settings`` calls these in order:
core, then network, then remote pinning (only with PIN_SERVICE_URL)."""

import logging
from dataclasses import dataclass

from crypto import NodeKey
from node.domain_events import (
    DaemonReachable,
    HeadHeard,
    HelloHeard,
    MessagePinned,
    NobodySubscribed,
    PageReleased,
    PageStored,
)
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
from node.runtime.secrets import pin_service_token
from node.settings import Limits, Settings
from node.toolkit.event_bus import EventBus
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


@dataclass(frozen=True)
class Core:
    """The message core and what it stands on: key, store, daemon, buses, guards, the
    pipeline with its outbox (retried when the daemon comes back), and the publish service
    that holds a post's policy."""

    key: NodeKey
    store: Store
    ipfs: IpfsClient
    bus: MessageBus
    events: EventBus
    monitor: DaemonMonitor
    pipeline: BroadcastPipeline
    outbox: OutboxWorker
    limiter: RateLimiter
    budget: StorageBudget
    publisher: PublishService


def build_core(settings: Settings) -> Core:
    """``settings`` with its secrets already read (``with_secrets``)."""
    key = load_node_key(settings)
    store = open_store(settings)
    ipfs = IpfsClient(settings.ipfs_api, settings.ipfs_api_auth)
    bus, events = MessageBus(), EventBus()
    monitor = DaemonMonitor(ipfs, [topic_for(board) for board in settings.boards], events=events)
    pipeline = BroadcastPipeline(store.messages, store.outbox, ipfs, bus, events)
    outbox = OutboxWorker(pipeline, store.outbox)
    events.subscribe(DaemonReachable, lambda _: outbox.wake())
    events.subscribe(DaemonReachable, lambda _: log_peers_line(monitor))
    budget = StorageBudget(
        lambda: monitor.repo_bytes + store.size_bytes(),
        settings.data_dir if settings.store == "sqlite" else None,
        settings.limits.storage_budget_mb,
        settings.limits.min_free_disk_mb,
    )
    limiter = rate_limiter(settings.limits)
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
    return Core(
        key,
        store,
        ipfs,
        bus,
        events,
        monitor,
        pipeline,
        outbox,
        limiter,
        budget,
        publisher,
    )


@dataclass(frozen=True)
class Network:
    """What talks to other nodes: peers, ingest and replicas of what they announce, catch-up
    from their heads, our own heads, the subscriptions, and the health of the mesh."""

    peerbook: PeerBook
    replicator: Replicator
    ingest: Ingestor
    syncer: HeadSyncer
    heads: HeadPublisher
    listener: PubsubListener
    mesh: MeshDoctor
    bootstrap: BootstrapDialer


def build_network(settings: Settings, core: Core) -> Network:
    store, ipfs, events = core.store, core.ipfs, core.events
    peerbook = PeerBook(store.peers, max_peers=settings.limits.peer_table)
    replicator = Replicator(
        store.messages, ipfs, max_queue=settings.limits.replication_queue, events=events
    )
    ingest = Ingestor(
        store.messages,
        core.bus,
        peerbook,
        replicator,
        boards=settings.boards,
        limiter=core.limiter,
        budget=core.budget,
        events=events,
        own_peer_id=core.monitor.peer_id,
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
    mesh = MeshDoctor(ipfs, settings.boards, settings.peers)
    heads = HeadPublisher(
        store.messages,
        store.heads,
        ipfs,
        core.key,
        settings.boards,
        core.bus,
        settings.head_interval,
        events=events,
    )
    events.subscribe(HeadHeard, lambda e: syncer.offer(e.head, e.board, e.sender))
    events.subscribe(HelloHeard, lambda e: heads.answer_hello(e.board))
    events.subscribe(NobodySubscribed, lambda _: mesh.suspect())
    return Network(
        peerbook,
        replicator,
        ingest,
        syncer,
        heads,
        PubsubListener(ipfs, settings.boards, ingest, core.monitor),
        mesh,
        BootstrapDialer(ipfs, settings.peers),
    )


@dataclass(frozen=True)
class RemotePinning:
    pinner: RemotePinner
    backfill: RemotePinBackfill


def build_remote_pinning(settings: Settings, core: Core, network: Network) -> RemotePinning:
    """Pins at PIN_SERVICE_URL what this node publishes (and replicas, if asked), with our
    daemon's addresses as origins so the service's daemons fetch from it directly; the pages
    of our chains too, released there when superseded."""
    from storage.pinning_service import PinningServiceClient

    assert settings.pin_service_url
    client = PinningServiceClient(settings.pin_service_url, pin_service_token(settings))

    async def origins() -> list[str]:
        info = (await core.monitor.snapshot()).info
        return [a for a in info.addresses if "/p2p/" in a] if info else []

    pinner = RemotePinner(
        core.store.remote_pins,
        core.store.pin_service,
        client,
        pin_name=settings.pin_service_name,
        meta={"app": "onusone", "node": core.key.public_hex},
        origins=origins,
        connect=core.ipfs.swarm_connect,
    )
    kinds = ("message", "replica") if settings.pin_service_replicas else ("message",)

    def pinned(event: MessagePinned) -> None:
        if event.kind in kinds:
            pinner.request(event.cid, event.kind)

    core.events.subscribe(MessagePinned, pinned)
    core.events.subscribe(PageStored, lambda e: pinner.request(str(e.cid), "manifest"))
    core.events.subscribe(PageReleased, lambda e: pinner.release(str(e.cid)))
    backfill = RemotePinBackfill(
        core.store.messages,
        core.store.backfill,
        pinner,
        settings.boards,
        network.heads.walk_chain,
        replicas=settings.pin_service_replicas,
        rate=settings.pin_service_backfill_rate,
    )
    return RemotePinning(pinner, backfill)
