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

# Deploy tooling (dev): Serverless Framework v3 and its plugins from the committed root lock, and
# a wheelhouse of Lambda (manylinux, CPython 3.11 and 3.12) wheels of requirements.txt that
# `serverless package` installs from without a network (pure-Python sdists are built once here).
if [ "$kind" = dev ]; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  wheels=.lambda-wheels
  if [ ! -f "$wheels/.complete" ] || [ requirements.txt -nt "$wheels/.complete" ]; then
    rm -rf "$wheels"
    .venv/bin/python -m pip wheel -qq --disable-pip-version-check -w "$wheels" -r requirements.txt
    for version in 3.11 3.12; do
      .venv/bin/python -m pip download -qq --disable-pip-version-check -d "$wheels" \
        --find-links "$wheels" --platform manylinux2014_x86_64 --implementation cp \
        --python-version "$version" --only-binary=:all: -r requirements.txt
    done
    touch "$wheels/.complete"
  fi
fi

# Dashboard browser tests (tests/http): Playwright drives Debian's chromium, because its own
# browser download does not work here. Benchmarks (python -m bench) load the API with wrk.
# Installed once, as root (CI) or through sudo.
if [ "$kind" = dev ]; then
  missing=""
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  command -v wrk >/dev/null || missing="$missing wrk"
  if [ -n "$missing" ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
    $sudo_cmd apt-get update -q
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
  fi
fi
