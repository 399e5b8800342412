"""Which local daemon to start: Kubo when it is installed, js-ipfs otherwise, and an existing
repo keeps the implementation that created it."""

from pathlib import Path

from node.runtime.jsipfs import JsIpfsDaemon
from node.runtime.kubo import KuboDaemon, kubo_binary
from node.runtime.local_ipfs import JSIPFS, KUBO, LocalDaemonError, LocalIpfsDaemon

CLASSES: dict[str, type[LocalIpfsDaemon]] = {KUBO: KuboDaemon, JSIPFS: JsIpfsDaemon}


def daemon_class(kind: str) -> type[LocalIpfsDaemon]:
    if kind not in CLASSES:
        raise LocalDaemonError(f"unknown daemon kind {kind!r} (one of {', '.join(CLASSES)})")
    return CLASSES[kind]


def local_daemon(repo_dir: Path, kind: str | None = None) -> LocalIpfsDaemon:
    """A daemon of ``kind`` (default: Kubo when it is installed, js-ipfs otherwise). An
    existing repo keeps the implementation that created it."""
    repo_dir = Path(repo_dir)
    if kind is None:
        existing = repo_kind(repo_dir)
        kind = existing or (KUBO if kubo_binary() is not None else JSIPFS)
    return daemon_class(kind)(repo_dir)


def repo_kind(repo_dir: Path) -> str | None:
    """Which implementation created a repo: Kubo keeps its keys in ``keystore/``, js-ipfs in
    ``keys/``."""
    if (repo_dir / "keystore").is_dir():
        return KUBO
    if (repo_dir / "keys").is_dir():
        return JSIPFS
    return None
