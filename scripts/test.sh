#!/usr/bin/env bash
# Run the whole test suite: installs what it needs (Python packages, js-ipfs, the Serverless
# CLI and Lambda wheels, Debian's chromium for the dashboard tests), then ruff and pytest.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check .
# As root, the tests run in a fresh network namespace with only loopback, so that no daemon,
# browser or CLI started by a test can reach anything off this machine. Everything that needs
# the network (pip, npm, apt, Lambda wheels) was installed above, outside it.
# pytest exits 5 when no test ran; set -e turns that into a failure, as it should be.
if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
  exec unshare --net -- sh -c 'ip link set lo up && exec .venv/bin/python -m pytest -q "$@"' sh "$@"
fi
echo "test.sh: cannot create a loopback-only network namespace; running on the host network" >&2
exec .venv/bin/python -m pytest -q "$@"
