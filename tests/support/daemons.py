"""Which daemon implementation the tests run on: Kubo by default, js-ipfs with
``--daemon=jsipfs`` (or ``TEST_DAEMON=jsipfs``). A test that needs a particular one (the mixed
network) names it. A missing daemon is an error, never a skip: scripts/setup.sh installs both.
"""

import os
from pathlib import Path

from node.runtime.daemons import daemon_class
from node.runtime.local_ipfs import JSIPFS, KUBO, LocalIpfsDaemon

KINDS = (KUBO, JSIPFS)
default_kind = os.environ.get("TEST_DAEMON", KUBO)


def new_daemon(repo_dir: Path, kind: str | None = None) -> LocalIpfsDaemon:
    return daemon_class(kind or default_kind)(repo_dir)


def start_daemon(repo_dir: Path, kind: str | None = None) -> LocalIpfsDaemon:
    return new_daemon(repo_dir, kind).start()
