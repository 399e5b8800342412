#!/usr/bin/env bash
# Install what the node needs (idempotent, quick when nothing changed). One line per step; the
# tools' own output goes to .setup.log, which a failed step names.
# Usage: scripts/setup.sh [runtime|dev|deploy]
#   runtime  what `scripts/serve.sh` runs: .venv with requirements.txt, and a local daemon:
#            Kubo built from its Go module, or js-ipfs where Kubo cannot be built
#   dev      runtime plus everything the tests need: both daemons, IPFS Cluster, the client's
#            and the Serverless CLI's npm packages, the Lambda wheelhouse, chromium and wrk
#   deploy   .venv, the Serverless CLI and the Lambda wheelhouse: enough to package and deploy
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-runtime}
python=${PYTHON:-python3}
log=$PWD/.setup.log
: >"$log"

# step "what it does" command...: runs the command with its output in the log.
step() {
  local what=$1
  shift
  echo "setup: $what"
  echo "== $what" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    echo "setup: failed: $what; the last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}

export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

if [ ! -x .venv/bin/python ]; then
  step "creating .venv" "$python" -m venv .venv
fi
reqs=requirements.txt
[ "$kind" = dev ] && reqs=requirements-dev.txt
stamp=.venv/.installed-$kind
# The dev set includes the runtime set: a venv installed for the tests serves the node too.
[ "$kind" != dev ] && [ -f .venv/.installed-dev ] && [ ! requirements.txt -nt .venv/.installed-dev ] && stamp=.venv/.installed-dev
if [ ! -f "$stamp" ] || [ "$reqs" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  step "installing Python packages from $reqs" \
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$reqs"
  touch "$stamp"
fi

# Deploy tooling (dev and deploy): Serverless Framework v3 and its plugins from the committed
# root lock, and a wheelhouse of Lambda (manylinux, CPython 3.11 and 3.12) wheels of
# requirements.txt that `serverless package` installs from without a network (pure-Python sdists
# are built once here).
lambda_wheels() {
  local wheels=.lambda-wheels
  rm -rf "$wheels"
  .venv/bin/python -m pip wheel -qq --disable-pip-version-check -w "$wheels" -r requirements.txt \
    || return 1
  for version in 3.11 3.12; do
    .venv/bin/python -m pip download -qq --disable-pip-version-check -d "$wheels" \
      --find-links "$wheels" --platform manylinux2014_x86_64 --implementation cp \
      --python-version "$version" --only-binary=:all: -r requirements.txt || return 1
  done
  touch "$wheels/.complete"
}

deploy_tooling() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "installing the Serverless CLI (npm ci)" npm ci --loglevel=error
  fi
  if [ ! -f .lambda-wheels/.complete ] || [ requirements.txt -nt .lambda-wheels/.complete ]; then
    step "building the Lambda wheelhouse in .lambda-wheels" lambda_wheels
  fi
}

# A deploy-only machine needs the Python packages and the deploy tooling, nothing to run or test
# a node locally (no Kubo, no js-ipfs, no test tools, no browsers).
if [ "$kind" = deploy ]; then
  deploy_tooling
  echo "setup: ready to package and deploy (npx serverless package / deploy)"
  exit 0
fi

# A Go module built as the main module into the cache (`go install …@v…` refuses Kubo's and
# IPFS Cluster's go.mod, which have replace/exclude directives): go_build MODULE@VERSION OUT PKG...
go_build() {
  local module=$1 out=$2
  shift 2
  local src
  src=$(go mod download -json "$module" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])') \
    || return 1
  (cd "$src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$out" "$@")
}

# Kubo at the version pinned in scripts/versions.env: an `ipfs` of that version on PATH, or a
# build from Kubo's own Go module cached outside the checkout (keyed by version, so fresh clones
# and CI on this machine reuse it).
. scripts/versions.env
cache=${ONUSONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onusone}
kubo_bin=$cache/kubo-$KUBO_VERSION/bin/ipfs
kubo=yes
if command -v ipfs >/dev/null && [ "$(ipfs version --number 2>/dev/null)" = "${KUBO_VERSION#v}" ]; then
  :
elif [ -x "$kubo_bin" ]; then
  :
elif command -v go >/dev/null; then
  mkdir -p "$(dirname "$kubo_bin")"
  step "building Kubo $KUBO_VERSION from its Go module (first run only; about 3 minutes on 2 cores)" \
    go_build "github.com/ipfs/kubo@$KUBO_VERSION" "$kubo_bin.partial" ./cmd/ipfs
  mv "$kubo_bin.partial" "$kubo_bin"
elif [ "$kind" = dev ]; then
  echo "setup: the tests run on Kubo $KUBO_VERSION, which is not installed and cannot be built here: install Go 1.26 or newer (scripts/setup.sh then builds Kubo), or put an ipfs $KUBO_VERSION on PATH" >&2
  exit 1
else
  kubo=no
  echo "setup: no Kubo $KUBO_VERSION and no Go to build it: the node will start js-ipfs if it needs a local daemon" >&2
fi

# js-ipfs 0.66.1 from the committed lock: the second implementation the tests run on, and the
# local daemon of `serve` where Kubo cannot be built.
if [ "$kind" = dev ] || [ "$kubo" = no ]; then
  if [ ! -f jsipfs/node_modules/.package-lock.json ] || [ jsipfs/package-lock.json -nt jsipfs/node_modules/.package-lock.json ]; then
    step "installing js-ipfs 0.66.1 (npm ci --prefix jsipfs)" npm ci --prefix jsipfs --loglevel=error
  fi
fi

if [ "$kind" != dev ]; then
  exit 0
fi

# IPFS Cluster at the version pinned in scripts/versions.env, for the tests of replicated
# pinning (a real 3-peer cluster, tests/support/cluster.py), built like Kubo into the same cache.
cluster_bin=$cache/ipfs-cluster-$IPFS_CLUSTER_VERSION/bin
if [ ! -x "$cluster_bin/ipfs-cluster-service" ] || [ ! -x "$cluster_bin/ipfs-cluster-ctl" ]; then
  if ! command -v go >/dev/null; then
    echo "setup: the replicated-pinning tests need IPFS Cluster $IPFS_CLUSTER_VERSION, which cannot be built here: install Go 1.26 or newer" >&2
    exit 1
  fi
  mkdir -p "$cluster_bin.partial"
  step "building IPFS Cluster $IPFS_CLUSTER_VERSION from its Go module (first run only)" \
    go_build "github.com/ipfs-cluster/ipfs-cluster@$IPFS_CLUSTER_VERSION" "$cluster_bin.partial/" \
    ./cmd/ipfs-cluster-service ./cmd/ipfs-cluster-ctl
  rm -rf "$cluster_bin" && mv "$cluster_bin.partial" "$cluster_bin"
fi

# Client SDK test tooling: React, esbuild and TypeScript from client/package-lock.json for the
# SDK's own tests (the SDK itself has no dependencies).
if [ ! -f client/node_modules/.package-lock.json ] || [ client/package-lock.json -nt client/node_modules/.package-lock.json ]; then
  step "installing the client SDK's test tools (npm ci --prefix client)" \
    npm ci --prefix client --loglevel=error
fi

deploy_tooling

# Dashboard browser tests (tests/http): Playwright drives Debian's chromium, because its own
# browser download does not work here. Benchmarks (python -m bench) load the API with wrk.
# Installed once, as root (CI) or through sudo.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v wrk >/dev/null || missing="$missing wrk"
if [ -n "$missing" ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  step "apt-get update" $sudo_cmd apt-get update -q
  step "installing$missing from Debian's packages" \
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
