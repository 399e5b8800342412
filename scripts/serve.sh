#!/usr/bin/env bash
# Run the node: installs what it needs, then `python -m node serve` (starts a local js-ipfs
# daemon when none answers at IPFS_API and IPFS_API is not set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh runtime
exec .venv/bin/python -m node serve "$@"
