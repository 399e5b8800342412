"""``python -m node serve | keygen | post | status``."""

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

import httpx

from crypto import CryptoError, NodeKey, sign_envelope
from node.protocol.envelope import now_ms
from node.runtime.logs import configure_logging
from node.settings import Settings, SettingsError, log_settings

log = logging.getLogger("node")

DEFAULT_USER_KEY = Path.home() / ".onusone" / "user.key"


def _node_url(args: argparse.Namespace) -> str:
    return args.node or f"http://127.0.0.1:{os.environ.get('PORT', '8888')}"


def _daemon_answers(api: str) -> bool:
    from storage.ipfs import api_url

    try:
        return httpx.post(f"{api_url(api)}/api/v0/id", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _why(kind: str, repo_dir: Path) -> str:
    from node.runtime.daemons import repo_kind
    from node.runtime.kubo import kubo_binary, pinned_version
    from node.runtime.local_ipfs import KUBO

    if repo_kind(repo_dir) == kind:
        return "its repo exists from an earlier run"
    if kind == KUBO:
        return f"Kubo found at {kubo_binary()}"
    return f"no Kubo {pinned_version()} installed (scripts/setup.sh builds it when Go is there)"


def listening_socket(host: str, port: int) -> socket.socket:
    """The HTTP socket, bound before anything else starts: a port that is taken ends ``serve``
    at once with a clear error, instead of after the daemon and the node's loops started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace) -> int:
    import dataclasses

    import uvicorn

    from node.http.app import create_app
    from node.runtime.daemons import local_daemon
    from node.runtime.data_dir_lock import DataDirInUse, DataDirLock
    from node.runtime.http_guard import guarded_protocol
    from node.runtime.local_ipfs import LocalDaemonError
    from node.runtime.services import NodeServices
    from node.runtime.supervisor import DaemonSupervisor
    from storage.url_credentials import without_password

    settings = Settings.from_env()
    try:
        lock = DataDirLock(settings.data_dir).acquire()
    except DataDirInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        listener = listening_socket(host, settings.port)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        lock.release()
        return 2
    daemon = None
    if settings.ipfs_api_set and not _daemon_answers(settings.ipfs_api):
        log.warning(
            "nothing answers at IPFS_API=%s yet: start that daemon (the node keeps trying), or"
            " leave IPFS_API unset to let the node start a local one in DATA_DIR",
            without_password(settings.ipfs_api),
        )
    if not settings.ipfs_api_set and not _daemon_answers(settings.ipfs_api):
        daemon = local_daemon(settings.data_dir.resolve() / "ipfs-repo")
        log.info(
            "no IPFS daemon answers at %s and IPFS_API is not set: starting a local %s daemon"
            " (%s; repo %s, 127.0.0.1 only, no bootstrap). Set IPFS_API to use your own Kubo.",
            settings.ipfs_api,
            daemon.name,
            _why(daemon.kind, daemon.repo_dir),
            daemon.repo_dir,
        )
        try:
            daemon.start()
        except LocalDaemonError as exc:
            print(f"error: {exc}", file=sys.stderr)
            lock.release()
            return 1
        settings = dataclasses.replace(settings, ipfs_api=daemon.api_multiaddr)
        log.info(
            "local %s daemon ready at %s (peer %s, PID %s, log %s)",
            daemon.name,
            daemon.api_url,
            daemon.peer_id,
            daemon.pid,
            daemon.log_path,
        )
    # uvicorn re-raises SIGTERM after its shutdown, so only lifespan shutdown runs reliably.
    services = NodeServices.from_settings(
        settings,
        supervisor=DaemonSupervisor(daemon) if daemon is not None else None,
        on_stop=[daemon.stop, lock.release] if daemon is not None else [lock.release],
    )
    try:
        config = uvicorn.Config(
            create_app(services),
            log_level=settings.log_level.lower(),
            log_config=None,  # the node's own logging (LOG_FORMAT) for uvicorn's lines too
            access_log=settings.log_level == "DEBUG",
            timeout_graceful_shutdown=5,
            # The node reads X-Forwarded-For itself, from TRUSTED_PROXIES only.
            proxy_headers=False,
            http=guarded_protocol(settings.limits),
        )
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        if daemon is not None:
            daemon.stop()
    return 0


def keygen(args: argparse.Namespace) -> int:
    path = Path(args.out)
    if path.exists():
        print(f"{path} exists; not overwriting it", file=sys.stderr)
        return 1
    key = NodeKey.generate()
    key.save(path)
    print(json.dumps({"keyFile": str(path), "pubkey": key.public_hex}))
    return 0


def post(args: argparse.Namespace) -> int:
    key = NodeKey.load(Path(args.key))
    unsigned = {
        "v": 1,
        "type": "message",
        "board": args.board,
        "content": args.text,
        "author": args.author,
        "ts": now_ms(),
    }
    if args.parent:
        unsigned["parent"] = args.parent
    envelope = sign_envelope(unsigned, key)
    response = httpx.post(f"{_node_url(args)}/api/broadcast", json=envelope, timeout=30)
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code < 400 else 1


def status(args: argparse.Namespace) -> int:
    response = httpx.get(f"{_node_url(args)}/api/status", timeout=10)
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code == 200 else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m node", description="OnusOne content node")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the node (HTTP API on PORT, default 8888)").set_defaults(
        run=serve
    )

    p = commands.add_parser("keygen", help="create your own Ed25519 key file (mode 0600)")
    p.add_argument("--out", default=str(DEFAULT_USER_KEY))
    p.set_defaults(run=keygen)

    p = commands.add_parser("post", help="sign a message locally with your key and post it")
    p.add_argument("text")
    p.add_argument("--board", default="general")
    p.add_argument("--author", default=os.environ.get("USER", "anonymous"))
    p.add_argument("--key", default=str(DEFAULT_USER_KEY))
    p.add_argument("--parent", help="CID of the message replied to")
    p.add_argument("--node", help="node URL (default http://127.0.0.1:$PORT)")
    p.set_defaults(run=post)

    p = commands.add_parser("status", help="print a node's /api/status")
    p.add_argument("--node", help="node URL (default http://127.0.0.1:$PORT)")
    p.set_defaults(run=status)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        configure_logging(*log_settings())
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (SettingsError, CryptoError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the node: {exc}", file=sys.stderr)
        return 1
