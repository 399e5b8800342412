#!/usr/bin/env bash
# Install what the node needs into ./.venv and ./jsipfs/node_modules (idempotent, quick when
# nothing changed). Usage: scripts/setup.sh [runtime|dev|deploy]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-runtime}
python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
reqs=requirements.txt
[ "$kind" = dev ] && reqs=requirements-dev.txt
stamp=.venv/.installed-$kind
# The dev set includes the runtime set: a venv installed for the tests serves the node too.
[ "$kind" != dev ] && [ -f .venv/.installed-dev ] && [ ! requirements.txt -nt .venv/.installed-dev ] && stamp=.venv/.installed-dev
if [ ! -f "$stamp" ] || [ "$reqs" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  echo "setup: installing Python packages from $reqs"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$reqs"
  touch "$stamp"
fi

# Deploy tooling (dev and deploy): Serverless Framework v3 and its plugins from the committed
# root lock, and a wheelhouse of Lambda (manylinux, CPython 3.11 and 3.12) wheels of
# requirements.txt that `serverless package` installs from without a network (pure-Python sdists
# are built once here).
deploy_tooling() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing the Serverless CLI (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  wheels=.lambda-wheels
  if [ ! -f "$wheels/.complete" ] || [ requirements.txt -nt "$wheels/.complete" ]; then
    echo "setup: building the Lambda wheelhouse in $wheels"
    rm -rf "$wheels"
    .venv/bin/python -m pip wheel -qq --disable-pip-version-check -w "$wheels" -r requirements.txt
    for version in 3.11 3.12; do
      .venv/bin/python -m pip download -qq --disable-pip-version-check -d "$wheels" \
        --find-links "$wheels" --platform manylinux2014_x86_64 --implementation cp \
        --python-version "$version" --only-binary=:all: -r requirements.txt
    done
    touch "$wheels/.complete"
  fi
}

# A deploy-only machine needs the Python packages and the deploy tooling, nothing to run or test
# a node locally (no Kubo, no js-ipfs, no test tools, no browsers).
if [ "$kind" = deploy ]; then
  deploy_tooling
  echo "setup: ready to package and deploy (npx serverless package / deploy)"
  exit 0
fi

# Kubo at the version pinned in scripts/versions.env: an `ipfs` of that version on PATH, or a
# build from Kubo's own Go module cached outside the checkout (keyed by version, so fresh clones
# and CI on this machine reuse it). `go install kubo/cmd/ipfs@v…` refuses Kubo's go.mod (it has
# exclude/replace directives), so the module is downloaded and built as the main module.
. scripts/versions.env
cache=${ONUSONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onusone}
kubo_bin=$cache/kubo-$KUBO_VERSION/bin/ipfs
if command -v ipfs >/dev/null && [ "$(ipfs version --number 2>/dev/null)" = "${KUBO_VERSION#v}" ]; then
  :
elif [ -x "$kubo_bin" ]; then
  :
elif command -v go >/dev/null; then
  echo "setup: building Kubo $KUBO_VERSION from its Go module into $kubo_bin (first run only; about 3 minutes on 2 cores)"
  kubo_src=$(go mod download -json "github.com/ipfs/kubo@$KUBO_VERSION" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$(dirname "$kubo_bin")"
  (cd "$kubo_src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$kubo_bin.partial" ./cmd/ipfs)
  mv "$kubo_bin.partial" "$kubo_bin"
elif [ "$kind" = dev ]; then
  echo "setup: the tests run on Kubo $KUBO_VERSION, which is not installed and cannot be built here: install Go 1.26 or newer (scripts/setup.sh then builds Kubo), or put an ipfs $KUBO_VERSION on PATH" >&2
  exit 1
else
  echo "setup: no Kubo $KUBO_VERSION and no Go to build it: the node will start js-ipfs if it needs a local daemon" >&2
fi

# IPFS Cluster at the version pinned in scripts/versions.env, for the tests of replicated
# pinning (a real 3-peer cluster, tests/support/cluster.py): built from its Go module into the
# same cache, like Kubo (its go.mod has replace directives too). About 2 minutes on 2 cores
# plus the module downloads (5.5 minutes measured on a loaded machine, first run only).
cluster_bin=$cache/ipfs-cluster-$IPFS_CLUSTER_VERSION/bin
if [ -x "$cluster_bin/ipfs-cluster-service" ] && [ -x "$cluster_bin/ipfs-cluster-ctl" ]; then
  :
elif command -v go >/dev/null; then
  echo "setup: building IPFS Cluster $IPFS_CLUSTER_VERSION from its Go module into $cluster_bin (first run only)"
  cluster_src=$(go mod download -json "github.com/ipfs-cluster/ipfs-cluster@$IPFS_CLUSTER_VERSION" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  mkdir -p "$cluster_bin.partial"
  (cd "$cluster_src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$cluster_bin.partial/" ./cmd/ipfs-cluster-service ./cmd/ipfs-cluster-ctl)
  rm -rf "$cluster_bin" && mv "$cluster_bin.partial" "$cluster_bin"
elif [ "$kind" = dev ]; then
  echo "setup: the replicated-pinning tests need IPFS Cluster $IPFS_CLUSTER_VERSION, which cannot be built here: install Go 1.26 or newer" >&2
  exit 1
fi

# js-ipfs 0.66.1 from the committed lock: the local daemon for development and tests.
if [ ! -f jsipfs/node_modules/.package-lock.json ] || [ jsipfs/package-lock.json -nt jsipfs/node_modules/.package-lock.json ]; then
  echo "setup: installing js-ipfs 0.66.1 (npm ci --prefix jsipfs)"
  npm ci --prefix jsipfs --no-audit --no-fund --loglevel=error
fi

# Client SDK test tooling (dev): React, esbuild and TypeScript from client/package-lock.json
# for the SDK's own tests (the SDK itself has no dependencies).
if [ "$kind" = dev ]; then
  if [ ! -f client/node_modules/.package-lock.json ] || [ client/package-lock.json -nt client/node_modules/.package-lock.json ]; then
    npm ci --prefix client --no-audit --no-fund --loglevel=error
  fi
fi

if [ "$kind" = dev ]; then
  deploy_tooling
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
    echo "setup: installing$missing from Debian's packages"
    $sudo_cmd apt-get update -q
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
  fi
fi
