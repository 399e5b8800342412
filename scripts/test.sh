#!/usr/bin/env bash
# Run the whole test suite: installs what it needs (Python packages, Kubo built from its Go
# module, js-ipfs, the Serverless CLI and Lambda wheels, Debian's chromium), then ruff and
# pytest: every test on Kubo, then the daemon-bound tests (core, storage, network) again on
# js-ipfs, the second implementation. Extra arguments go to a single pytest run instead
# (e.g. `scripts/test.sh tests/unit -x`, `scripts/test.sh --daemon=jsipfs tests/network`).
set -euo pipefail
cd "$(dirname "$0")/.."

suite() {
  if [ "$#" -gt 0 ]; then
    exec .venv/bin/python -m pytest -q "$@"
  fi
  echo "test.sh: every test, on Kubo"
  .venv/bin/python -m pytest -q
  echo "test.sh: the daemon-bound tests again, on js-ipfs"
  # Left out on js-ipfs: the Kubo-only tests.
  .venv/bin/python -m pytest -q --daemon=jsipfs tests/core tests/storage tests/network \
    --ignore=tests/storage/test_kubo.py --ignore=tests/network/test_mixed.py
}

if [ -n "${ONUSONE_IN_NETNS:-}" ]; then
  suite "$@"
  exit
fi
scripts/setup.sh dev
.venv/bin/ruff check .
# As root, the tests run in a fresh network namespace with only loopback, so that no daemon,
# browser or CLI started by a test can reach anything off this machine. Everything that needs
# the network (pip, npm, apt, Go modules, Lambda wheels) was installed above, outside it.
# pytest exits 5 when no test ran; set -e turns that into a failure, as it should be.
if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
  exec unshare --net -- env ONUSONE_IN_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
echo "test.sh: cannot create a loopback-only network namespace; running on the host network" >&2
suite "$@"
