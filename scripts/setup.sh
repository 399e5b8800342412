#!/usr/bin/env bash
# Install what the node needs into ./.venv and ./jsipfs/node_modules (idempotent, quick when
# nothing changed). Usage: scripts/setup.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-runtime}
python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
reqs=requirements.txt
[ "$kind" = dev ] && reqs=requirements-dev.txt
stamp=.venv/.installed-$kind
if [ ! -f "$stamp" ] || [ "$reqs" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$reqs"
  touch "$stamp"
fi

# js-ipfs 0.66.1 from the committed lock: the local daemon for development and tests.
if [ ! -f jsipfs/node_modules/.package-lock.json ] || [ jsipfs/package-lock.json -nt jsipfs/node_modules/.package-lock.json ]; then
  npm ci --prefix jsipfs --no-audit --no-fund --loglevel=error
fi
