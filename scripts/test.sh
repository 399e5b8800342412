#!/usr/bin/env bash
# Run the whole test suite: installs what it needs (Python packages, js-ipfs, the Serverless
# CLI, Debian's chromium for the dashboard tests), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check .
# pytest exits 5 when no test ran; set -e turns that into a failure, as it should be.
.venv/bin/python -m pytest -q "$@"
